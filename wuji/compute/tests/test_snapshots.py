"""Snapshots as customer instructions: create, revert, delete, each refusal, reinstall and release."""

import pytest

from wuji.audit.models import Instruction
from wuji.compute import snapshots
from wuji.compute.choices import Operation, PowerState, SnapshotState, TaskState, VmState
from wuji.compute.drivers.fake import FakeDriver
from wuji.compute.models import Node, Snapshot
from wuji.compute.services import OperationRefused
from wuji.core import clock, testing

from .test_operations import active_server, fake, operate


def take(server, name="before upgrade", key="snap-1"):
    return snapshots.create_snapshot(server=server, name=name, idempotency_key=key, actor=server.owner,
                                     channel="web", ip="127.0.0.1")


def revert(snapshot):
    return snapshots.revert_snapshot(snapshot=snapshot, actor=snapshot.server.owner, channel="web", ip="127.0.0.1")


def delete(snapshot):
    return snapshots.delete_snapshot(snapshot=snapshot, actor=snapshot.server.owner, channel="web", ip="127.0.0.1")


def settled(obj):
    testing.run_tasks()
    obj.refresh_from_db()
    return obj


def stopped_server(customer, catalogue, key="k"):
    server = active_server(customer, catalogue, key=key)
    operate(server, Operation.STOP)
    return settled(server)


def test_create_revert_delete_on_the_node(customer, catalogue):
    server = stopped_server(customer, catalogue)
    disk = fake().disks[str(server.uuid)]
    disk.content = "good"
    snapshot = take(server)
    server.refresh_from_db()
    assert (snapshot.state, server.task_state) == (SnapshotState.CREATING, TaskState.SNAPSHOTTING)
    settled(snapshot)
    assert snapshot.state == SnapshotState.AVAILABLE and snapshot.created_at is not None
    assert snapshot.power_state == PowerState.SHUTDOWN
    assert [i.name for i in fake().list_snapshots(str(server.uuid))] == [snapshot.hypervisor_name]

    fake().disks[str(server.uuid)].content = "broken"
    revert(snapshot)
    assert settled(snapshot).state == SnapshotState.AVAILABLE
    assert fake().disks[str(server.uuid)].content == "good"
    assert settled(server).vm_state == VmState.STOPPED and server.task_state == ""

    delete(snapshot)
    assert settled(snapshot).state == SnapshotState.DELETED and snapshot.deleted_at is not None
    assert fake().list_snapshots(str(server.uuid)) == []
    assert list(snapshots.snapshots_of(server)) == []
    accepted = Instruction.objects.filter(action__startswith="server.snapshot", result="accepted").order_by("seq")
    assert [i.action for i in accepted] == ["server.snapshot_create", "server.snapshot_revert",
                                            "server.snapshot_delete"]
    assert all(i.outcomes.get().result == "succeeded" for i in accepted)


def test_a_running_server_is_snapshotted_running_and_a_replayed_key_returns_the_first(customer, catalogue):
    server = active_server(customer, catalogue)
    first = take(server)
    assert take(server) == first
    assert settled(first).power_state == PowerState.RUNNING
    assert Snapshot.objects.count() == 1
    assert Instruction.objects.filter(action="server.snapshot_create", result="accepted").count() == 1


def refused(call, match):
    with pytest.raises(OperationRefused, match=match):
        call()
    return Instruction.objects.filter(result="refused").latest("seq")


def test_refused_when_the_node_has_no_snapshots(customer, catalogue, monkeypatch):
    server = active_server(customer, catalogue)
    monkeypatch.setattr(FakeDriver, "capabilities", FakeDriver.capabilities.__class__(supports_snapshots=False))
    record = refused(lambda: take(server), "不支持快照")
    assert record.action == "server.snapshot_create" and not Snapshot.objects.exists()
    assert settled(server).task_state == ""


def test_refused_when_the_limit_is_reached(customer, catalogue, settings):
    settings.WUJI_SNAPSHOTS_PER_SERVER = 2
    server = active_server(customer, catalogue)
    for n in range(2):
        settled(take(server, name=f"s{n}", key=f"k{n}"))
    refused(lambda: take(server, name="s2", key="k2"), "最多保留 2 个快照")
    assert Snapshot.objects.count() == 2 and settled(server).task_state == ""


def test_refused_when_the_name_is_taken_but_free_again_after_deletion(customer, catalogue):
    server = active_server(customer, catalogue)
    first = settled(take(server, name="daily", key="a"))
    refused(lambda: take(server, name="daily", key="b"), "同名快照")
    delete(first)
    settled(first)
    assert settled(take(server, name="daily", key="c")).state == SnapshotState.AVAILABLE


def test_refused_while_another_operation_runs(customer, catalogue):
    server = active_server(customer, catalogue)
    operate(server, Operation.REBOOT)
    refused(lambda: take(server), "正在进行")
    assert not Snapshot.objects.exists()


def test_refused_while_suspended(customer, catalogue):
    from wuji.compute import services

    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    services.suspend(server, reason="abuse", actor=None, channel="staff")
    settled(server)
    refused(lambda: take(server, key="again"), "暂停服务")
    refused(lambda: delete(snapshot), "暂停服务")
    assert settled(snapshot).state == SnapshotState.AVAILABLE


def test_revert_needs_a_stopped_server_and_an_available_snapshot(customer, catalogue):
    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    refused(lambda: revert(snapshot), "请先关机")
    operate(server, Operation.STOP)
    settled(server)
    delete(snapshot)
    settled(snapshot)
    refused(lambda: revert(snapshot), "快照当前状态")
    assert settled(server).task_state == ""  # the refused revert released its claim


def test_a_failed_creation_leaves_an_error_row_that_can_be_deleted(customer, catalogue):
    server = active_server(customer, catalogue)
    fake().fail_next("create_snapshot")
    snapshot = settled(take(server))
    assert snapshot.state == SnapshotState.ERROR
    assert settled(server).task_state == "" and server.last_error and server.vm_state == VmState.ACTIVE
    delete(snapshot)
    assert settled(snapshot).state == SnapshotState.DELETED


def test_a_failed_deletion_keeps_the_snapshot(customer, catalogue):
    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    fake().fail_next("delete_snapshot")
    delete(snapshot)
    assert settled(snapshot).state == SnapshotState.AVAILABLE
    assert settled(server).last_error and server.task_state == ""


def test_reinstall_discards_the_snapshots(customer, catalogue):
    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    operate(server, Operation.REINSTALL, image=catalogue["other_image"])
    settled(server)
    assert settled(snapshot).state == SnapshotState.DELETED
    assert fake().list_snapshots(str(server.uuid)) == []


def test_a_reinstall_refused_by_the_node_keeps_the_snapshots(customer, catalogue):
    from wuji.compute.drivers.base import InvalidImage

    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    fake().fail_next("rebuild", InvalidImage())
    operate(server, Operation.REINSTALL, image=catalogue["other_image"])
    assert settled(server).last_error
    assert settled(snapshot).state == SnapshotState.AVAILABLE


def test_a_reinstall_that_fails_after_the_old_disk_went_forgets_the_snapshots(customer, catalogue):
    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    fake().fail_next("rebuild.create_disk")
    operate(server, Operation.REINSTALL, image=catalogue["other_image"])
    assert settled(server).last_error
    assert settled(snapshot).state == SnapshotState.DELETED


def test_release_removes_the_snapshots(customer, catalogue):
    from wuji.compute import services

    server = active_server(customer, catalogue)
    snapshot = settled(take(server))
    services.release(server, actor=None, channel="staff", reason="test")
    assert settled(server).vm_state == VmState.RELEASED
    assert settled(snapshot).state == SnapshotState.DELETED


def test_nodes_declare_support_by_driver(customer, catalogue):
    server = active_server(customer, catalogue)
    assert snapshots.supports_snapshots(server)
    server.node = Node(uri="test:///default", virt_type="qemu", storage_pool="default-pool")
    assert snapshots.supports_snapshots(server)


@pytest.mark.parametrize("finished_on_node", [False, True])
def test_the_reconciler_settles_a_creation_whose_worker_died(customer, catalogue, settings, finished_on_node):
    import datetime as dt

    from wuji.compute import tasks
    from wuji.compute.models import Server

    server = active_server(customer, catalogue)
    snapshot = take(server)  # its task never runs: the worker died
    if finished_on_node:
        fake().create_snapshot(str(server.uuid), snapshot.hypervisor_name)
    long_ago = clock.now() - dt.timedelta(seconds=settings.WUJI_OPERATION_TIMEOUT_SECONDS + 1)
    Server.objects.filter(pk=server.pk).update(task_state_changed_at=long_ago)
    assert tasks.reconcile.call()["recovered"] == 1
    snapshot.refresh_from_db()
    assert snapshot.state == (SnapshotState.AVAILABLE if finished_on_node else SnapshotState.ERROR)
    assert settled(server).task_state == "" and server.vm_state == VmState.ACTIVE  # the stale task: nothing to do
    assert settled(snapshot).state == (SnapshotState.AVAILABLE if finished_on_node else SnapshotState.ERROR)
