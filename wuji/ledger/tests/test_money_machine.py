"""A hypothesis state machine over the money services: top-ups (signed notices, replayed), charges, gifts,
reversals — and, through the funds services, freezes, withdrawals and refunds. After every step each
customer's balances equal a plain model of what should have happened; at the end the ledger verifies."""

import collections
import itertools

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from wuji.accounts import services as accounts
from wuji.billing import freezes, gifts
from wuji.billing import services as billing
from wuji.billing.choices import FreezeOutcome, FreezeReason
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.payments import services as payments
from wuji.payments import withdrawals
from wuji.payments.choices import PaymentChannel

_serial = itertools.count()
amounts = st.integers(min_value=1, max_value=50_000)


class MoneyMachine(RuleBasedStateMachine):
    staff = checker = None  # two staff members: the one who freezes cannot also lift (four eyes)
    seen = collections.Counter()  # accepted operations over the whole run: the machine must exercise them
    people = ()  # created once per test; each example starts its model from their current balances

    @initialize()
    def open(self):
        # Each example runs in a savepoint rolled back at its end, so every example starts from the same
        # database and hypothesis can replay and shrink it deterministically.
        self._example = transaction.atomic()
        self._example.__enter__()
        self.customers = list(self.people)
        self.model = {c.pk: ledger.balances(c) for c in self.customers}
        self.notices = []  # signed notices already delivered, for replays
        self.reversible = []  # (transaction, customer pk, {kind: delta}) of top-ups and gifts
        self.open_freezes = []
        self.pending_withdrawals = []

    def _who(self, index):
        return self.customers[index % len(self.customers)]

    @rule(who=st.integers(0, 1), amount=st.integers(min_value=100, max_value=100_000))
    def top_up(self, who, amount):
        customer = self._who(who)
        topup = payments.create_topup(customer=customer, amount_fen=amount, channel=PaymentChannel.SANDBOX, ip=None)
        notice = payments.sandbox_pay(topup)
        payments.handle_sandbox_notice(notice)
        self.notices.append(notice)
        self.model[customer.pk]["cash"] += amount
        topup.refresh_from_db()
        self.reversible.append((topup.ledger_transaction, customer.pk, {"cash": amount}))

    @precondition(lambda self: self.notices)
    @rule(pick=st.integers(min_value=0))
    def replay_a_notice(self, pick):
        payments.handle_sandbox_notice(self.notices[pick % len(self.notices)])  # credits nothing again

    @rule(who=st.integers(0, 1), amount=amounts)
    def grant_gift(self, who, amount):
        customer = self._who(who)
        txn = gifts.grant_gift(customer=customer, amount_fen=amount, reason="machine", actor=self.staff,
                               key=f"machine-{customer.pk}-{next(_serial)}")
        self.model[customer.pk]["gift"] += amount
        self.reversible.append((txn, customer.pk, {"gift": amount}))

    @rule(who=st.integers(0, 1), amount=amounts)
    def charge(self, who, amount):
        customer = self._who(who)
        balance = self.model[customer.pk]
        try:
            billing.charge(customer, amount=amount, key=f"machine-charge-{customer.pk}-{next(_serial)}",
                           cause=("machine", 0))
        except ledger.InsufficientFunds:
            assert balance["cash"] + balance["gift"] < amount
            return
        gift = min(amount, balance["gift"])  # gift first (the default spending order)
        balance["gift"] -= gift
        balance["cash"] -= amount - gift

    @precondition(lambda self: self.reversible)
    @rule(pick=st.integers(min_value=0))
    def reverse(self, pick):
        txn, pk, deltas = self.reversible[pick % len(self.reversible)]
        balance = self.model[pk]
        try:
            ledger.reverse(txn)
        except ledger.InsufficientFunds:
            assert any(balance[kind] < delta for kind, delta in deltas.items())
            return
        self.reversible.remove((txn, pk, deltas))
        for kind, delta in deltas.items():
            balance[kind] -= delta

    @rule(who=st.integers(0, 1), percent=st.integers(min_value=1, max_value=110))
    def freeze(self, who, percent):
        customer = self._who(who)
        balance = self.model[customer.pk]
        amount = max(1, balance["cash"] * percent // 100)
        try:
            freeze = freezes.freeze_funds(customer=customer, staff=self.staff, reason=FreezeReason.LAW,
                                          outcome=FreezeOutcome.LONG_TERM, amount_fen=amount, evidence="machine")
        except freezes.FreezeRefused:
            assert amount > balance["cash"]
            return
        self.seen["freeze"] += 1
        balance["cash"] -= amount
        balance["frozen"] += amount
        self.open_freezes.append((freeze, customer.pk, amount))

    @precondition(lambda self: self.open_freezes)
    @rule(pick=st.integers(min_value=0))
    def lift(self, pick):
        freeze, pk, amount = self.open_freezes.pop(pick % len(self.open_freezes))
        freezes.lift_freeze(freeze=freeze, staff=self.checker, reason="machine")
        self.model[pk]["frozen"] -= amount
        self.model[pk]["cash"] += amount

    @rule(who=st.integers(0, 1), percent=st.integers(min_value=1, max_value=110))
    def withdraw(self, who, percent):
        customer = self._who(who)
        # A share of the cash (sometimes more than all of it), so that withdrawals are often possible.
        amount = max(1, self.model[customer.pk]["cash"] * percent // 100)
        try:
            withdrawal = withdrawals.request_withdrawal(
                customer=customer, amount_fen=amount, idempotency_key=f"machine-{next(_serial)}", factor="totp",
                channel="web", ip=None)
        except withdrawals.WithdrawalRefused:
            return  # a refusal (rules, frozen funds, no refundable source) changes nothing: the invariant checks it
        self.seen["withdrawal"] += 1
        self.model[customer.pk]["cash"] -= amount + withdrawal.fee_fen
        self.pending_withdrawals.append((withdrawal, customer.pk))

    @precondition(lambda self: self.pending_withdrawals)
    @rule(pick=st.integers(min_value=0), approve=st.booleans())
    def decide_withdrawal(self, pick, approve):
        withdrawal, pk = self.pending_withdrawals.pop(pick % len(self.pending_withdrawals))
        if approve:
            withdrawals.approve_withdrawal(withdrawal, staff=self.checker)
            testing.run_tasks()  # the sandbox channel refunds at once
        else:
            withdrawals.reject_withdrawal(withdrawal, staff=self.checker, reason="machine")
            self.model[pk]["cash"] += withdrawal.amount_fen + withdrawal.fee_fen

    @invariant()
    def balances_match_the_model(self):
        if not hasattr(self, "customers"):
            return
        for customer in self.customers:
            assert ledger.balances(customer) == self.model[customer.pk]

    def teardown(self):
        if not hasattr(self, "customers"):
            return
        try:
            assert ledger.verify() == []
        finally:
            transaction.set_rollback(True)
            self._example.__exit__(None, None, None)


@pytest.mark.django_db
def test_money_services_keep_every_invariant(catalogue):
    MoneyMachine.staff = accounts.create_staff(email="machine-staff@example.com", password=testing.PASSWORD)
    MoneyMachine.checker = accounts.create_staff(email="machine-checker@example.com", password=testing.PASSWORD)
    MoneyMachine.people = [testing.make_customer(f"machine-{i}@example.com") for i in range(2)]
    # Derandomized: the same examples every run, so the check that withdrawals and freezes happened is stable.
    MoneyMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=20, deadline=None, derandomize=True,
                                              suppress_health_check=list(HealthCheck))
    with override_settings(WUJI_SANDBOX_PAYMENTS=True):
        MoneyMachine.TestCase().runTest()
    assert MoneyMachine.seen["withdrawal"] > 0 and MoneyMachine.seen["freeze"] > 0
