"""Top-up lifecycle: opening on an enabled channel only, expiry after the setting, the periodic
reconciliation job, and the gateways other pieces call (`gateways.get`)."""

import pytest

from wuji.core import scheduler, testing
from wuji.ledger import services as ledger
from wuji.payments import gateways
from wuji.payments import services as payments
from wuji.payments.choices import TopUpStatus


def test_opening_a_topup_needs_an_enabled_online_channel(customer, settings):
    for channel in ("alipay", "wechat", "sandbox", "bank", "paypal"):
        with pytest.raises(payments.PaymentError) as refused:
            payments.create_topup(customer=customer, amount_fen=10_00, channel=channel, ip=None)
        assert refused.value.field == "channel"
    settings.WUJI_BANK_ACCOUNT_NUMBER = "1"
    with pytest.raises(payments.PaymentError):  # bank money is declared, never opened as an order
        payments.create_topup(customer=customer, amount_fen=10_00, channel="bank", ip=None)


def test_amount_limits(customer, alipay):
    for amount in (99, 500_000_01):
        with pytest.raises(payments.PaymentError) as refused:
            payments.create_topup(customer=customer, amount_fen=amount, channel="alipay", ip=None)
        assert refused.value.field == "amount"


def test_expiry_follows_the_setting(customer, alipay, settings, travel):
    settings.WUJI_TOPUP_EXPIRY_MINUTES = 30
    topup = payments.create_topup(customer=customer, amount_fen=10_00, channel="alipay", ip=None)
    assert (topup.expires_at - topup.created_at).total_seconds() == 30 * 60
    travel(minutes=29)
    assert not payments.expire_topup(topup.pk)
    travel(minutes=2)
    assert payments.expire_topup(topup.pk)
    assert not payments.expire_topup(topup.pk)  # once
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.EXPIRED
    assert payments.payment_request(topup) is None


def test_reconciliation_is_a_periodic_job_that_closes_expired_sandbox_orders(customer, settings, travel):
    settings.WUJI_SANDBOX_PAYMENTS = True
    job = {j.name: j for j in scheduler.registered_jobs()}["payments.reconcile_topups"]
    assert job.interval.total_seconds() == 600
    topup = payments.create_topup(customer=customer, amount_fen=10_00, channel="sandbox", ip=None)
    travel(hours=2, seconds=1)
    assert "payments.reconcile_topups" in scheduler.tick(jobs=[job])
    assert testing.run_tasks() >= 1
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.EXPIRED and ledger.balances(customer)["cash"] == 100_00


def test_a_paid_topup_never_expires(customer, settings, travel):
    settings.WUJI_SANDBOX_PAYMENTS = True
    topup = payments.create_topup(customer=customer, amount_fen=10_00, channel="sandbox", ip=None)
    payments.handle_sandbox_notice(payments.sandbox_pay(topup))
    travel(hours=3)
    assert payments.reconcile_topups()["expired"] == 0
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID


def test_gateways_get_serves_every_channel():
    assert {c: gateways.get(c).channel for c in ("alipay", "wechat", "sandbox", "bank")} == {
        "alipay": "alipay", "wechat": "wechat", "sandbox": "sandbox", "bank": "bank"}
    assert not gateways.get("bank").supports_refund
    with pytest.raises(gateways.GatewayError):
        gateways.get("bank").refund(out_trade_no="B", channel_trade_no="BT1", refund_no="R", amount_fen=1,
                                    total_fen=1, reason="")
    with pytest.raises(gateways.GatewayError):
        gateways.get("paypal")


def test_confirm_topup_keeps_its_contract(customer, alipay):
    topup = payments.create_topup(customer=customer, amount_fen=10_00, channel="alipay", ip=None)
    with pytest.raises(payments.PaymentError):
        payments.confirm_topup(out_trade_no=topup.out_trade_no, channel_trade_no="A1", amount_fen=9_99,
                               channel="alipay")
    with pytest.raises(payments.PaymentError):  # right order, wrong channel
        payments.confirm_topup(out_trade_no=topup.out_trade_no, channel_trade_no="A1", amount_fen=10_00,
                               channel="wechat")
    first = payments.confirm_topup(out_trade_no=topup.out_trade_no, channel_trade_no="A1", amount_fen=10_00,
                                   channel="alipay")
    again = payments.confirm_topup(out_trade_no=topup.out_trade_no, channel_trade_no="A1", amount_fen=10_00,
                                   channel="alipay")
    assert first.ledger_transaction_id == again.ledger_transaction_id
    assert ledger.balances(customer)["cash"] == 100_00 + 10_00
