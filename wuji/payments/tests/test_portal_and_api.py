"""The customer's side: choosing a channel on the wallet page, Alipay's redirect, WeChat's QR page, the
bank-transfer page, the API — and that user B gets 404 on user A's top-ups and declarations everywhere."""

import json
import urllib.parse

import pytest
from django.urls import reverse

from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.core import clock, testing
from wuji.payments import services as payments
from wuji.payments.choices import TopUpStatus
from wuji.payments.models import BankTransfer, TopUp

from .conftest import wechat_response


@pytest.fixture
def bank(settings, tmp_path):
    settings.WUJI_BANK_ACCOUNT_NUMBER = "3602000009100123456"
    settings.WUJI_BANK_NAME = "中国工商银行赣州分行营业部"
    settings.WUJI_PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def all_channels(alipay, wechat, bank, settings):
    settings.WUJI_SANDBOX_PAYMENTS = True
    return settings


def test_wallet_offers_only_the_configured_channels(client, customer, settings):
    client.force_login(customer)
    page = client.get(reverse("portal:wallet")).content.decode()
    assert 'name="amount"' not in page and "在线充值暂未开放" in page
    settings.WUJI_BANK_ACCOUNT_NUMBER = "3602000009100123456"
    page = client.get(reverse("portal:wallet")).content.decode()
    assert reverse("portal:bank_transfer") in page and "在线充值暂未开放" not in page


def test_wallet_lists_every_enabled_channel(client, customer, all_channels):
    client.force_login(customer)
    response = client.get(reverse("portal:wallet"))
    assert response.context["channels"] == ["alipay", "wechat", "sandbox"]
    page = response.content.decode()
    assert 'value="alipay"' in page and 'value="wechat"' in page and "支付宝" in page and "微信支付" in page


def test_alipay_topup_redirects_to_the_signed_cashier(client, customer, alipay, settings):
    client.force_login(customer)
    response = client.post(reverse("portal:wallet"), {"amount": "100.00", "channel": "alipay"})
    topup = TopUp.objects.get(customer=customer)
    assert response.url == reverse("portal:topup_alipay", args=[topup.out_trade_no])
    cashier = client.get(response.url)
    assert cashier.status_code == 302 and cashier.url.startswith(settings.WUJI_ALIPAY_GATEWAY + "?")
    params = dict(urllib.parse.parse_qsl(cashier.url.split("?", 1)[1]))
    assert json.loads(params["biz_content"])["out_trade_no"] == topup.out_trade_no
    assert Instruction.objects.filter(action="topup.create", owner=customer, params__channel="alipay").exists()


def test_unknown_or_disabled_channel_is_a_form_error(client, customer, alipay):
    client.force_login(customer)
    response = client.post(reverse("portal:wallet"), {"amount": "100", "channel": "wechat"})
    assert response.status_code == 200 and "channel" in response.context["form"].errors
    assert not TopUp.objects.exists()


def test_wechat_topup_page_shows_the_qr_code_once_the_channel_answered(client, customer, wechat, settings, loopback,
                                                                        keys):
    server = loopback(lambda request: wechat_response(keys["platform"], 200, {"code_url": "weixin://wxpay/bizpayurl?pr=X"}))
    settings.WUJI_WECHAT_API_BASE = server.url
    client.force_login(customer)
    response = client.post(reverse("portal:wallet"), {"amount": "66", "channel": "wechat"})
    topup = TopUp.objects.get(customer=customer)
    assert response.url == reverse("portal:topup", args=[topup.out_trade_no])
    waiting = client.get(response.url).content.decode()
    assert "正在生成支付二维码" in waiting and 'http-equiv="refresh"' in waiting
    testing.run_tasks()
    page = client.get(response.url).content.decode()
    assert "<svg" in page and "weixin://wxpay/bizpayurl?pr=X" in page and 'http-equiv="refresh"' in page


def test_topup_history_shows_statuses(client, customer, alipay, travel):
    paid = payments.create_topup(customer=customer, amount_fen=10_00, channel="alipay", ip=None)
    payments.confirm_topup(out_trade_no=paid.out_trade_no, channel_trade_no="2026A", amount_fen=10_00,
                           channel="alipay")
    stale = payments.create_topup(customer=customer, amount_fen=20_00, channel="alipay", ip=None)
    travel(hours=3)
    payments.expire_topup(stale.pk)
    client.force_login(customer)
    page = client.get(reverse("portal:topups")).content.decode()
    assert "已到账" in page and "已关闭" in page and paid.out_trade_no in page and stale.out_trade_no in page
    detail = client.get(reverse("portal:topup", args=[stale.out_trade_no])).content.decode()
    assert "已超时关闭" in detail and 'http-equiv="refresh"' not in detail
    assert client.get(reverse("portal:topup_alipay", args=[stale.out_trade_no])).url == reverse(
        "portal:topup", args=[stale.out_trade_no])


def test_bank_transfer_page_shows_our_account_and_takes_a_declaration(client, customer, bank):
    client.force_login(customer)
    page = client.get(reverse("portal:bank_transfer")).content.decode()
    assert "3602000009100123456" in page and "中国工商银行赣州分行营业部" in page
    bad = client.post(reverse("portal:bank_transfer"), {"amount": "abc", "payer_name": "x", "payer_bank": "y",
                                                         "transfer_date": clock.local_now().date().isoformat()})
    assert "amount" in bad.context["form"].errors
    future = client.post(reverse("portal:bank_transfer"), {"amount": "1000", "payer_name": "x", "payer_bank": "y",
                                                            "transfer_date": "2099-01-01"})
    assert "不能晚于今天" in str(future.context["form"].errors["transfer_date"])
    ok = client.post(reverse("portal:bank_transfer"), {
        "amount": "1000.00", "payer_name": "某某公司", "payer_bank": "建设银行",
        "transfer_date": clock.local_now().date().isoformat(), "reference": "alice"}, follow=True)
    assert "已登记转账" in ok.content.decode()
    assert BankTransfer.objects.get(customer=customer).amount_fen == 1000_00


def test_bank_transfer_page_is_404_when_not_offered(client, customer):
    client.force_login(customer)
    assert client.get(reverse("portal:bank_transfer")).status_code == 404


# --- Owner boundaries ------------------------------------------------------------------------------------


@pytest.fixture
def alices(customer, all_channels):
    return {
        "alipay": payments.create_topup(customer=customer, amount_fen=10_00, channel="alipay", ip=None),
        "wechat": payments.create_topup(customer=customer, amount_fen=20_00, channel="wechat", ip=None),
        "transfer": payments.declare_bank_transfer(customer=customer, amount_fen=1000_00, payer_name="A",
                                                   payer_bank="B", transfer_date=clock.local_now().date()),
    }


def test_user_b_gets_404_on_a_s_topups_in_the_portal(client, other_customer, alices):
    client.force_login(other_customer)
    for topup in (alices["alipay"], alices["wechat"]):
        assert client.get(reverse("portal:topup", args=[topup.out_trade_no])).status_code == 404
        assert client.get(reverse("portal:topup_alipay", args=[topup.out_trade_no])).status_code == 404
    history = client.get(reverse("portal:topups")).content.decode()
    assert alices["alipay"].out_trade_no not in history
    transfers = client.get(reverse("portal:bank_transfer")).content.decode()
    assert alices["transfer"].number not in transfers


def test_user_b_gets_404_on_a_s_topups_and_transfers_in_the_api(customer, other_customer, alices):
    other = client_for(other_customer)
    for topup in (alices["alipay"], alices["wechat"]):
        assert other.get(f"/api/v1/topups/{topup.out_trade_no}/").status_code == 404
    assert other.get(f"/api/v1/bank-transfers/{alices['transfer'].pk}/").status_code == 404
    assert other.get("/api/v1/bank-transfers/").json()["results"] == []
    own = client_for(customer)
    assert own.get(f"/api/v1/bank-transfers/{alices['transfer'].pk}/").json()["number"] == alices["transfer"].number


# --- API -------------------------------------------------------------------------------------------------


def test_api_creates_topups_on_each_channel(customer, all_channels, settings, loopback, keys):
    server = loopback(lambda request: wechat_response(keys["platform"], 200, {"code_url": "weixin://wxpay/x"}))
    settings.WUJI_WECHAT_API_BASE = server.url
    api = client_for(customer)
    ali = api.post("/api/v1/topups/", {"amount_fen": 100_00, "channel": "alipay"}, format="json")
    assert ali.status_code == 201 and ali.json()["pay_url"].startswith(settings.WUJI_ALIPAY_GATEWAY + "?")
    assert ali.json()["code_url"] is None and ali.json()["expires_at"]
    wx = api.post("/api/v1/topups/", {"amount_fen": 100_00, "channel": "wechat"}, format="json").json()
    assert wx["code_url"] is None and wx["pay_url"] is None  # the channel is asked after commit
    testing.run_tasks()
    assert api.get(f"/api/v1/topups/{wx['out_trade_no']}/").json()["code_url"] == "weixin://wxpay/x"
    refused = api.post("/api/v1/topups/", {"amount_fen": 100_00, "channel": "bank"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "channel"
    assert Instruction.objects.filter(action="topup.create", channel="api").count() == 2


def test_api_declares_a_bank_transfer(customer, bank):
    api = client_for(customer)
    assert api.get("/api/v1/bank-transfers/account/").json()["number"] == "3602000009100123456"
    body = {"amount_fen": 2000_00, "payer_name": "某某公司", "payer_bank": "建设银行",
            "transfer_date": clock.local_now().date().isoformat(), "reference": "r"}
    created = api.post("/api/v1/bank-transfers/", body, format="json")
    assert created.status_code == 201 and created.json()["status"] == "pending"
    assert created.json()["received_fen"] is None
    future = api.post("/api/v1/bank-transfers/", {**body, "transfer_date": "2099-01-01"}, format="json")
    assert future.status_code == 400 and future.json()["field"] == "transfer_date"
    assert BankTransfer.objects.count() == 1
    assert Instruction.objects.filter(action="banktransfer.declare", channel="api").count() == 1


def test_api_bank_transfers_404_when_not_offered(customer):
    assert client_for(customer).post("/api/v1/bank-transfers/", {}, format="json").status_code == 404


def test_topup_statuses_in_the_api(customer, alipay, travel):
    topup = payments.create_topup(customer=customer, amount_fen=10_00, channel="alipay", ip=None)
    travel(hours=3)
    payments.expire_topup(topup.pk)
    data = client_for(customer).get(f"/api/v1/topups/{topup.out_trade_no}/").json()
    assert data["status"] == TopUpStatus.EXPIRED and data["pay_url"] is None
