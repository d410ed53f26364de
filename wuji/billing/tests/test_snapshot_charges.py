"""Snapshot charges: per second while a snapshot exists, settled hourly to the exact fen, idempotent."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from wuji.billing import snapshots as snapshot_billing
from wuji.billing.models import SnapshotMeter
from wuji.catalog.models import SnapshotPrice
from wuji.compute import snapshots
from wuji.compute.choices import Operation
from wuji.compute.services import OperationRefused
from wuji.compute.tests.test_operations import active_server, operate
from wuji.compute.tests.test_snapshots import delete, settled, take
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction

START = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def machine(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def priced(catalogue):
    """20 fen per hour for a snapshot of the 20 GiB test plan's disk."""
    SnapshotPrice.objects.create(region=catalogue["region"], per_gib_hour=Decimal("0.01"),
                                 effective_from=START - dt.timedelta(seconds=1))


def cash(customer) -> int:
    return ledger.balances(customer)["cash"]


def test_charged_per_second_from_creation_to_deletion_exactly_once(machine, customer, catalogue, priced):
    server = active_server(customer, catalogue)
    before = cash(customer)
    snapshot = take(server)
    machine.move_to(START + dt.timedelta(minutes=30))
    settled(snapshot)  # the node confirms at 00:30: charged from then
    meter = SnapshotMeter.objects.get(snapshot=snapshot)
    assert (meter.per_hour, meter.started_at) == (Decimal("0.2"), START + dt.timedelta(minutes=30))

    machine.move_to(START + dt.timedelta(hours=2, minutes=5))
    assert snapshot_billing.settle()["charged_fen"] == 30  # 1.5 h x 20 fen
    assert snapshot_billing.settle()["charges"] == 0  # the same period again: nothing
    assert before - cash(customer) == 30

    machine.move_to(START + dt.timedelta(hours=2, minutes=15, seconds=30))
    delete(snapshot)
    settled(snapshot)
    machine.move_to(START + dt.timedelta(hours=3))
    assert snapshot_billing.settle()["charged_fen"] == 5  # 15.5 min x 20 fen/h = 5.17 fen: 5, the rest carried
    machine.move_to(START + dt.timedelta(hours=9))
    assert snapshot_billing.settle()["charges"] == 0  # deleted: never charged again
    meter.refresh_from_db()
    deleted_at = START + dt.timedelta(hours=2, minutes=15, seconds=30)
    assert (meter.charged_fen, meter.debt_fen, meter.ended_at) == (35, 0, deleted_at)
    charges = Transaction.objects.filter(cause_type="snapshot").order_by("id")
    keys = list(charges.values_list("idempotency_key", flat=True))
    assert keys == [f"snapshot:{snapshot.pk}:{(START + dt.timedelta(hours=h)).isoformat()}" for h in (2, 3)]
    assert before - cash(customer) == 35


def test_the_hourly_settlement_job_settles_snapshots_too(machine, customer, catalogue, priced):
    from wuji.billing.payg_tasks import settle_payg

    server = active_server(customer, catalogue)
    settled(take(server))
    machine.move_to(START + dt.timedelta(hours=1))
    assert settle_payg.call()["snapshot_charged_fen"] == 20


def test_refused_where_snapshots_are_not_sold(machine, customer, catalogue):
    SnapshotPrice.objects.all().delete()
    server = active_server(customer, catalogue)
    with pytest.raises(OperationRefused, match="未开放快照"):
        take(server)
    assert settled(server).task_state == ""


def test_refused_without_a_day_of_balance_then_debt_blocks_until_paid(machine, catalogue, priced):
    customer = testing.make_customer("thin@example.com", balance_fen=29_00 + 479)
    server = active_server(customer, catalogue)  # 29.00 for the month leaves 4.79: under a day of 4.80
    with pytest.raises(OperationRefused, match="4.80"):
        take(server)
    testing.fund(customer, 1)
    first = settled(take(server))
    machine.move_to(START + dt.timedelta(hours=30))
    snapshot_billing.settle()  # 30 h = 600 fen, 480 paid
    meter = SnapshotMeter.objects.get(snapshot=first)
    assert (meter.charged_fen, meter.debt_fen, cash(customer)) == (600, 120, 0)
    with pytest.raises(OperationRefused, match="未结清"):
        take(server, name="second", key="second")
    testing.fund(customer, 10_00)
    machine.move_to(START + dt.timedelta(hours=31))
    snapshot_billing.settle()
    meter.refresh_from_db()
    assert meter.debt_fen == 0 and cash(customer) == 10_00 - 120 - 20


def test_reinstall_and_release_stop_the_meters(machine, customer, catalogue, priced):
    from wuji.compute import services

    server = active_server(customer, catalogue)
    first = settled(take(server))
    machine.move_to(START + dt.timedelta(minutes=10))
    operate(server, Operation.REINSTALL, image=catalogue["other_image"])
    settled(server)
    assert SnapshotMeter.objects.get(snapshot=first).ended_at == START + dt.timedelta(minutes=10)
    second = settled(take(server, name="after", key="after"))
    machine.move_to(START + dt.timedelta(minutes=20))
    services.release(server, actor=None, channel="staff", reason="test")
    settled(server)
    assert SnapshotMeter.objects.get(snapshot=second).ended_at == START + dt.timedelta(minutes=20)
    assert list(snapshots.snapshots_of(server)) == []
