"""Alipay: notices signed by a locally generated "Alipay" key are verified (RSA2) before anything is credited,
and query/refund calls go to a loopback server that plays Alipay's gateway and signs its answers."""

import json
import urllib.parse

import pytest
from django.urls import reverse

from wuji.ledger import services as ledger
from wuji.payments import gateways
from wuji.payments import services as payments
from wuji.payments.choices import NoticeOutcome, TopUpStatus
from wuji.payments.models import PaymentNotice

from .conftest import ALIPAY_APP_ID, alipay_notice, alipay_request_unsigned, alipay_response, public_pem, rsa2_verify

URL = "/payments/notify/alipay/"
START = 100_00  # the customer fixture's balance


@pytest.fixture
def topup(alipay, customer):
    return payments.create_topup(customer=customer, amount_fen=123_45, channel="alipay", ip="198.51.100.1")


def cash(customer) -> int:
    return ledger.balances(customer)["cash"]


def test_notify_url_is_the_portal_route():
    assert reverse("portal:alipay_notify") == URL


def test_a_valid_notice_credits_once_and_is_logged(client, keys, topup, customer):
    notice = alipay_notice(topup, keys["alipay"])
    response = client.post(URL, notice)
    assert response.status_code == 200 and response.content == b"success"
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and topup.channel_trade_no == notice["trade_no"]
    assert cash(customer) == START + 123_45
    assert topup.ledger_transaction.idempotency_key == f"topup:alipay:{notice['trade_no']}"
    log = PaymentNotice.objects.get()
    assert (log.verified, log.outcome, log.out_trade_no, log.amount_fen, log.topup) == (
        True, NoticeOutcome.CREDITED, topup.out_trade_no, 123_45, topup)
    assert "sign" not in log.summary and log.summary["trade_status"] == "TRADE_SUCCESS"


def test_three_identical_notices_credit_once(client, keys, topup, customer):
    notice = alipay_notice(topup, keys["alipay"])
    for _ in range(3):
        assert client.post(URL, notice).content == b"success"
    assert cash(customer) == START + 123_45
    outcomes = list(PaymentNotice.objects.order_by("id").values_list("outcome", "repeated"))
    assert outcomes == [(NoticeOutcome.CREDITED, False), (NoticeOutcome.DUPLICATE, True),
                        (NoticeOutcome.DUPLICATE, True)]


def test_a_tampered_notice_is_refused(client, keys, topup, customer):
    notice = alipay_notice(topup, keys["alipay"])
    tampered = dict(notice, total_amount="99999.00")  # the signature was over 123.45
    response = client.post(URL, tampered)
    assert response.status_code == 400 and response.content == b"fail"
    assert cash(customer) == START
    log = PaymentNotice.objects.get()
    assert (log.verified, log.outcome, log.detail) == (False, NoticeOutcome.REFUSED, "bad signature")


def test_a_notice_signed_with_another_key_is_refused(client, keys, topup, customer):
    assert client.post(URL, alipay_notice(topup, keys["intruder"])).content == b"fail"
    assert client.post(URL, alipay_notice(topup, keys["app"])).content == b"fail"  # our own key is not Alipay's
    unsigned = alipay_notice(topup, keys["alipay"])
    del unsigned["sign"]
    assert client.post(URL, unsigned).content == b"fail"
    rsa1 = alipay_notice(topup, keys["alipay"], sign_type="RSA")
    assert client.post(URL, rsa1).content == b"fail"
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PENDING and cash(customer) == START
    assert set(PaymentNotice.objects.values_list("outcome", flat=True)) == {NoticeOutcome.REFUSED}


def test_an_amount_mismatch_is_refused_even_when_signed(client, keys, topup, customer):
    response = client.post(URL, alipay_notice(topup, keys["alipay"], total_amount="1.00"))
    assert response.content == b"fail"
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PENDING and cash(customer) == START
    log = PaymentNotice.objects.get()
    assert (log.verified, log.outcome, log.detail, log.topup) == (True, NoticeOutcome.REFUSED, "amount mismatch", topup)


def test_an_unknown_trade_number_is_refused(client, keys, topup, customer):
    notice = alipay_notice(topup, keys["alipay"], out_trade_no="T20260101000000FFFFFFFFFFFF")
    assert client.post(URL, notice).content == b"fail"
    assert cash(customer) == START
    assert PaymentNotice.objects.get().detail == "unknown trade number"


def test_another_app_id_or_seller_is_refused(client, keys, topup, customer):
    assert client.post(URL, alipay_notice(topup, keys["alipay"], app_id="2021000999999999")).content == b"fail"
    assert client.post(URL, alipay_notice(topup, keys["alipay"], seller_id="2088000000000000")).content == b"fail"
    assert cash(customer) == START
    assert all(log.verified and log.outcome == NoticeOutcome.REFUSED for log in PaymentNotice.objects.all())


def test_waiting_and_refund_notices_are_acknowledged_but_credit_nothing(client, keys, topup, customer):
    waiting = alipay_notice(topup, keys["alipay"], trade_status="WAIT_BUYER_PAY")
    refund = alipay_notice(topup, keys["alipay"], refund_fee="10.00", gmt_refund="2026-11-27 10:00:00",
                           out_biz_no="RF1")
    assert client.post(URL, waiting).content == b"success"
    assert client.post(URL, refund).content == b"success"
    assert cash(customer) == START
    assert list(PaymentNotice.objects.values_list("outcome", flat=True)) == [NoticeOutcome.IGNORED] * 2


def test_a_notice_for_an_expired_order_still_credits(client, keys, topup, customer, travel):
    travel(hours=2, minutes=1)
    assert payments.expire_topup(topup.pk)
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.EXPIRED
    assert client.post(URL, alipay_notice(topup, keys["alipay"])).content == b"success"
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and cash(customer) == START + 123_45
    assert "expired" in PaymentNotice.objects.get().detail


def test_notices_are_refused_when_alipay_is_not_configured(client, keys, topup, customer, settings):
    notice = alipay_notice(topup, keys["alipay"])
    settings.WUJI_ALIPAY_APP_ID = ""
    assert client.post(URL, notice).content == b"fail"
    assert cash(customer) == START
    assert client.get(URL).status_code == 405


def test_page_pay_url_is_signed_with_our_app_key(keys, topup, settings):
    pay = gateways.get("alipay").create_payment(topup)
    base, query = pay.pay_url.split("?", 1)
    assert base == settings.WUJI_ALIPAY_GATEWAY
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    assert params["method"] == "alipay.trade.page.pay" and params["app_id"] == ALIPAY_APP_ID
    assert params["notify_url"] == settings.WUJI_ALIPAY_NOTIFY_URL and params["sign_type"] == "RSA2"
    biz = json.loads(params["biz_content"])
    assert biz["out_trade_no"] == topup.out_trade_no and biz["total_amount"] == "123.45"
    assert biz["product_code"] == "FAST_INSTANT_TRADE_PAY" and biz["time_expire"]
    assert rsa2_verify(keys["app"], alipay_request_unsigned(params), params["sign"])
    assert not rsa2_verify(keys["intruder"], alipay_request_unsigned(params), params["sign"])


# --- Query, refund and refund query against a loopback "Alipay" ------------------------------------------


def alipay_server(loopback, keys, answers: dict, *, signing_key=None):
    """Answers each method with answers[method](biz_content); checks our request signature first."""
    def handle(request):
        params = request["query"]
        if not rsa2_verify(keys["app"], alipay_request_unsigned(params), params.get("sign", "")):
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"error_response": {"code": "40002", "sub_code": "isv.invalid-signature"}})
        answer = answers[params["method"]](json.loads(params["biz_content"]))
        return 200, {"Content-Type": "application/json;charset=utf-8"}, alipay_response(
            signing_key or keys["alipay"], params["method"], answer)
    return loopback(handle)


def test_reconciliation_credits_an_order_the_notice_never_reached(loopback, keys, topup, customer, settings, travel):
    trade = {"code": "10000", "msg": "Success", "trade_status": "TRADE_SUCCESS", "trade_no": "2026112722001999",
             "out_trade_no": topup.out_trade_no, "total_amount": "123.45"}
    server = alipay_server(loopback, keys, {"alipay.trade.query": lambda biz: dict(trade)})
    settings.WUJI_ALIPAY_GATEWAY = server.url + "/gateway.do"
    assert payments.reconcile_topups()["queried"] == 0  # too young to ask about
    travel(minutes=6)
    assert payments.reconcile_topups() == {"queried": 1, "credited": 1, "expired": 0, "errors": 0}
    assert payments.reconcile_topups()["queried"] == 0  # paid: no longer pending
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and topup.channel_trade_no == "2026112722001999"
    assert cash(customer) == START + 123_45
    assert json.loads(server.requests[0]["query"]["biz_content"]) == {"out_trade_no": topup.out_trade_no}


def test_a_late_notice_after_the_query_credited_is_a_duplicate(client, loopback, keys, topup, customer, settings,
                                                               travel):
    trade = {"code": "10000", "trade_status": "TRADE_SUCCESS", "trade_no": "2026112722001777",
             "total_amount": "123.45"}
    settings.WUJI_ALIPAY_GATEWAY = alipay_server(loopback, keys, {"alipay.trade.query": lambda b: trade}).url
    travel(minutes=6)
    payments.reconcile_topups()
    assert client.post(URL, alipay_notice(topup, keys["alipay"], trade_no="2026112722001777")).content == b"success"
    assert cash(customer) == START + 123_45
    assert PaymentNotice.objects.get().outcome == NoticeOutcome.DUPLICATE


def test_reconciliation_closes_expired_unpaid_orders_and_keeps_young_ones(loopback, keys, alipay, customer, settings,
                                                                          travel):
    old = payments.create_topup(customer=customer, amount_fen=10_00, channel="alipay", ip=None)
    travel(minutes=90)
    young = payments.create_topup(customer=customer, amount_fen=20_00, channel="alipay", ip=None)
    answers = {old.out_trade_no: {"code": "10000", "trade_status": "WAIT_BUYER_PAY", "total_amount": "10.00"},
               young.out_trade_no: {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}}
    settings.WUJI_ALIPAY_GATEWAY = alipay_server(
        loopback, keys, {"alipay.trade.query": lambda biz: answers[biz["out_trade_no"]]}).url
    travel(minutes=31)  # old is 2 h 1 min old, young 31 min
    assert payments.reconcile_topups() == {"queried": 2, "credited": 0, "expired": 1, "errors": 0}
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == TopUpStatus.EXPIRED and old.closed_at and young.status == TopUpStatus.PENDING
    assert cash(customer) == START


def test_a_query_answer_signed_by_someone_else_is_not_believed(loopback, keys, topup, customer, settings, travel):
    forged = {"code": "10000", "trade_status": "TRADE_SUCCESS", "trade_no": "X", "total_amount": "123.45"}
    server = alipay_server(loopback, keys, {"alipay.trade.query": lambda biz: forged}, signing_key=keys["intruder"])
    settings.WUJI_ALIPAY_GATEWAY = server.url
    travel(minutes=6)
    assert payments.reconcile_topups() == {"queried": 0, "credited": 0, "expired": 0, "errors": 1}
    with pytest.raises(gateways.GatewayError, match="signature"):
        gateways.get("alipay").query(out_trade_no=topup.out_trade_no)
    assert cash(customer) == START


def test_an_unreachable_gateway_leaves_the_order_pending(keys, topup, customer, travel):
    travel(hours=3)  # even past its deadline: we do not know whether it was paid
    assert payments.reconcile_topups()["errors"] == 1
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PENDING


def test_refund_and_refund_query(loopback, keys, topup, settings):
    calls = []

    def refund(biz):
        calls.append(biz)
        first = len(calls) == 1
        return {"code": "10000", "msg": "Success", "trade_no": "2026112722001999", "refund_fee": "30.00",
                "fund_change": "Y" if first else "N"}

    answers = {
        "alipay.trade.refund": refund,
        "alipay.trade.fastpay.refund.query": lambda biz: (
            {"code": "10000", "trade_no": "2026112722001999", "out_request_no": biz["out_request_no"],
             "refund_amount": "30.00", "refund_status": "REFUND_SUCCESS"}
            if biz["out_request_no"] == "RF1" else {"code": "10000", "msg": "Success"}),
    }
    settings.WUJI_ALIPAY_GATEWAY = alipay_server(loopback, keys, answers).url
    gateway = gateways.get("alipay")
    args = dict(out_trade_no=topup.out_trade_no, channel_trade_no="2026112722001999", refund_no="RF1",
                amount_fen=30_00, total_fen=123_45, reason="余额退款")
    assert gateway.refund(**args).status == gateways.RefundStatus.SUCCEEDED
    assert gateway.refund(**args).status == gateways.RefundStatus.PENDING  # a repeat: fund_change N, query it
    assert calls[0] == {"out_trade_no": topup.out_trade_no, "refund_amount": "30.00", "out_request_no": "RF1",
                        "refund_reason": "余额退款"}
    assert gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no="RF1").status == "succeeded"
    assert gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no="RF2").status == "failed"


def test_refund_refusals_and_retryable_errors(loopback, keys, topup, settings):
    closed = {"code": "40004", "sub_code": "ACQ.TRADE_HAS_CLOSE", "sub_msg": "交易已经关闭"}
    busy = {"code": "40004", "sub_code": "ACQ.SYSTEM_ERROR", "sub_msg": "系统错误"}
    answers = {"alipay.trade.refund": lambda biz: closed if biz["out_request_no"] == "RF1" else busy}
    settings.WUJI_ALIPAY_GATEWAY = alipay_server(loopback, keys, answers).url
    gateway = gateways.get("alipay")
    args = dict(out_trade_no=topup.out_trade_no, channel_trade_no="T", amount_fen=1_00, total_fen=123_45, reason="")
    result = gateway.refund(refund_no="RF1", **args)
    assert result.status == gateways.RefundStatus.FAILED and "ACQ.TRADE_HAS_CLOSE" in result.message
    with pytest.raises(gateways.GatewayError):
        gateway.refund(refund_no="RF2", **args)


def test_keys_as_pem_text_or_path_and_missing_credentials(keys, alipay, settings):
    assert gateways.get("alipay").enabled()
    settings.WUJI_ALIPAY_PRIVATE_KEY = "/nonexistent/key.pem"
    with pytest.raises(gateways.GatewayError, match="cannot read"):
        gateways.get("alipay").client()
    settings.WUJI_ALIPAY_PUBLIC_KEY = ""
    assert not gateways.get("alipay").enabled() and "alipay" not in payments.online_channels()
    assert public_pem(keys["alipay"]).startswith("-----BEGIN PUBLIC KEY")
