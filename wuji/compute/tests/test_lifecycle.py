"""Suspension, resumption and release: the platform's own actions on a server (expiry, arrears, staff)."""

import datetime as dt

import pytest

from wuji.audit.models import Instruction
from wuji.compute import services as compute
from wuji.compute import tasks
from wuji.compute.choices import Operation, PowerState, SuspensionReason, TaskState, VmState
from wuji.compute.models import Server
from wuji.compute.signals import vm_state_written
from wuji.core import clock, testing

from .test_operations import active_server, fake, operate


def suspend(server, reason=SuspensionReason.EXPIRY):
    return compute.suspend(server, reason=reason, actor=None, channel="system")


def test_suspend_stops_the_machine_and_refuses_customer_operations(customer, catalogue):
    server = active_server(customer, catalogue)
    assert suspend(server) is True
    server.refresh_from_db()
    # Suspended from the decision on, before the task has powered anything off.
    assert (server.vm_state, server.suspension_reason, server.task_state) == (
        VmState.SUSPENDED, SuspensionReason.EXPIRY, TaskState.SUSPENDING)
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.vm_state, server.task_state, server.power_state) == (VmState.SUSPENDED, "", PowerState.SHUTDOWN)
    assert fake().get_info(str(server.uuid)).power_state == PowerState.SHUTDOWN
    with pytest.raises(compute.OperationRefused):
        operate(server, Operation.START)
    assert Instruction.objects.get(action="server.suspend", result="accepted").outcomes.get().result == "succeeded"


def test_suspend_waits_for_an_operation_in_flight(customer, catalogue):
    server = active_server(customer, catalogue)
    operate(server, Operation.REBOOT)
    assert suspend(server) is False
    server.refresh_from_db()
    assert server.vm_state == VmState.ACTIVE and server.task_state == TaskState.REBOOTING


def test_payment_reasons_lift_but_a_stronger_reason_replaces_them(customer, catalogue):
    server = active_server(customer, catalogue)
    suspend(server, SuspensionReason.ARREARS)
    testing.run_tasks()
    # Abuse found while suspended for arrears: paying must no longer lift it.
    assert suspend(server, SuspensionReason.ABUSE) is False
    server.refresh_from_db()
    assert server.suspension_reason == SuspensionReason.ABUSE
    assert compute.resume(server, actor=None, channel="system") is False
    assert compute.resume(server, reasons=[SuspensionReason.ABUSE], actor=None, channel="staff") is True
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.vm_state, server.suspension_reason, server.power_state) == (VmState.ACTIVE, "", PowerState.RUNNING)


def test_resume_after_expiry_starts_the_server(customer, catalogue):
    server = active_server(customer, catalogue)
    suspend(server)
    testing.run_tasks()
    assert compute.resume(server, actor=None, channel="system") is True
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.ACTIVE and server.suspension_reason == ""
    assert compute.resume(server, actor=None, channel="system") is False  # nothing left to lift


def test_release_destroys_the_machine_and_hides_the_server(customer, catalogue):
    server = active_server(customer, catalogue)
    assert compute.release(server, actor=None, channel="system", reason="expiry retention ended") is True
    assert compute.release(server, actor=None, channel="system", reason="again") is False  # in flight
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.RELEASED and server.task_state == ""
    assert str(server.uuid) not in fake().list_instances()
    assert not compute.servers_of(customer).filter(pk=server.pk).exists()
    assert compute.release(server, actor=None, channel="system", reason="again") is False


def test_state_writes_are_signalled_for_the_usage_meter(customer, catalogue):
    seen = []

    def receiver(sender, server_id, vm_state, power_state, at, **kwargs):
        seen.append((server_id, vm_state))

    vm_state_written.connect(receiver)
    try:
        server = active_server(customer, catalogue)
        suspend(server)
        testing.run_tasks()
    finally:
        vm_state_written.disconnect(receiver)
    assert [state for pk, state in seen if pk == server.pk] == [VmState.ACTIVE, VmState.SUSPENDED,
                                                                 VmState.SUSPENDED]


def test_stuck_suspension_stays_suspended_and_stuck_release_runs_again(customer, catalogue):
    first = active_server(customer, catalogue, key="a")
    second = active_server(customer, catalogue, key="b")
    suspend(first)
    compute.release(second, actor=None, channel="system", reason="retention ended")
    # Their worker died: nothing ran. Past the timeout the reconciler settles both.
    clock.advance(dt.timedelta(hours=1))
    try:
        counts = tasks.reconcile.call()
    finally:
        clock.reset()
    assert counts["recovered"] == 2
    first.refresh_from_db()
    assert (first.vm_state, first.suspension_reason, first.task_state) == (VmState.SUSPENDED,
                                                                          SuspensionReason.EXPIRY, "")
    testing.run_tasks()  # the re-enqueued release
    second.refresh_from_db()
    assert second.vm_state == VmState.RELEASED
    assert Server.objects.filter(task_state__gt="").count() == 0
