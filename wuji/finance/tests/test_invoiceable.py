"""The invoiceable amount (可开票金额) and invoice debt (欠票) are queries over the ledger and the fapiao records."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuji.core import testing
from wuji.finance import services as finance
from wuji.ledger import services as ledger

from .conftest import apply, grant_gift, issue, refund_cash, spend


@pytest.fixture(autouse=True)
def ledger_stays_sound(db):
    yield
    assert ledger.verify() == []


def test_cash_charges_are_invoiceable(customer):
    assert finance.invoiceable_fen(customer) == 0
    spend(customer, 29_00)
    spend(customer, 10_50)
    assert finance.invoiceable_fen(customer) == 39_50
    assert finance.invoice_debt_fen(customer) == 0


def test_gift_consumption_is_never_invoiceable(customer):
    grant_gift(customer, 50_00)
    spend(customer, 30_00)  # all from gift (gift first)
    assert finance.invoiceable_fen(customer) == 0
    spend(customer, 30_00)  # 20 gift + 10 cash
    assert finance.invoiceable_fen(customer) == 10_00
    assert ledger.balances(customer)["gift"] == 0


def test_unspent_top_up_is_not_invoiceable(customer):
    testing.fund(customer, 500_00)
    assert finance.invoiceable_fen(customer) == 0


def test_refund_from_revenue_reduces_invoiceable(customer):
    spend(customer, 60_00)
    refund_cash(customer, 20_00)
    assert finance.invoiceable_fen(customer) == 40_00


def test_other_customers_money_does_not_count(customer, other_customer):
    spend(other_customer, 50_00)
    spend(customer, 5_00)
    assert finance.invoiceable_fen(customer) == 5_00


def test_pending_and_issued_applications_reserve_and_red_reversal_restores(customer, staff):
    spend(customer, 80_00)
    first = apply(customer, 30_00)
    assert finance.invoiceable_fen(customer) == 50_00
    assert finance.has_open_applications(customer)
    issue(first, staff)
    assert finance.invoiceable_fen(customer) == 50_00
    assert not finance.has_open_applications(customer)
    finance.red_reverse(first, staff, red_number="26000000000000099999", reason="抬头有误")
    assert finance.invoiceable_fen(customer) == 80_00


def test_rejected_and_cancelled_applications_release_their_amount(customer, staff):
    spend(customer, 80_00)
    rejected, cancelled = apply(customer, 30_00), apply(customer, 20_00)
    assert finance.invoiceable_fen(customer) == 30_00
    finance.reject_application(rejected, staff, "金额有误")
    finance.cancel_application(cancelled, customer)
    assert finance.invoiceable_fen(customer) == 80_00


def test_refund_after_invoicing_is_invoice_debt_until_red_reversed(customer, staff):
    spend(customer, 100_00)
    fapiao = issue(apply(customer, 100_00), staff)
    refund_cash(customer, 40_00)
    assert finance.invoiceable_fen(customer) == -40_00
    assert finance.invoice_debt_fen(customer) == 40_00
    # Later consumption offsets the debt (欠票冲抵) …
    spend(customer, 15_00)
    assert finance.invoice_debt_fen(customer) == 25_00
    # … or the fapiao is red-reversed (退票重开).
    finance.red_reverse(fapiao, staff, red_number="26000000000000088888", reason="退款后退票")
    assert finance.invoice_debt_fen(customer) == 0
    assert finance.invoiceable_fen(customer) == 75_00


def test_a_pending_application_is_not_debt(customer):
    spend(customer, 50_00)
    apply(customer, 50_00)
    refund_cash(customer, 50_00)
    assert finance.invoiceable_fen(customer) == -50_00
    assert finance.invoice_debt_fen(customer) == 0  # not issued: staff reject it (issuing is refused)
    assert finance.has_open_applications(customer)


operation = st.one_of(
    st.tuples(st.just("spend"), st.integers(1, 5000)),
    st.tuples(st.just("gift_spend"), st.integers(1, 5000)),
    st.tuples(st.just("refund"), st.integers(1, 5000)),
    st.tuples(st.just("apply"), st.integers(1, 8000)),
    st.tuples(st.just("issue"), st.integers(0, 10)),
    st.tuples(st.just("reject"), st.integers(0, 10)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
    st.tuples(st.just("red"), st.integers(0, 10)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_issued_fapiao_never_exceed_cash_consumed_net_of_refunds(catalogue, staff, ops):
    """Against a model: whatever customers and staff do, applying and issuing never let Σ issued exceed the cash
    consumed minus refunds; only a refund after issuing can create debt, and then debt = issued − consumed."""
    from django.db import transaction

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            customer = testing.make_customer(f"h{id(ops)}@example.com", balance_fen=10_000_00)
            consumed = 0  # net cash consumption in the model
            applications = []
            for index, (op, value) in enumerate(ops):
                if op == "spend":
                    spend(customer, value)
                    consumed += value
                elif op == "gift_spend":
                    grant_gift(customer, value)
                    spend(customer, value)  # gift first: no cash consumed
                elif op == "refund":
                    amount = min(value, consumed)
                    if amount:
                        refund_cash(customer, amount)
                        consumed -= amount
                elif op == "apply":
                    before = finance.invoiceable_fen(customer)
                    try:
                        applications.append(apply(customer, value))
                        assert value <= before
                    except ValidationError:
                        assert value > before
                elif applications:
                    target = applications[value % len(applications)]
                    target.refresh_from_db()
                    action = {"issue": lambda a, i=index: issue(a, staff, f"{10_000_000 + i}"),
                              "reject": lambda a: finance.reject_application(a, staff, "测试"),
                              "cancel": lambda a: finance.cancel_application(a, customer),
                              "red": lambda a, i=index: finance.red_reverse(a, staff, red_number=f"{20_000_000 + i}",
                                                                   reason="测试")}[op]
                    issued_before = finance.summary(customer).issued_fen
                    try:
                        action(target)
                        if op == "issue":
                            assert issued_before + target.amount_fen <= consumed
                    except finance.FinanceRefused:
                        pass
                state = finance.summary(customer)
                assert state.consumed_fen == consumed
                assert state.invoiceable_fen == consumed - state.issued_fen - state.pending_fen
                assert state.debt_fen == max(0, state.issued_fen - consumed)
                if op not in ("refund",) and state.issued_fen > consumed:
                    # debt exists only because of an earlier refund: nothing since increased issued beyond it
                    assert any(o == "refund" for o, _v in ops[:index])
            assert ledger.verify() == []
            raise Rollback
    except Rollback:
        pass


def test_invoice_debt_blocks_withdrawals_until_cleared(customer, staff, settings):
    """欠票 must be cleared before money leaves: a withdrawal is refused while it exists (issue 4)."""
    from wuji.payments import withdrawals

    settings.WUJI_SANDBOX_PAYMENTS = True
    spend(customer, 50_00)
    fapiao = issue(apply(customer, 50_00), staff)
    refund_cash(customer, 20_00)  # refunded after invoicing: 20 元 of debt
    assert finance.invoice_debt_fen(customer) == 20_00
    before = ledger.balances(customer)
    with pytest.raises(withdrawals.WithdrawalRefused) as refused:
        withdrawals.request_withdrawal(customer=customer, amount_fen=20_00, idempotency_key="w1", factor="totp",
                                       channel="web", ip=None)
    assert refused.value.code == "invoice_debt" and "¥20.00" in str(refused.value)
    assert ledger.balances(customer) == before and not withdrawals.withdrawals_of(customer).exists()
    finance.red_reverse(fapiao, staff, red_number="26000000000000099999", reason="退款后退票")
    assert finance.invoice_debt_fen(customer) == 0
    # The debt is gone: the same request now passes that rule and stops at the next one (this customer's money
    # came from a test credit, not a refundable top-up, so it needs a bank account).
    with pytest.raises(withdrawals.WithdrawalRefused) as refused:
        withdrawals.request_withdrawal(customer=customer, amount_fen=20_00, idempotency_key="w2", factor="totp",
                                       channel="web", ip=None)
    assert refused.value.code == "bank_account_required"
