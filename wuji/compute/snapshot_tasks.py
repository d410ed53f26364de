"""Snapshot tasks: each carries out one accepted snapshot instruction on the node, idempotently, and leaves
the server (task_state cleared, error shown) and the snapshot consistent, success or failure."""

import logging

from django.db import transaction
from django_tasks import task

from . import snapshots
from .choices import SnapshotState, TaskState
from .drivers.base import DriverError
from .models import Snapshot
from .tasks import driver_for, finish, state_after_failure, vm_state_for

log = logging.getLogger(__name__)


def _load(snapshot_id: int, task_state: str, state: str) -> Snapshot | None:
    """The snapshot and its server, or None when this task has nothing left to do (a retry, or recovered)."""
    snapshot = Snapshot.objects.select_related("server__node").get(pk=snapshot_id)
    if snapshot.server.task_state != task_state or snapshot.state != state:
        return None
    return snapshot


def _failed(snapshot: Snapshot, instruction_id: int, exc: DriverError, *, state: str, **fields) -> str:
    log.warning("snapshot %s of %s: %r", snapshot.hypervisor_name, snapshot.server.uuid, exc)
    with transaction.atomic():
        snapshots.mark(snapshot.pk, state, **fields)
        finish(snapshot.server, instruction_id, vm_state=None, power_state=None, error=str(exc))
    return "failed"


@task()
def create_snapshot(snapshot_id: int, instruction_id: int) -> str:
    snapshot = _load(snapshot_id, TaskState.SNAPSHOTTING, SnapshotState.CREATING)
    if snapshot is None:
        return "nothing to do"
    try:
        info = driver_for(snapshot.server.node).create_snapshot(str(snapshot.server.uuid), snapshot.hypervisor_name)
    except DriverError as exc:  # the driver leaves no snapshot behind
        return _failed(snapshot, instruction_id, exc, state=SnapshotState.ERROR, error=str(exc)[:500])
    with transaction.atomic():
        snapshots.mark_created(snapshot.pk, info)
        finish(snapshot.server, instruction_id, vm_state=None, power_state=None)
    return "created"


@task()
def revert_snapshot(snapshot_id: int, instruction_id: int) -> str:
    snapshot = _load(snapshot_id, TaskState.REVERTING, SnapshotState.REVERTING)
    if snapshot is None:
        return "nothing to do"
    server = snapshot.server
    driver = driver_for(server.node)
    try:
        driver.revert_snapshot(str(server.uuid), snapshot.hypervisor_name)
        power = driver.get_info(str(server.uuid)).power_state
    except DriverError as exc:
        vm_state, power = state_after_failure(driver, server)
        with transaction.atomic():
            snapshots.mark(snapshot.pk, SnapshotState.AVAILABLE)
            finish(server, instruction_id, vm_state=vm_state, power_state=power, error=str(exc))
        return "failed"
    with transaction.atomic():
        snapshots.mark(snapshot.pk, SnapshotState.AVAILABLE)
        finish(server, instruction_id, vm_state=vm_state_for(power), power_state=power)
    return "reverted"


@task()
def delete_snapshot(snapshot_id: int, instruction_id: int) -> str:
    snapshot = _load(snapshot_id, TaskState.DELETING_SNAPSHOT, SnapshotState.DELETING)
    if snapshot is None:
        return "nothing to do"
    try:  # also for a failed attempt: whatever it may have left on the node goes
        driver_for(snapshot.server.node).delete_snapshot(str(snapshot.server.uuid), snapshot.hypervisor_name)
    except DriverError as exc:  # still there: still available (and charged)
        previous = SnapshotState.AVAILABLE if snapshot.created_at else SnapshotState.ERROR
        return _failed(snapshot, instruction_id, exc, state=previous)
    with transaction.atomic():
        snapshots.mark(snapshot.pk, SnapshotState.DELETED)
        finish(snapshot.server, instruction_id, vm_state=None, power_state=None)
    return "deleted"
