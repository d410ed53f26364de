"""Faults, nothing lost (issue 8): a real `wuji worker` is SIGKILLed in the middle of a provisioning and of a
reinstall; the reconciler recovers. Same method and PostgreSQL-only reason as test_worker_recovery.py.

After recovery: exactly one charge (and, for a server that was never created, exactly one refund), no server
left in a task state, every instruction of the case with its outcome, ledger and audit chains verify.
"""

import datetime as dt
import signal
import threading
import time

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.billing import payg_tasks
from wuji.billing import services as billing
from wuji.billing.models import Subscription
from wuji.billing.subscription_choices import ChargeKind, SubscriptionState
from wuji.compute import tasks
from wuji.compute.choices import Operation, PowerState, VmState
from wuji.compute.models import Server
from wuji.core import testing
from wuji.ledger import services as ledger

from .test_operations import active_server, fake, operate
from .test_worker_recovery import kill, platform_clock, shared_database_url, start_worker, wait_until_held

__all__ = ["platform_clock"]  # the fixture, imported for pytest

BALANCE_FEN = 10_000


def place_order(customer, catalogue):
    order, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], cycle="monthly", name="fault-1", idempotency_key="f1",
                                   channel="web", ip="127.0.0.1")
    return Subscription.objects.select_related("server").get(order=order)


def kill_worker_held_at(tmp_path, point: str, task_path: str) -> None:
    proc, marker, log = start_worker(tmp_path, shared_database_url(), hold_at=point)
    try:
        wait_until_held(proc, marker, log)
        assert DBTaskResult.objects.get(task_path=task_path).status == "RUNNING"
    finally:
        kill(proc)
    assert proc.returncode == -signal.SIGKILL


def past_the_timeout(platform_clock) -> None:
    platform_clock.advance(dt.timedelta(seconds=settings.WUJI_OPERATION_TIMEOUT_SECONDS + 1))


def assert_nothing_lost(*instructions: Instruction) -> None:
    assert not Server.objects.exclude(task_state="").exists()
    for instruction in instructions:
        assert instruction.outcomes.count() == 1, instruction.action
    assert ledger.verify() == []
    assert audit.verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_provisioning_killed_before_the_guest_exists_fails_and_is_refunded_once(tmp_path, platform_clock):
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("kill-spawn@example.com", balance_fen=BALANCE_FEN)
    sub = place_order(customer, catalogue)
    order_instruction = Instruction.objects.get(action="order.place", result="accepted")
    assert ledger.balances(customer)["cash"] < BALANCE_FEN

    kill_worker_held_at(tmp_path, "spawn", "wuji.compute.tasks.provision_server")

    assert tasks.reconcile.call()["recovered"] == 0  # within the timeout: still in flight
    past_the_timeout(platform_clock)
    assert tasks.reconcile.call()["recovered"] == 1
    assert tasks.reconcile.call()["recovered"] == 0  # recovered once
    testing.run_tasks()  # billing's refund, then the release it asks for

    sub.refresh_from_db()
    sub.server.refresh_from_db()
    assert sub.state == SubscriptionState.REFUNDED and sub.server.vm_state == VmState.RELEASED
    kinds = sorted(sub.charges.values_list("kind", flat=True))
    assert kinds == sorted([ChargeKind.PROVISIONING_REFUND, sub.charges.exclude(
        kind=ChargeKind.PROVISIONING_REFUND).get().kind])  # one charge, one refund
    assert ledger.balances(customer) == {"cash": BALANCE_FEN, "gift": 0, "frozen": 0}
    assert customer.notices.filter(event="billing.provisioning_refunded").count() == 1
    outcome = order_instruction.outcomes.get()
    assert outcome.result == "failed"
    release = Instruction.objects.get(action="server.release", result="accepted")
    assert_nothing_lost(order_instruction, release)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_provisioning_killed_after_the_guest_was_created_ends_active_charged_once(tmp_path, platform_clock):
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("kill-spawned@example.com", balance_fen=BALANCE_FEN)
    sub = place_order(customer, catalogue)
    order_instruction = Instruction.objects.get(action="order.place", result="accepted")
    paid = ledger.balances(customer)

    kill_worker_held_at(tmp_path, "spawn", "wuji.compute.tasks.provision_server")
    server = sub.server
    fake().spawn(tasks.instance_spec(server, server.image, None))  # the guest was created before it died

    past_the_timeout(platform_clock)
    assert tasks.reconcile.call()["recovered"] == 1
    testing.run_tasks()

    server.refresh_from_db()
    sub.refresh_from_db()
    assert (server.vm_state, server.power_state) == (VmState.ACTIVE, PowerState.RUNNING)
    assert sub.state != SubscriptionState.REFUNDED
    assert sub.charges.count() == 1
    assert ledger.balances(customer) == paid  # no double charge, no refund
    assert order_instruction.outcomes.get().result == "succeeded"
    assert_nothing_lost(order_instruction)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reinstall_killed_mid_rebuild_is_recovered_with_an_outcome(tmp_path, platform_clock):
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("kill-reinstall@example.com", balance_fen=BALANCE_FEN)
    server = active_server(customer, catalogue)
    balances = ledger.balances(customer)
    instruction, _ = operate(server, Operation.REINSTALL, image=catalogue["image"])

    kill_worker_held_at(tmp_path, "rebuild", "wuji.compute.tasks.run_operation")

    past_the_timeout(platform_clock)
    assert tasks.reconcile.call()["recovered"] == 1
    server.refresh_from_db()
    assert (server.vm_state, server.power_state) == (VmState.ACTIVE, PowerState.RUNNING)
    assert "操作超时" in server.last_error
    assert instruction.outcomes.get().result == "failed"
    assert ledger.balances(customer) == balances  # a reinstall costs nothing, before or after the fault
    assert_nothing_lost(instruction, Instruction.objects.get(action="order.place", result="accepted"))

    again, _ = operate(server, Operation.REINSTALL, image=catalogue["image"])  # accepted and carried out
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.task_state, server.vm_state, server.last_error) == ("", VmState.ACTIVE, "")
    assert again.outcomes.get().result == "succeeded"


# --- the pay-as-you-go settlement run ------------------------------------------------------------------------


def hold_meter_row(meter_id: int, held: threading.Event, release: threading.Event) -> threading.Thread:
    """Lock one meter row from another connection: the worker's settlement blocks on it, mid-run."""
    from django.db import connection as thread_connection
    from django.db import transaction

    from wuji.billing.models import Meter

    def run():
        try:
            with transaction.atomic():
                Meter.objects.select_for_update().get(pk=meter_id)
                held.set()
                release.wait(timeout=300)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert held.wait(timeout=30)
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_settlement_killed_mid_run_charges_each_meter_once(tmp_path, platform_clock, monkeypatch):
    from wuji.billing import payg
    from wuji.billing.models import Meter
    from wuji.billing.tests.payg_helpers import buy
    from wuji.ledger.models import Transaction

    catalogue = testing.load_test_catalogue()
    meters = [buy(testing.make_customer(f"payg{i}@example.com", balance_fen=50_000), catalogue, key=f"p{i}")
              for i in range(3)]
    end = payg.period_end(platform_clock.now())
    Meter.objects.update(metered_until=end - dt.timedelta(hours=3), settled_until=end - dt.timedelta(hours=3))
    first, blocked, last = sorted(meters, key=lambda m: m.pk)

    held, release = threading.Event(), threading.Event()
    thread = hold_meter_row(blocked.pk, held, release)
    payg_tasks.settle_payg.enqueue()
    monkeypatch.setenv("WUJI_PAYG_SETTLEMENT_CHUNK", "1")  # one meter a chunk (a transaction) in the worker
    proc, _marker, log = start_worker(tmp_path, shared_database_url(), hold_at="none")
    try:
        deadline = time.monotonic() + 120
        while Meter.objects.get(pk=first.pk).settled_until != end:  # the first chunk committed
            assert proc.poll() is None, log.read_text(errors="replace")[-4000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(0.1)
        time.sleep(0.5)  # the second chunk waits for the held meter
        assert Meter.objects.get(pk=blocked.pk).settled_until < end
    finally:
        kill(proc)
        release.set()
        thread.join(timeout=30)
    assert Meter.objects.get(pk=last.pk).settled_until < end  # the run died half-way

    assert payg.settle(platform_clock.now()).meters == 2  # the next run: only what the killed one left
    assert payg.settle(platform_clock.now()).meters == 0
    for meter in meters:
        meter.refresh_from_db()
        assert meter.settled_until == end
        assert Transaction.objects.filter(idempotency_key__startswith=f"settle:{meter.server_id}:").count() == 1
        assert meter.charged_fen > 0
    assert len({m.charged_fen for m in meters}) == 1  # same plan, same 3 h: the killed run's and the re-run's
    assert_nothing_lost()
