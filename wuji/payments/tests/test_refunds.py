"""Refunds to the original source (原路退回): LIFO allocation over top-ups within channel windows, the channel
answers (success, pending then success, failure, unreachable), idempotent payouts, and bank payouts."""

import datetime as dt

import pytest

from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.ledger.choices import PlatformAccount
from wuji.ledger.models import Transaction
from wuji.notifications.models import Notice
from wuji.payments import gateways, withdrawals
from wuji.payments.choices import RefundLegStatus, WithdrawalStatus
from wuji.payments.models import Refund

from .helpers import paid_topup, result, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def finance(db):
    return staff("finance@wuji.test", "finance")


def withdraw(customer, amount, key="w1", **kw):
    return withdrawals.request_withdrawal(customer=customer, amount_fen=amount, idempotency_key=key, factor="totp",
                                          channel="web", ip="127.0.0.1", **kw)


def approve_and_pay(withdrawal, finance):
    withdrawals.approve_withdrawal(withdrawal, staff=finance)
    testing.run_tasks()
    withdrawal.refresh_from_db()
    return withdrawal


def legs(withdrawal):
    return [(r.topup.out_trade_no if r.topup else "bank", r.channel, r.amount_fen, r.status)
            for r in withdrawal.refunds.select_related("topup").order_by("id")]


def test_lifo_allocation_over_channels_with_partial_prior_refunds(catalogue, scripted, finance):
    customer = testing.make_customer("lifo@example.com")
    old = paid_topup(customer, 100_00, "sandbox")
    clock.advance(dt.timedelta(hours=1))
    middle = paid_topup(customer, 50_00, "scripted")
    clock.advance(dt.timedelta(hours=1))
    new = paid_topup(customer, 30_00, "sandbox")
    clock.advance(dt.timedelta(hours=1))
    first = approve_and_pay(withdraw(customer, 20_00, "first"), finance)
    assert legs(first) == [(new.out_trade_no, "sandbox", 20_00, "succeeded")]

    second = approve_and_pay(withdraw(customer, 100_00, "second"), finance)
    assert legs(second) == [(new.out_trade_no, "sandbox", 10_00, "succeeded"),
                            (middle.out_trade_no, "scripted", 50_00, "succeeded"),
                            (old.out_trade_no, "sandbox", 40_00, "succeeded")]
    assert second.status == WithdrawalStatus.COMPLETED
    assert scripted[0].refund_calls == [(second.refunds.get(channel="scripted").refund_no, 50_00, 50_00)]
    assert ledger.balances(customer)["cash"] == 60_00
    assert ledger.platform_balance(PlatformAccount.PAYABLE_REFUNDS) == 0
    assert ledger.platform_balance("clearing:sandbox") == -(100_00 + 30_00) + 70_00
    assert ledger.verify() == []


def test_closed_window_and_unrefundable_money_go_to_the_bank_account(catalogue, scripted, finance):
    customer = testing.make_customer("window@example.com")
    testing.fund(customer, 40_00)  # e.g. a bank transfer: no channel can take it back
    paid_topup(customer, 30_00, "scripted2")  # refundable for 30 days only
    clock.advance(dt.timedelta(days=31))
    account = withdrawals.add_bank_account(customer=customer, holder="测试用户", bank="招商银行", branch="赣州分行",
                                           number="6225 8801 2345 6789", channel="web", ip=None)
    with pytest.raises(withdrawals.WithdrawalRefused) as refused:
        withdraw(customer, 50_00)
    assert refused.value.field == "bank_account"
    assert ledger.balances(customer)["cash"] == 70_00 and not Refund.objects.exists()

    withdrawal = approve_and_pay(withdraw(customer, 50_00, bank_account=account), finance)
    assert legs(withdrawal) == [("bank", "bank", 50_00, "pending")]
    assert withdrawal.status == WithdrawalStatus.PROCESSING and scripted[1].refund_calls == []
    leg = withdrawal.refunds.get()
    withdrawals.mark_bank_payout_paid(leg, staff=finance, reference="BANK-REF-1")
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.COMPLETED
    assert ledger.platform_balance("clearing:bank") == 50_00
    with pytest.raises(withdrawals.WithdrawalRefused):
        withdrawals.mark_bank_payout_paid(leg, staff=finance, reference="BANK-REF-1")
    assert ledger.verify() == []


def test_channel_pending_then_success_on_query(catalogue, scripted, finance):
    gateway = scripted[0]
    customer = testing.make_customer("pending@example.com")
    paid_topup(customer, 80_00, "scripted")
    gateway.script = [result("pending", "CH-R-1")]
    withdrawal = approve_and_pay(withdraw(customer, 50_00), finance)
    leg = withdrawal.refunds.get()
    assert leg.status == RefundLegStatus.PENDING and leg.accepted and leg.channel_refund_no == "CH-R-1"
    assert withdrawal.status == WithdrawalStatus.PROCESSING
    assert ledger.platform_balance(PlatformAccount.PAYABLE_REFUNDS) == 50_00

    gateway.script = [result("pending"), result("succeeded", "CH-R-1")]
    assert withdrawals.retry_pending_refunds() == 1  # still pending: queried, not sent again
    assert withdrawals.retry_pending_refunds() == 1
    leg.refresh_from_db()
    withdrawal.refresh_from_db()
    assert leg.status == RefundLegStatus.SUCCEEDED and withdrawal.status == WithdrawalStatus.COMPLETED
    assert len(gateway.refund_calls) == 1 and gateway.query_calls == [leg.refund_no, leg.refund_no]
    assert ledger.platform_balance(PlatformAccount.PAYABLE_REFUNDS) == 0
    assert ledger.platform_balance("clearing:scripted") == -80_00 + 50_00
    assert withdrawals.retry_pending_refunds() == 0
    assert ledger.verify() == []


def test_channel_failure_returns_the_money_and_the_fee(catalogue, scripted, finance, settings):
    settings.WUJI_WITHDRAWAL_FEE_FIXED_FEN = 2_00
    gateway = scripted[0]
    customer = testing.make_customer("fail@example.com")
    paid_topup(customer, 80_00, "scripted")
    gateway.script = [result("failed", message="原支付账户已注销")]
    withdrawal = approve_and_pay(withdraw(customer, 50_00), finance)
    leg = withdrawal.refunds.get()
    assert leg.status == RefundLegStatus.FAILED and leg.last_error == "原支付账户已注销"
    assert withdrawal.status == WithdrawalStatus.FAILED
    assert ledger.balances(customer)["cash"] == 80_00  # amount and fee back: nothing lost
    assert ledger.platform_balance(PlatformAccount.PAYABLE_REFUNDS) == 0
    assert ledger.platform_balance(PlatformAccount.INCOME_FEES) == 0
    notice = Notice.objects.get(recipient=customer, event="payments.refund_failed")
    assert leg.refund_no in notice.body and "¥50.00" in notice.body
    assert ledger.verify() == []


def test_partial_failure_returns_only_the_failed_leg(catalogue, scripted, finance):
    customer = testing.make_customer("partial@example.com")
    paid_topup(customer, 30_00, "scripted2")
    clock.advance(dt.timedelta(minutes=5))
    paid_topup(customer, 30_00, "scripted")
    scripted[0].script = [result("failed", message="closed")]
    withdrawal = approve_and_pay(withdraw(customer, 50_00), finance)
    assert sorted(r.status for r in withdrawal.refunds.all()) == ["failed", "succeeded"]
    assert withdrawal.status == WithdrawalStatus.PARTIAL
    assert ledger.balances(customer)["cash"] == 10_00 + 30_00
    assert ledger.verify() == []


def test_payout_task_run_twice_pays_once_and_unreachable_channel_is_retried_with_the_same_number(
        catalogue, scripted, finance):
    gateway = scripted[0]
    customer = testing.make_customer("twice@example.com")
    paid_topup(customer, 80_00, "scripted")
    gateway.script = [gateways.GatewayError("timeout")]
    withdrawal = approve_and_pay(withdraw(customer, 50_00), finance)
    leg = withdrawal.refunds.get()
    assert leg.status == RefundLegStatus.PENDING and leg.last_error == "timeout" and leg.attempts == 1

    withdrawals.pay_out(withdrawal.pk)
    withdrawals.pay_out(withdrawal.pk)
    from wuji.payments import tasks
    tasks.pay_out_withdrawal.enqueue(withdrawal_id=withdrawal.pk)
    testing.run_tasks()
    leg.refresh_from_db()
    assert leg.status == RefundLegStatus.SUCCEEDED
    assert [call[0] for call in gateway.refund_calls] == [leg.refund_no, leg.refund_no]
    assert gateway.paid == {leg.refund_no: 50_00}
    assert Transaction.objects.filter(idempotency_key=f"refund-paid:{leg.refund_no}").count() == 1
    assert ledger.platform_balance("clearing:scripted") == -30_00
    # An answer arriving again (a late notice) changes nothing.
    assert withdrawals.apply_refund_result(leg.pk, result("failed")) == RefundLegStatus.SUCCEEDED
    assert ledger.balances(customer)["cash"] == 30_00
    assert ledger.verify() == []


def test_staff_retry_and_give_up(catalogue, scripted, finance):
    gateway = scripted[0]
    customer = testing.make_customer("retry@example.com")
    paid_topup(customer, 80_00, "scripted")
    gateway.script = [gateways.GatewayError("down"), gateways.GatewayError("down")]
    withdrawal = approve_and_pay(withdraw(customer, 50_00), finance)
    leg = withdrawal.refunds.get()
    withdrawals.retry_refund(leg, staff=finance)
    testing.run_tasks()
    leg.refresh_from_db()
    assert leg.attempts == 2 and leg.status == RefundLegStatus.PENDING
    with pytest.raises(withdrawals.WithdrawalRefused):
        withdrawals.fail_refund(leg, staff=finance, reason="")
    withdrawals.fail_refund(leg, staff=finance, reason="渠道长期不可用，改为线下处理")
    leg.refresh_from_db()
    assert leg.status == RefundLegStatus.FAILED and ledger.balances(customer)["cash"] == 80_00
    assert ledger.verify() == []
