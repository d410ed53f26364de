"""Faults, nothing lost (issue 8): a compute node becomes unreachable, then comes back (decision 0053).

The node's URI is pointed at a libvirt daemon that is not there: `qemu+tcp://127.0.0.1:<closed port>/system`,
a loopback port nobody listens on, so every connection attempt (in this process and in a real `wuji worker`
subprocess) is refused at once by the real libvirt client. (Staff cannot enter qemu+tcp in the console, it is
unauthenticated; the test writes the row directly to stand for a node whose daemon is gone.) The node comes
back when its URI points at the fake hypervisor again, whose guests (in this process) never stopped.
The main test is PostgreSQL only, for the worker subprocess on the shared database (see
test_worker_recovery.py); the last test (the reconciler asks a down node once per pass) runs on both legs.

What is proved:
- the health check marks the node down at its first failed check (the rule of decision 0026: there is no
  failure threshold), with the error for staff; placement gives it no new server, so an order in its region
  is refused and nothing is charged;
- operations on its servers are accepted (the check may be a minute old), run by the worker, and fail at
  once with an outcome and the customer's message "the host cannot be reached"; no server is left in a task
  state; the platform says "error" where it cannot see the guest, and nothing is charged: operations are
  free, and a pay-as-you-go server in error accrues nothing (decision 0016) for as long as that lasts;
- the reconciler leaves what it cannot see alone, even past the operation timeout: a provisioning whose
  worker died stays in flight, servers keep their state (decision 0049);
- when the node is back: the check marks it up, the reconciler restores each server's state from the
  hypervisor and settles the dead provisioning (no guest: failed, refunded once), the operations asked again
  succeed, every instruction has exactly one outcome, ledger and audit chains verify.
Downtime itself is compensated through staff-run incidents and SLA credits (decision 0038), not here.
"""

import datetime as dt
import socket
import time

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.billing.models import Meter, Subscription
from wuji.billing.payg_choices import MeterRate
from wuji.billing.subscription_choices import ChargeKind, SubscriptionState
from wuji.billing.tests.payg_helpers import buy
from wuji.compute import tasks
from wuji.compute.choices import Operation, PowerState, VmState
from wuji.compute.models import Node, NodeHealth, Server
from wuji.core import testing
from wuji.ledger import services as ledger

from .test_operations import active_server, fake, operate
from .test_worker_recovery import kill, platform_clock, shared_database_url, start_worker, wait_until_held

__all__ = ["platform_clock"]  # the fixture, imported for pytest

UNREACHABLE = "宿主机暂时无法连接"  # the customer's message for NodeUnreachable (tasks.customer_error)
WORKER_TIMEOUT = 120  # seconds: Django start-up of a second process on a loaded two-core machine


def closed_loopback_port() -> int:
    """A loopback TCP port nobody listens on (bound, then released: connections to it are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def provisioning_of(server: Server) -> DBTaskResult:
    return DBTaskResult.objects.get(task_path="wuji.compute.tasks.provision_server",
                                    args_kwargs__kwargs__server_id=server.pk)


def kill_worker_in_provisioning(tmp_path, server: Server) -> None:
    """A real worker dies inside the spawn of `server` (held there, then SIGKILLed), as in test_fault_recovery."""
    (tmp_path / "spawn").mkdir()
    proc, marker, log = start_worker(tmp_path / "spawn", shared_database_url(), hold_at="spawn")
    try:
        wait_until_held(proc, marker, log)
        assert provisioning_of(server).status == "RUNNING"
    finally:
        kill(proc)


def run_in_worker(tmp_path, results: list[str]) -> None:
    """A real worker runs the queued tasks `results` (ids) to their end; then it is stopped."""
    (tmp_path / "ops").mkdir()
    proc, _marker, log = start_worker(tmp_path / "ops", shared_database_url(), hold_at="none")
    try:
        deadline = time.monotonic() + WORKER_TIMEOUT
        while DBTaskResult.objects.filter(pk__in=results, status__in=["READY", "RUNNING"]).exists():
            assert proc.poll() is None, log.read_text(errors="replace")[-4000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(0.1)
    finally:
        kill(proc)
    assert set(DBTaskResult.objects.filter(pk__in=results).values_list("status", flat=True)) == {"SUCCESSFUL"}


def queued(task_path: str, server: Server) -> str:
    return str(DBTaskResult.objects.get(task_path=task_path, status="READY",
                                        args_kwargs__kwargs__server_id=server.pk).pk)


def state(server: Server) -> tuple[str, str, str]:
    server.refresh_from_db()
    return server.task_state, server.vm_state, server.power_state


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unreachable_node_refuses_nothing_silently_charges_nothing_and_recovers(tmp_path, platform_clock):
    pytest.importorskip("libvirt")  # the unreachable node is a qemu+tcp URI, opened by the real libvirt client
    catalogue = testing.load_test_catalogue()
    node: Node = catalogue["node"]
    reachable_uri = node.uri
    customer = testing.make_customer("down@example.com", balance_fen=50_000)
    prepaid = active_server(customer, catalogue, key="u1")
    meter = buy(customer, catalogue, key="u2")
    metered = meter.server
    balances = ledger.balances(customer)

    # A provisioning in flight when its worker dies; the node then goes away.
    placed, _ = billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                    image=catalogue["image"], cycle="monthly", name="u3", idempotency_key="u3",
                                    channel="web", ip="127.0.0.1")
    spawning = placed.server
    kill_worker_in_provisioning(tmp_path, spawning)
    Node.objects.filter(pk=node.pk).update(uri=f"qemu+tcp://127.0.0.1:{closed_loopback_port()}/system")

    # Health: down at the first failed check, with the reason; no new server is placed there.
    assert tasks.check_nodes.call() == {"reachable": 0, "unreachable": 1}
    health = NodeHealth.objects.get(node=node)
    assert not health.is_reachable and "127.0.0.1" in health.last_error and health.last_error_at
    with pytest.raises(billing.PurchaseRefused, match="资源已售罄"):
        billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                            image=catalogue["image"], cycle="monthly", name="u4", idempotency_key="u4",
                            channel="web", ip="127.0.0.1")

    # Operations are accepted and a real worker runs them against the node: each fails at once, with an outcome.
    stop, _ = operate(prepaid, Operation.STOP)
    reinstall, _ = operate(metered, Operation.REINSTALL, image=catalogue["image"])
    run_in_worker(tmp_path, [queued("wuji.compute.tasks.run_operation", prepaid),
                             queued("wuji.compute.tasks.run_operation", metered)])
    for instruction, server in ((stop, prepaid), (reinstall, metered)):
        outcome = instruction.outcomes.get()
        assert outcome.result == "failed" and UNREACHABLE in outcome.detail
        assert state(server) == ("", VmState.ERROR, PowerState.NOSTATE)  # cannot say: error, not a guess
        assert UNREACHABLE in server.last_error
    meter.refresh_from_db()
    assert meter.rate == MeterRate.NONE  # a server in error is not charged (decision 0016)
    accrued_while_down = meter.accrued
    assert ledger.balances(customer) == {**balances, "cash": balances["cash"] - placed.amount_fen}  # only u3 paid

    # The reconciler, past the operation timeout, leaves alone what it cannot see.
    platform_clock.advance(dt.timedelta(seconds=settings.WUJI_OPERATION_TIMEOUT_SECONDS + 1))
    assert tasks.reconcile.call() == {"synced": 0, "recovered": 0}
    assert state(spawning)[:2] == ("spawning", VmState.BUILDING)
    assert provisioning_of(spawning).status == "RUNNING"  # its worker died: nobody else will finish it
    assert state(prepaid)[1] == state(metered)[1] == VmState.ERROR

    # The node comes back: health up, states restored from the hypervisor, the dead provisioning settled.
    Node.objects.filter(pk=node.pk).update(uri=reachable_uri)
    assert tasks.check_nodes.call() == {"reachable": 1, "unreachable": 0}
    assert tasks.reconcile.call() == {"synced": 2, "recovered": 1}
    testing.run_tasks()  # billing's refund of the provisioning, then the release it asks for
    for server in (prepaid, metered):
        assert state(server) == ("", VmState.ACTIVE, PowerState.RUNNING)
    meter.refresh_from_db()
    assert meter.rate == MeterRate.RUNNING and meter.accrued == accrued_while_down  # nothing for the outage
    sub = Subscription.objects.get(server=spawning)
    assert sub.state == SubscriptionState.REFUNDED and state(spawning)[1] == VmState.RELEASED
    assert sorted(sub.charges.values_list("kind", flat=True)) == sorted(
        [ChargeKind.PROVISIONING_REFUND, sub.charges.exclude(kind=ChargeKind.PROVISIONING_REFUND).get().kind])
    assert str(spawning.uuid) not in fake().list_instances()

    # Asked again, the operations run; the node answers.
    again = [operate(prepaid, Operation.STOP)[0], operate(metered, Operation.REINSTALL, image=catalogue["image"])[0]]
    testing.run_tasks()
    assert [i.outcomes.get().result for i in again] == ["succeeded", "succeeded"]
    assert state(prepaid) == ("", VmState.STOPPED, PowerState.SHUTDOWN)
    assert state(metered) == ("", VmState.ACTIVE, PowerState.RUNNING)

    # Nothing lost: the refunded order cost nothing, no operation was charged (pay-as-you-go is charged by
    # settlement, not yet run), one outcome per instruction, no task state, chains verify.
    assert ledger.balances(customer) == balances
    assert Meter.objects.get(pk=meter.pk).charged_fen == 0
    assert not Server.objects.exclude(task_state="").exists()
    instructions = Instruction.objects.filter(result="accepted", action__regex=r"^(order\.|payg\.|server\.)")
    for instruction in instructions:
        assert instruction.outcomes.count() == 1, instruction.action
    assert instructions.filter(outcomes__result="failed").count() == 3  # stop, reinstall, the dead provisioning
    assert ledger.verify() == [] and audit.verify() == []


def test_the_reconciler_asks_an_unreachable_node_once_per_pass_not_once_per_server(customer, catalogue,
                                                                                    monkeypatch):
    """Every attempt on a node whose packets are dropped costs a TCP connect timeout: one per pass, not per server."""
    servers = [active_server(customer, catalogue, key=f"r{i}") for i in range(3)]
    node_driver = fake()
    asked = []
    real_get_info = node_driver.get_info
    monkeypatch.setattr(node_driver, "get_info", lambda uuid: asked.append(uuid) or real_get_info(uuid))
    node_driver.set_reachable(False)
    assert tasks.reconcile.call() == {"synced": 0, "recovered": 0}
    assert len(asked) == 1
    assert {state(s) for s in servers} == {("", VmState.ACTIVE, PowerState.RUNNING)}
    node_driver.set_reachable(True)
    node_driver.power_off(str(servers[2].uuid), timeout=0)  # changed while nobody could see it
    assert tasks.reconcile.call() == {"synced": 1, "recovered": 0}
    assert len(asked) == 1 + 3
    assert state(servers[2]) == ("", VmState.STOPPED, PowerState.SHUTDOWN)
