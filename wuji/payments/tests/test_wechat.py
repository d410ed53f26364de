"""WeChat Pay APIv3: callbacks encrypted with the APIv3 key (AES-256-GCM) and signed with a locally generated
"platform" key are verified before anything is credited; Native pay, query and refunds go to a loopback
server that plays api.mch.weixin.qq.com (the SDK's base URL is redirected) and signs its answers."""

import base64
import json

import pytest

from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.payments import gateways
from wuji.payments import services as payments
from wuji.payments.choices import NoticeOutcome, TopUpStatus
from wuji.payments.models import PaymentNotice

from .conftest import (
    WECHAT_MCHID,
    WECHAT_SERIAL,
    as_django_headers,
    rsa2_verify,
    wechat_callback,
    wechat_response,
    wechat_transaction,
)

URL = "/payments/notify/wechat/"
START = 100_00


@pytest.fixture
def topup(wechat, customer):
    return payments.create_topup(customer=customer, amount_fen=88_00, channel="wechat", ip="198.51.100.1")


def cash(customer) -> int:
    return ledger.balances(customer)["cash"]


def post(client, body: str, headers: dict):
    return client.post(URL, data=body, content_type="application/json", **as_django_headers(headers))


def test_a_valid_callback_credits_once(client, keys, topup, customer):
    resource = wechat_transaction(topup)
    body, headers = wechat_callback(resource, keys["platform"])
    response = post(client, body, headers)
    assert response.status_code == 200 and response.json() == {"code": "SUCCESS", "message": "成功"}
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and topup.channel_trade_no == resource["transaction_id"]
    assert cash(customer) == START + 88_00
    log = PaymentNotice.objects.get()
    assert (log.verified, log.outcome, log.amount_fen) == (True, NoticeOutcome.CREDITED, 88_00)
    assert log.summary["trade_state"] == "SUCCESS"


def test_three_identical_callbacks_credit_once(client, keys, topup, customer):
    body, headers = wechat_callback(wechat_transaction(topup), keys["platform"])
    assert [post(client, body, headers).status_code for _ in range(3)] == [200, 200, 200]
    assert cash(customer) == START + 88_00
    assert list(PaymentNotice.objects.order_by("id").values_list("outcome", "repeated")) == [
        (NoticeOutcome.CREDITED, False), (NoticeOutcome.DUPLICATE, True), (NoticeOutcome.DUPLICATE, True)]


def test_a_tampered_body_is_refused(client, keys, topup, customer):
    body, headers = wechat_callback(wechat_transaction(topup), keys["platform"])
    tampered = body.replace("EV-2018022511223320873", "EV-2018022511223320874")
    assert tampered != body
    response = post(client, tampered, headers)
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert cash(customer) == START
    assert PaymentNotice.objects.get().verified is False


def test_a_callback_signed_with_another_key_is_refused(client, keys, topup, customer):
    body, headers = wechat_callback(wechat_transaction(topup), keys["intruder"])
    assert post(client, body, headers).status_code == 400
    body, headers = wechat_callback(wechat_transaction(topup), keys["merchant"])  # our own key is not WeChat's
    assert post(client, body, headers).status_code == 400
    assert cash(customer) == START


def test_a_resource_encrypted_with_another_apiv3_key_is_refused(client, keys, topup, customer):
    body, headers = wechat_callback(wechat_transaction(topup), keys["platform"],
                                    apiv3_key="b" * 32)  # correctly signed, but not decryptable by us
    assert post(client, body, headers).status_code == 400
    assert cash(customer) == START


# Offsets keep a 30 s margin from the 300 s window edge, so a slow test run cannot move them across it.
@pytest.mark.parametrize("offset", [-330, 330, -3600])
def test_a_stale_or_future_timestamp_is_refused(client, keys, topup, customer, offset):
    now = int(clock.now().timestamp())
    body, headers = wechat_callback(wechat_transaction(topup), keys["platform"], timestamp=now + offset)
    assert post(client, body, headers).status_code == 400
    assert cash(customer) == START
    assert "timestamp" in PaymentNotice.objects.get().detail


def test_a_timestamp_inside_the_window_is_accepted(client, keys, topup, customer):
    now = int(clock.now().timestamp())
    body, headers = wechat_callback(wechat_transaction(topup), keys["platform"], timestamp=now - 270)
    assert post(client, body, headers).status_code == 200
    assert cash(customer) == START + 88_00


def test_bad_headers_are_refused(client, keys, topup, customer):
    body, headers = wechat_callback(wechat_transaction(topup), keys["platform"])
    assert post(client, body, {**headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}).status_code == 400
    assert post(client, body, {**headers, "Wechatpay-Serial": "PUB_KEY_ID_SOMEONE_ELSE"}).status_code == 400
    assert post(client, body, {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}).status_code == 400
    assert post(client, body, {**headers, "Wechatpay-Timestamp": "yesterday"}).status_code == 400
    assert cash(customer) == START


def test_an_amount_mismatch_is_refused(client, keys, topup, customer):
    resource = wechat_transaction(topup, amount={"total": 1, "payer_total": 1, "currency": "CNY"})
    assert post(client, *wechat_callback(resource, keys["platform"])).status_code == 400
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PENDING and cash(customer) == START
    log = PaymentNotice.objects.get()
    assert (log.verified, log.detail) == (True, "amount mismatch")


def test_an_unknown_trade_number_is_refused(client, keys, topup, customer):
    resource = wechat_transaction(topup, out_trade_no="T20260101000000AAAAAAAAAAAA")
    assert post(client, *wechat_callback(resource, keys["platform"])).status_code == 400
    assert cash(customer) == START


def test_another_merchant_or_app_is_refused(client, keys, topup, customer):
    for wrong in ({"mchid": "1900000999"}, {"appid": "wx0000000000000000"}):
        resource = wechat_transaction(topup, **wrong)
        assert post(client, *wechat_callback(resource, keys["platform"])).status_code == 400
    assert cash(customer) == START
    assert all(log.verified for log in PaymentNotice.objects.all())


def test_a_non_success_event_is_acknowledged_without_credit(client, keys, topup, customer):
    resource = wechat_transaction(topup, trade_state="REFUND")
    assert post(client, *wechat_callback(resource, keys["platform"], event_type="REFUND.SUCCESS")).status_code == 200
    assert cash(customer) == START
    assert PaymentNotice.objects.get().outcome == NoticeOutcome.IGNORED


def test_a_callback_for_an_expired_order_still_credits(client, keys, topup, customer, travel):
    travel(hours=2, minutes=1)
    assert payments.reconcile_topups()["errors"] == 1  # WeChat unreachable: we cannot know, so it stays pending
    assert payments.expire_topup(topup.pk)
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.EXPIRED
    assert post(client, *wechat_callback(wechat_transaction(topup), keys["platform"])).status_code == 200
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and cash(customer) == START + 88_00


# --- The loopback "WeChat Pay" API ------------------------------------------------------------------------


def wechat_server(loopback, keys, routes: dict, *, signing_key=None):
    """routes[(method, path)](request) -> (status, answer). Checks our Authorization signature first."""
    def handle(request):
        auth = request["headers"].get("Authorization", "")
        fields = dict(part.split("=", 1) for part in auth.removeprefix("WECHATPAY2-SHA256-RSA2048 ").split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        message = f"{request['method']}\n{request['raw_path']}\n{fields['timestamp']}\n{fields['nonce_str']}\n" \
                  f"{request['body']}\n"
        if fields.get("mchid") != WECHAT_MCHID or fields.get("serial_no") != WECHAT_SERIAL \
                or not rsa2_verify(keys["merchant"], message, fields["signature"]):
            return wechat_response(keys["platform"], 401, {"code": "SIGN_ERROR", "message": "签名错误"})
        status, answer = routes[(request["method"], request["path"])](request)
        return wechat_response(signing_key or keys["platform"], status, answer)
    return loopback(handle)


def test_native_pay_gets_a_code_url_after_commit(loopback, keys, wechat, customer, settings):
    def native(request):
        body = json.loads(request["body"])
        assert body["amount"] == {"total": 66_00, "currency": "CNY"} and body["mchid"] == WECHAT_MCHID
        assert body["notify_url"] == settings.WUJI_WECHAT_NOTIFY_URL and body["time_expire"].endswith("+08:00")
        return 200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}

    server = wechat_server(loopback, keys, {("POST", "/v3/pay/transactions/native"): native})
    settings.WUJI_WECHAT_API_BASE = server.url
    topup = payments.create_topup(customer=customer, amount_fen=66_00, channel="wechat", ip=None)
    assert topup.code_url == "" and server.requests == []  # nothing called inside the transaction
    testing.run_tasks()
    topup.refresh_from_db()
    assert topup.code_url == "weixin://wxpay/bizpayurl?pr=p4lpSuKzz" and topup.channel_error == ""
    assert payments.payment_request(topup).code_url == topup.code_url


def test_native_pay_failure_is_kept_for_the_page(loopback, keys, wechat, customer, settings):
    server = wechat_server(loopback, keys, {("POST", "/v3/pay/transactions/native"): lambda r: (
        400, {"code": "PARAM_ERROR", "message": "参数错误"})})
    settings.WUJI_WECHAT_API_BASE = server.url
    topup = payments.create_topup(customer=customer, amount_fen=66_00, channel="wechat", ip=None)
    testing.run_tasks()
    topup.refresh_from_db()
    assert topup.code_url == "" and "PARAM_ERROR" in topup.channel_error
    assert payments.payment_request(topup) is None


def test_reconciliation_by_query(loopback, keys, topup, customer, settings, travel):
    path = f"/v3/pay/transactions/out-trade-no/{topup.out_trade_no}"
    state = {"trade_state": "NOTPAY"}

    def query(request):
        assert request["query"] == {"mchid": WECHAT_MCHID}
        answer = {"mchid": WECHAT_MCHID, "out_trade_no": topup.out_trade_no, **state,
                  "amount": {"total": 88_00, "currency": "CNY"}}
        return 200, answer

    settings.WUJI_WECHAT_API_BASE = wechat_server(loopback, keys, {("GET", path): query}).url
    travel(minutes=6)
    assert payments.reconcile_topups() == {"queried": 1, "credited": 0, "expired": 0, "errors": 0}
    state.update(trade_state="SUCCESS", transaction_id="4200002999")
    assert payments.reconcile_topups() == {"queried": 1, "credited": 1, "expired": 0, "errors": 0}
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and topup.channel_trade_no == "4200002999"
    assert cash(customer) == START + 88_00


def test_a_query_answer_with_a_bad_signature_is_not_believed(loopback, keys, topup, customer, settings, travel):
    path = f"/v3/pay/transactions/out-trade-no/{topup.out_trade_no}"
    answer = {"trade_state": "SUCCESS", "transaction_id": "X", "amount": {"total": 88_00}}
    settings.WUJI_WECHAT_API_BASE = wechat_server(loopback, keys, {("GET", path): lambda r: (200, answer)},
                                                  signing_key=keys["intruder"]).url
    travel(minutes=6)
    assert payments.reconcile_topups()["errors"] == 1
    assert cash(customer) == START


def test_an_order_unknown_to_wechat_expires_at_its_deadline(loopback, keys, topup, settings, travel):
    path = f"/v3/pay/transactions/out-trade-no/{topup.out_trade_no}"
    settings.WUJI_WECHAT_API_BASE = wechat_server(loopback, keys, {("GET", path): lambda r: (
        404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})}).url
    travel(minutes=119)
    assert payments.reconcile_topups()["expired"] == 0
    travel(minutes=2)
    assert payments.reconcile_topups()["expired"] == 1


def test_refund_and_refund_query(loopback, keys, topup, settings):
    def refund(request):
        body = json.loads(request["body"])
        assert body["amount"] == {"refund": 30_00, "total": 88_00, "currency": "CNY"}
        assert body["out_refund_no"] == "RF1" and body["out_trade_no"] == topup.out_trade_no
        return 200, {"refund_id": "50000000382019052709732678859", "out_refund_no": "RF1", "status": "PROCESSING"}

    routes = {
        ("POST", "/v3/refund/domestic/refunds"): refund,
        ("GET", "/v3/refund/domestic/refunds/RF1"): lambda r: (200, {"refund_id": "5000", "status": "SUCCESS"}),
        ("GET", "/v3/refund/domestic/refunds/RF2"): lambda r: (200, {"refund_id": "5001", "status": "ABNORMAL"}),
        ("GET", "/v3/refund/domestic/refunds/RF3"): lambda r: (404, {"code": "RESOURCE_NOT_EXISTS"}),
        ("GET", "/v3/refund/domestic/refunds/RF4"): lambda r: (429, {"code": "FREQUENCY_LIMITED"}),
    }
    settings.WUJI_WECHAT_API_BASE = wechat_server(loopback, keys, routes).url
    gateway = gateways.get("wechat")
    result = gateway.refund(out_trade_no=topup.out_trade_no, channel_trade_no="42", refund_no="RF1",
                            amount_fen=30_00, total_fen=88_00, reason="余额退款")
    assert (result.status, result.channel_refund_no) == ("pending", "50000000382019052709732678859")
    assert gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no="RF1").status == "succeeded"
    assert gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no="RF2").status == "failed"
    assert gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no="RF3").status == "failed"
    with pytest.raises(gateways.GatewayError):
        gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no="RF4")


def test_not_configured_is_not_offered(settings, wechat):
    assert "wechat" in payments.online_channels()
    settings.WUJI_WECHAT_APIV3_KEY = ""
    assert "wechat" not in payments.online_channels()
    with pytest.raises(gateways.GatewayError):
        gateways.get("wechat").client()


def test_the_helpers_encrypt_as_wechat_does(keys, topup):
    body, _headers = wechat_callback(wechat_transaction(topup), keys["platform"])
    resource = json.loads(body)["resource"]
    assert len(resource["nonce"]) == 12 and len(base64.b64decode(resource["ciphertext"])) > 16
