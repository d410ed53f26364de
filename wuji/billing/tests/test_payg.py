"""Pay-as-you-go: purchase, per-second metering, settlement with carried remainders, crash re-runs."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
import time_machine

from wuji.audit.models import Instruction
from wuji.billing import payg
from wuji.billing.models import Meter
from wuji.billing.payg_choices import MeterRate
from wuji.billing.services import InsufficientBalance, PurchaseRefused
from wuji.catalog.models import Plan
from wuji.compute import services as compute
from wuji.compute.choices import Operation, SuspensionReason
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction

from .payg_helpers import START, buy

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def machine(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def operate(server, operation):
    compute.request_operation(server=server, operation=operation, actor=server.owner, channel="web", ip=None)
    testing.run_tasks()


def test_purchase_charges_nothing_up_front_and_records_the_prices_in_force(machine, customer, catalogue):
    meter = buy(customer, catalogue)
    assert (meter.running_per_hour, meter.stopped_per_hour) == (Decimal("0.06"), Decimal("0.005"))
    assert meter.rate == MeterRate.RUNNING and meter.server.expires_at is None
    assert ledger.balances(customer)["cash"] == 100_00
    assert Instruction.objects.filter(action="order.place_payg", owner=customer, result="accepted").count() == 1
    again, password = payg.place_payg_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                            image=catalogue["image"], name="x", idempotency_key="p1",
                                            channel="web", ip=None)
    assert again.pk == meter.pk and password is None
    assert Meter.objects.count() == 1


def test_purchase_refusals_change_nothing(machine, customer, catalogue, settings):
    poor = testing.make_customer("poor@example.com", balance_fen=99_99)
    with pytest.raises(InsufficientBalance, match="100.00"):
        buy(poor, catalogue)
    unverified = testing.make_customer("anon@example.com", balance_fen=500_00, verified=False)
    with pytest.raises(PurchaseRefused):
        buy(unverified, catalogue)
    no_hourly = Plan.objects.create(code="x1", name_zh="无按量", name_en="none", vcpus=1, memory_mib=512,
                                    disk_gib=10, bandwidth_mbps=1)
    with pytest.raises(PurchaseRefused, match="按量付费"):
        buy(customer, catalogue, plan=no_hourly)
    assert not Meter.objects.exists()
    assert not Instruction.objects.filter(action="order.place_payg").exists()


def test_metering_follows_start_stop_and_suspension_per_second(machine, customer, catalogue):
    meter = buy(customer, catalogue)
    machine.shift(dt.timedelta(minutes=30))
    operate(meter.server, Operation.STOP)  # 30 min running: 0.03 元
    machine.shift(HOUR)
    operate(meter.server, Operation.START)  # 1 h stopped (disk only): 0.005 元
    machine.shift(dt.timedelta(minutes=30))
    compute.suspend(meter.server, reason=SuspensionReason.STAFF, actor=None, channel="staff")  # 30 min: 0.03
    testing.run_tasks()
    machine.shift(dt.timedelta(minutes=65))  # suspended: not charged
    meter.refresh_from_db()
    assert meter.rate == MeterRate.NONE
    run = payg.settle()
    assert run.period_end == START + 3 * HOUR and run.charges == 1 and run.charged_fen == 6  # 6.5 fen, down
    meter.refresh_from_db()
    assert (meter.charged_fen, meter.carried, meter.debt_fen) == (6, 18 * 10**8, 0)  # half a fen carried
    assert ledger.balances(customer)["cash"] == 100_00 - 6
    txn = Transaction.objects.get(idempotency_key=f"settle:{meter.server_id}:{(START + 3 * HOUR).isoformat()}")
    assert txn.customer == customer and txn.kind == "charge"
    assert payg.settle().meters == 0  # the same period again: nothing due
    assert ledger.verify() == []


def test_gift_is_spent_first(machine, customer, catalogue):
    ledger.post(key="gift:1", kind="gift", customer=customer,
                legs=[("expense:gift", -5), (ledger.customer_account_code(customer.pk, "gift"), 5)])
    buy(customer, catalogue)
    machine.shift(2 * HOUR)
    payg.settle()  # 12 fen: 5 from gift, 7 from cash
    assert ledger.balances(customer) == {"cash": 100_00 - 7, "gift": 0, "frozen": 0}
    assert ledger.platform_balance("revenue:gift") == 5
    assert ledger.verify() == []


def test_a_rerun_after_a_crash_mid_run_charges_nothing_twice(machine, customer, other_customer, catalogue):
    meters = [buy(customer, catalogue, key="a"), buy(other_customer, catalogue, key="b"),
              buy(customer, catalogue, key="c")]
    machine.shift(HOUR)
    real = ledger.post_batch
    calls = []

    def crash_on_second_chunk(entries, **kwargs):
        calls.append(len(entries))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(entries, **kwargs)

    with mock.patch.object(ledger, "post_batch", crash_on_second_chunk), pytest.raises(RuntimeError):
        payg.settle(chunk_size=1)
    assert Transaction.objects.filter(idempotency_key__startswith="settle:").count() == 1
    run = payg.settle(chunk_size=1)
    assert run.meters == 2 and run.charges == 2
    for meter in meters:
        meter.refresh_from_db()
        assert meter.charged_fen == 6 and meter.settled_until == START + HOUR
        assert Transaction.objects.filter(idempotency_key__startswith=f"settle:{meter.server_id}:").count() == 1
    # Replaying a chunk's ledger writes is a no-op too.
    from django.db import transaction

    with transaction.atomic():
        key = f"settle:{meters[0].server_id}:{(START + HOUR).isoformat()}"
        legs = [ledger.Leg(ledger.customer_account_code(customer.pk, "cash"), -6), ledger.Leg("revenue:cash", 6)]
        assert ledger.post_batch([ledger.BatchEntry(key=key, kind="charge", legs=legs, customer_id=customer.pk)]) == []
    assert ledger.balances(customer)["cash"] == 100_00 - 12
    assert ledger.verify() == []


def test_chunks_shrink_when_slow_and_stay_full_when_fast(machine, customer, other_customer, catalogue, settings,
                                                         monkeypatch):
    for n in range(6):
        buy(customer if n % 2 else other_customer, catalogue, key=f"m{n}")
    machine.shift(HOUR)
    monkeypatch.setattr(payg, "MIN_CHUNK", 1)
    settings.WUJI_PAYG_CHUNK_TARGET_SECONDS = 0  # every chunk is "too slow"
    run = payg.settle(chunk_size=4)
    assert run.chunk_sizes == [4, 2] and run.meters == 6
    machine.shift(HOUR)
    settings.WUJI_PAYG_CHUNK_TARGET_SECONDS = 3600  # every chunk is fast: stays at the maximum
    assert payg.settle(chunk_size=4).chunk_sizes == [4, 2]
    assert ledger.verify() == []
