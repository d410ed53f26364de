"""Snapshots (快照) of a server on a node that supports them: create, list, revert, delete.

Each operation is a customer instruction on the server (it pauses or rewrites the server's disk): recorded,
started by the server's task_state compare-and-swap plus a conditional update of the snapshot's own state,
carried out by a task in `snapshot_tasks`. Billing charges for a snapshot while it exists, following the
signals `snapshot_requested` (may refuse) and `snapshot_written` (decision 0028).
"""

import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Result
from wuji.core import clock

from .choices import SnapshotState, TaskState, VmState
from .models import Server, Snapshot
from .services import OperationRefused
from .signals import snapshot_requested, snapshot_written

CREATE_FROM = (VmState.ACTIVE, VmState.STOPPED)
REVERT_FROM = (VmState.STOPPED,)  # like Aliyun: a disk is rolled back only while the server is off
DELETE_FROM = (VmState.ACTIVE, VmState.STOPPED, VmState.ERROR)
NAME_MAX = 64


def snapshots_of(server: Server):
    """The snapshots a customer sees on a server: live ones and failed attempts, oldest first."""
    return Snapshot.objects.filter(server=server).exclude(state=SnapshotState.DELETED).order_by("id")


def supports_snapshots(server: Server) -> bool:
    from .tasks import driver_for

    return server.node is not None and driver_for(server.node).capabilities.supports_snapshots


@contextmanager
def _instruction(server: Server, *, action: str, params: dict, actor, channel: str, ip: str | None):
    """One transaction for the instruction's writes; an OperationRefused raised inside rolls them back, is
    recorded as a refused instruction, and propagates to the caller."""
    try:
        with transaction.atomic():
            yield
    except OperationRefused as exc:
        audit.record(actor=actor, owner=server.owner, channel=channel, action=action, target=server,
                     params=params, ip=ip, result=Result.REFUSED, detail=str(exc))
        raise


def _claim(server: Server, task_state: str, allowed: tuple[str, ...], wrong_state: str) -> None:
    """The compare-and-swap that starts an operation on the server, or the reason it cannot start."""
    started = Server.objects.filter(pk=server.pk, task_state=TaskState.NONE, vm_state__in=allowed).update(
        task_state=task_state, task_state_changed_at=clock.now())
    if started:
        return
    current = Server.objects.filter(pk=server.pk).values("task_state", "vm_state").get()
    if current["task_state"]:
        raise OperationRefused(_("该服务器有操作正在进行（%(task)s），请等待完成后再试。") % {
            "task": TaskState.label(current["task_state"])})
    if current["vm_state"] == VmState.SUSPENDED:
        raise OperationRefused(_("服务器已暂停服务，暂不能操作快照。"))
    raise OperationRefused(wrong_state % {"state": VmState.label(current["vm_state"])})


def _record(server: Server, action: str, params: dict, actor, channel: str, ip: str | None):
    return audit.record(actor=actor, owner=server.owner, channel=channel, action=action, target=server,
                        params=params, ip=ip)


def create_snapshot(*, server: Server, name: str, idempotency_key: str, actor, channel: str,
                    ip: str | None = None) -> Snapshot:
    """Take a snapshot of the server (disk, and memory when running). A replay of the key returns the first
    snapshot. Refused when the node has no snapshots, the server has its limit, the name is taken, billing
    cannot charge for it, or the server is busy, suspended or not running/stopped."""
    first = Snapshot.objects.filter(server=server, idempotency_key=idempotency_key).first()
    if first is not None:
        return first
    name = (name or "").strip()[:NAME_MAX] or f"snapshot-{clock.local_now():%Y%m%d-%H%M%S}"
    params = {"name": name}
    with _instruction(server, action="server.snapshot_create", params=params, actor=actor, channel=channel, ip=ip):
        if not supports_snapshots(server):
            raise OperationRefused(_("该服务器所在的宿主机不支持快照。"))
        snapshot_requested.send(sender=Snapshot, server=server)
        _claim(server, TaskState.SNAPSHOTTING, CREATE_FROM, _("服务器当前状态（%(state)s）不能创建快照。"))
        live = Snapshot.objects.filter(server=server, state__in=SnapshotState.LIVE)
        limit = settings.WUJI_SNAPSHOTS_PER_SERVER
        if live.count() >= limit:
            raise OperationRefused(_("每台服务器最多保留 %(limit)s 个快照，请先删除不再需要的快照。")
                                   % {"limit": limit})
        if live.filter(name=name).exists():
            raise OperationRefused(_("该服务器已有同名快照。"))
        snapshot = Snapshot.objects.create(
            server=server, name=name, hypervisor_name=f"wuji-{uuid.uuid4().hex}", idempotency_key=idempotency_key,
            requested_at=clock.now())
        instruction = _record(server, "server.snapshot_create", {**params, "snapshot": snapshot.pk}, actor,
                              channel, ip)
        from . import snapshot_tasks

        snapshot_tasks.create_snapshot.enqueue(snapshot_id=snapshot.pk, instruction_id=instruction.pk)
    return snapshot


def _start_on_snapshot(snapshot: Snapshot, *, action: str, task_state: str, allowed, wrong_state: str,
                       from_states, to_state: str, task, actor, channel: str, ip: str | None):
    """Claim the server, move the snapshot from one of `from_states` to `to_state`, record the instruction
    and enqueue `task` for it, all in one transaction."""
    server = snapshot.server
    params = {"snapshot": snapshot.pk, "name": snapshot.name}
    with _instruction(server, action=action, params=params, actor=actor, channel=channel, ip=ip):
        _claim(server, task_state, allowed, wrong_state)
        if not Snapshot.objects.filter(pk=snapshot.pk, state__in=from_states).update(state=to_state):
            raise OperationRefused(_("快照当前状态（%(state)s）不允许此操作。") % {
                "state": SnapshotState.label(Snapshot.objects.get(pk=snapshot.pk).state)})
        instruction = _record(server, action, params, actor, channel, ip)
        task.enqueue(snapshot_id=snapshot.pk, instruction_id=instruction.pk)
    return instruction


def revert_snapshot(*, snapshot: Snapshot, actor, channel: str, ip: str | None = None):
    """Roll the server back to the snapshot (回滚). The server must be stopped; everything written since the
    snapshot is lost, and the server ends powered as it was when the snapshot was taken."""
    from . import snapshot_tasks

    return _start_on_snapshot(
        snapshot, action="server.snapshot_revert", task_state=TaskState.REVERTING, allowed=REVERT_FROM,
        wrong_state=_("请先关机再回滚快照（当前状态：%(state)s）。"), from_states=[SnapshotState.AVAILABLE],
        to_state=SnapshotState.REVERTING, task=snapshot_tasks.revert_snapshot, actor=actor, channel=channel, ip=ip)


def delete_snapshot(*, snapshot: Snapshot, actor, channel: str, ip: str | None = None):
    """Delete the snapshot (its charge stops when the node confirms). A failed attempt can be deleted too."""
    from . import snapshot_tasks

    return _start_on_snapshot(
        snapshot, action="server.snapshot_delete", task_state=TaskState.DELETING_SNAPSHOT, allowed=DELETE_FROM,
        wrong_state=_("服务器当前状态（%(state)s）不能删除快照。"),
        from_states=[SnapshotState.AVAILABLE, SnapshotState.ERROR], to_state=SnapshotState.DELETING,
        task=snapshot_tasks.delete_snapshot, actor=actor, channel=channel, ip=ip)


# --- Following the node (tasks) -----------------------------------------------------------------------------


def mark(snapshot_id: int, state: str, **fields) -> None:
    """Write a snapshot's state; a deletion closes its charged period (billing hears it in this transaction)."""
    now = clock.now()
    if state == SnapshotState.DELETED:
        fields["deleted_at"] = now
    Snapshot.objects.filter(pk=snapshot_id).update(state=state, **fields)
    if state == SnapshotState.DELETED:
        snapshot_written.send(sender=Snapshot, snapshot_id=snapshot_id, state=state, at=now)


def mark_created(snapshot_id: int, info) -> None:
    """The node confirmed the snapshot (a driver SnapshotInfo): it exists, and is charged, from now."""
    now = clock.now()
    Snapshot.objects.filter(pk=snapshot_id).update(state=SnapshotState.AVAILABLE, created_at=now,
                                                   power_state=info.power_state, size_bytes=info.size_bytes)
    snapshot_written.send(sender=Snapshot, snapshot_id=snapshot_id, state=SnapshotState.AVAILABLE, at=now)


def forget_missing(server: Server, names_on_node: set[str] | None) -> int:
    """Mark deleted every live snapshot of the server the node no longer has (`None`: the node has none, the
    server was destroyed). Returns how many."""
    gone = 0
    with transaction.atomic():
        for snapshot in Snapshot.objects.filter(server=server, state__in=SnapshotState.LIVE):
            if names_on_node is None or snapshot.hypervisor_name not in names_on_node:
                mark(snapshot.pk, SnapshotState.DELETED)
                gone += 1
    return gone


def after_reinstall(driver, server: Server) -> int:
    """A reinstall discards the server's snapshots with its old disk, also when it failed midway (decision
    0028): forget those the node no longer has. A node that cannot say keeps the rows until it can."""
    from .drivers.base import DriverError

    try:
        names = {info.name for info in driver.list_snapshots(str(server.uuid))}
    except DriverError:
        return 0
    return forget_missing(server, names)


IN_FLIGHT = {
    TaskState.SNAPSHOTTING: SnapshotState.CREATING,
    TaskState.REVERTING: SnapshotState.REVERTING,
    TaskState.DELETING_SNAPSHOT: SnapshotState.DELETING,
}


def recover(driver, server: Server, task_state: str) -> None:
    """The worker of a snapshot operation died and the reconciler took the server back: settle the snapshot
    from what the node has. Kept when the node has it (a creation that finished is charged from now),
    otherwise an unfinished creation is an error and an unfinished deletion is done."""
    from .drivers.base import DriverError

    state = IN_FLIGHT.get(task_state)
    if state is None:
        return
    try:
        on_node = {info.name: info for info in driver.list_snapshots(str(server.uuid))}
    except DriverError:
        on_node = None  # cannot tell: assume nothing changed on the node
    for snapshot in Snapshot.objects.filter(server=server, state=state):
        info = on_node.get(snapshot.hypervisor_name) if on_node is not None else None
        there = info is not None or (on_node is None and snapshot.created_at is not None)
        if state == SnapshotState.CREATING and info is not None:
            mark_created(snapshot.pk, info)
        elif state == SnapshotState.CREATING:
            mark(snapshot.pk, SnapshotState.ERROR, error=_("操作超时，快照未创建。"))
        elif state == SnapshotState.DELETING and not there:
            mark(snapshot.pk, SnapshotState.DELETED)
        else:
            mark(snapshot.pk, SnapshotState.AVAILABLE if snapshot.created_at else SnapshotState.ERROR)
