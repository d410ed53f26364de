"""A purchase racing a settlement chunk of the same customer (PostgreSQL): both succeed or the purchase is
refused cleanly; the balance never goes negative and the ledger stays sound."""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection

from wuji.billing import payg
from wuji.billing import services as billing
from wuji.billing.models import Meter
from wuji.core import testing
from wuji.ledger import services as ledger

from .payg_helpers import START, buy


def _setup(settings):
    settings.WUJI_PAYG_MIN_BALANCE_FEN = 100
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("racer@example.com", balance_fen=30_00)
    from wuji.catalog.models import Plan

    buy(customer, catalogue, plan=Plan.objects.get(code="s4"))  # 40 fen/h
    return catalogue, customer


def _purchase(customer, catalogue, outcomes):
    try:
        billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                            image=catalogue["image"], cycle="monthly", name="prepaid", idempotency_key="race",
                            channel="web", ip="127.0.0.1")
        outcomes.append("bought")
    except billing.InsufficientBalance:
        outcomes.append("refused")
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_purchase_waits_for_the_settlement_chunk_holding_the_customer(settings, monkeypatch):
    with time_machine.travel(START, tick=False) as machine:
        catalogue, customer = _setup(settings)
        machine.shift(dt.timedelta(hours=10))  # 4.00 元 of usage due; the monthly plan costs 29.00 of 30.00
        locked = threading.Event()
        real = ledger.lock_customer_balances

        def lock_and_hold(customer_ids):
            result = real(customer_ids)
            locked.set()
            time.sleep(0.5)  # the chunk holds the customer's accounts while the purchase arrives
            return result

        monkeypatch.setattr(ledger, "lock_customer_balances", lock_and_hold)
        outcomes = []

        def settle():
            try:
                payg.settle()
            finally:
                connection.close()

        settler = threading.Thread(target=settle)
        settler.start()
        assert locked.wait(10)
        buyer = threading.Thread(target=_purchase, args=(customer, catalogue, outcomes))
        started = time.monotonic()
        buyer.start()
        buyer.join()
        settler.join()
        assert time.monotonic() - started > 0.2  # it waited for the chunk's lock, then saw the charged balance
    assert outcomes == ["refused"]
    assert ledger.balances(customer)["cash"] == 30_00 - 4_00
    assert Meter.objects.get(customer=customer).debt_fen == 0
    assert ledger.verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_free_race_never_goes_negative(settings):
    with time_machine.travel(START, tick=False) as machine:
        catalogue, customer = _setup(settings)
        machine.shift(dt.timedelta(hours=10))
        outcomes = []
        barrier = threading.Barrier(2)

        def settle():
            try:
                barrier.wait()
                payg.settle()
            finally:
                connection.close()

        def purchase():
            barrier.wait()
            _purchase(customer, catalogue, outcomes)

        threads = [threading.Thread(target=settle), threading.Thread(target=purchase)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    meter = Meter.objects.get(customer=customer)
    cash = ledger.balances(customer)["cash"]
    assert cash >= 0 and outcomes in (["bought"], ["refused"])
    if outcomes == ["bought"]:  # the purchase went first: the settlement took what was left, the rest is debt
        assert (cash, meter.debt_fen) == (0, 3_00)
    else:
        assert (cash, meter.debt_fen) == (26_00, 0)
    assert meter.charged_fen == 4_00
    assert ledger.verify() == []
