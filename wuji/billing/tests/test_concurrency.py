"""Balances that race are the bug class the platforms we replace suffer most (anchors §3 rows 1–7, 15)."""

import threading

import pytest
from django.db import connection

from wuji.billing import services as billing
from wuji.billing.models import Order
from wuji.core import testing
from wuji.ledger import services as ledger


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_purchases_with_money_for_ten():
    catalogue = testing.load_test_catalogue()
    price = billing.quote(region=catalogue["region"], plan=catalogue["plan"], cycle="monthly")
    customer = testing.make_customer("race@example.com", balance_fen=10 * price)
    barrier = threading.Barrier(20)
    outcomes = []

    def buy(n):
        try:
            barrier.wait()
            billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                image=catalogue["image"], cycle="monthly", name=f"s{n}",
                                idempotency_key=f"race-{n}", channel="api", ip="127.0.0.1")
            outcomes.append("bought")
        except billing.PurchaseRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("bought") == 10 and outcomes.count("refused") == 10
    assert Order.objects.filter(customer=customer).count() == 10
    assert customer.servers.count() == 10
    assert ledger.balances(customer)["cash"] == 0
    assert ledger.verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_submitted_order_is_charged_once():
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("double@example.com", balance_fen=100_00)
    barrier = threading.Barrier(5)
    orders = []

    def submit():
        try:
            barrier.wait()
            order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                           image=catalogue["image"], cycle="monthly", name="same",
                                           idempotency_key="one-click", channel="web", ip="127.0.0.1")
            orders.append(order.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(orders) == 5 and len(set(orders)) == 1
    assert ledger.balances(customer)["cash"] == 100_00 - 2900
    assert ledger.verify() == []
