"""Applications that race for the same invoiceable amount, and contract numbers taken at the same time."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from wuji.billing import services as billing
from wuji.core import testing
from wuji.finance import services as finance
from wuji.finance.choices import FapiaoStatus
from wuji.finance.models import FapiaoApplication
from wuji.ledger import services as ledger

from .conftest import refund_cash, spend


def race(count: int, work) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes = []

    def run(n):
        try:
            barrier.wait()
            outcomes.append(work(n))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_applications_with_invoiceable_for_three():
    testing.load_test_catalogue()
    customer = testing.make_customer("race-fapiao@example.com", balance_fen=100_00)
    spend(customer, 90_00)

    def work(n):
        try:
            finance.apply_for_fapiao(customer, amount_fen=30_00, fapiao_type="normal", idempotency_key=f"r{n}")
            return "applied"
        except ValidationError:
            return "refused"

    outcomes = race(10, work)
    assert outcomes.count("applied") == 3 and outcomes.count("refused") == 7
    assert FapiaoApplication.objects.filter(customer=customer, status=FapiaoStatus.PENDING).count() == 3
    assert finance.invoiceable_fen(customer) == 0
    assert ledger.verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_application_and_a_refund_at_the_same_time_cannot_both_take_the_amount():
    """The application locks the customer's ledger accounts; the refund credits cust:cash, so it waits."""
    testing.load_test_catalogue()
    customer = testing.make_customer("race-refund@example.com", balance_fen=100_00)
    spend(customer, 50_00)

    def work(n):
        if n == 0:
            refund_cash(customer, 50_00)
            return "refunded"
        try:
            finance.apply_for_fapiao(customer, amount_fen=50_00, fapiao_type="normal", idempotency_key="x")
            return "applied"
        except ValidationError:
            return "refused"

    outcomes = race(2, work)
    state = finance.summary(customer)
    assert "refunded" in outcomes
    # Either the refund came first (application refused) or the application did (pending, never issuable).
    assert state.consumed_fen == 0 and state.pending_fen in (0, 50_00)
    assert ("applied" in outcomes) == (state.pending_fen == 50_00)
    assert ledger.verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_contract_approvals_get_distinct_consecutive_numbers():
    catalogue = testing.load_test_catalogue()
    staff = get_user_model().objects.create_user(email="fin-staff@example.com", password=None, is_staff=True)
    contracts = []
    for n in range(6):
        customer = testing.make_customer(f"contract{n}@example.com", balance_fen=100_00)
        order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                       image=catalogue["image"], cycle="monthly", name=f"c{n}",
                                       idempotency_key=f"c{n}", channel="web", ip="127.0.0.1")
        contracts.append(finance.apply_for_contract(customer, order=order))

    numbers = race(6, lambda n: finance.approve_contract(contracts[n], staff).number)
    assert len(set(numbers)) == 6
    assert sorted(int(number[-6:]) for number in numbers) == [1, 2, 3, 4, 5, 6]
