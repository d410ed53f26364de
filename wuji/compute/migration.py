"""Moving servers between nodes (机房迁移, clauses 5.5 and 8.6).

Staff schedule a plan (one server, a node or a region onto a target node) for a window that starts at least
3 calendar days ahead in business time (Asia/Shanghai). Scheduling holds the servers' capacity on the target
node (`services.committed_capacity`) and, for a move into another region, reserves each server's new public
IP (`network.reserve_address`), so the notice sent to every owner right away can name it. A periodic job sends
the 24-hour reminder once per server and starts each server's move at the window: the task stops it, copies
its disk to the target node, starts it there, then switches the server's node and address in one transaction
and only then deletes the source copy. Until that switch the source node is the authority: a failure removes
the target copy and brings the server back up where it was. Decision 0025 records the choices.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from wuji.audit import services as audit
from wuji.audit.models import Instruction
from wuji.core import clock
from wuji.core.scheduler import periodic
from wuji.network import services as network
from wuji.notifications import services as notifications

from . import notices, services, tasks
from .choices import MigrationScope, MigrationState, PowerState, TaskState, VmState
from .drivers.base import DriverError
from .models import MigrationItem, MigrationPlan, Node, Server

log = logging.getLogger(__name__)

NOTICE_DAYS = 3  # 5.5: "至少提前3个自然日通知"
REMINDER_BEFORE = dt.timedelta(hours=24)
HEARTBEAT_EVERY = dt.timedelta(seconds=30)
MISSED_WINDOW = gettext_lazy("在迁移时间窗口内未能开始（服务器有操作正在进行或状态不允许迁移）。")
# A suspended server moves too (its data must), and stays suspended; building or broken ones wait.
MIGRATABLE = (VmState.ACTIVE, VmState.STOPPED, VmState.SUSPENDED)
# How long an ended move stays on the owner's server page and in the API: long enough to act on the new IP.
SHOWN_AFTER_END = dt.timedelta(days=7)


class MigrationRefused(services.OperationRefused):
    """Staff's plan cannot be scheduled as asked; the message says why."""


# --- Scheduling -----------------------------------------------------------------------------------------


def earliest_start(now: dt.datetime) -> dt.datetime:
    """The first instant a window may start: midnight (Shanghai) of the third calendar day after today's."""
    day = now.astimezone(clock.SHANGHAI).date() + dt.timedelta(days=NOTICE_DAYS)
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.SHANGHAI)


def affected_servers(*, scope: str, server: Server | None = None, node: Node | None = None, region=None,
                     target: Node):
    """The live servers a plan moves, in id order; those already on the target are left out."""
    servers = (Server.objects.exclude(vm_state=VmState.RELEASED).exclude(node=target).filter(node__isnull=False)
               .select_related("owner", "node"))
    if scope == MigrationScope.SERVER:
        servers = servers.filter(pk=server.pk)
    elif scope == MigrationScope.NODE:
        servers = servers.filter(node=node)
    elif scope == MigrationScope.REGION:
        servers = servers.filter(node__region=region)
    else:
        raise ValueError(f"unknown migration scope {scope!r}")
    return servers.order_by("pk")


def schedule(*, scope: str, target: Node, window_start: dt.datetime, window_end: dt.datetime, reason: str,
             actor, server: Server | None = None, node: Node | None = None, region=None,
             ip: str | None = None) -> MigrationPlan:
    """Schedule a migration and notify every affected owner (date, window, new IP). All or nothing: raises
    MigrationRefused (or NoCapacity/NoAddressLeft) with the reason, and then nothing is written."""
    reason = (reason or "").strip()
    _check_request(target=target, window_start=window_start, window_end=window_end, reason=reason)
    with transaction.atomic():
        target = Node.objects.select_for_update().select_related("region").get(pk=target.pk)
        servers = list(affected_servers(scope=scope, server=server, node=node, region=region, target=target))
        _check_servers(servers, target)
        plan = MigrationPlan.objects.create(
            scope=scope, server=server, node=node, region=region, target_node=target, window_start=window_start,
            window_end=window_end, reason=reason, created_by=actor, created_at=clock.now())
        items = [_add_item(plan, s) for s in servers]  # one by one: each reservation sees the previous ones
        audit.record(actor=actor, owner=None, channel="staff", action="migration.schedule", target=plan, ip=ip,
                     params={"scope": scope, "target_node": target.name, "servers": [s.pk for s in servers],
                             "window_start": window_start.isoformat(), "window_end": window_end.isoformat(),
                             "reason": reason})
        for item in items:
            _send(item, "scheduled_notice", notices.MIGRATION_SCHEDULED.code)
    return plan


def _check_request(*, target: Node, window_start, window_end, reason: str) -> None:
    if not reason:
        raise MigrationRefused(_("请填写迁移原因，它会告知客户。"))
    if window_end <= window_start:
        raise MigrationRefused(_("迁移时间窗口的结束时间必须晚于开始时间。"))
    earliest = earliest_start(clock.now())
    if window_start < earliest:
        raise MigrationRefused(_("迁移须至少提前 3 个自然日通知客户：最早可安排在 %(earliest)s（北京时间）开始。")
                               % {"earliest": earliest.strftime("%Y-%m-%d %H:%M")})
    if not tasks.driver_for(target).capabilities.supports_migration:
        raise MigrationRefused(_("目标宿主机 %(node)s 不支持迁移（无法复制云盘）。") % {"node": target.name})


def _check_servers(servers: list[Server], target: Node) -> None:
    if not servers:
        raise MigrationRefused(_("没有需要迁移的服务器。"))
    busy = MigrationItem.objects.filter(server__in=servers, state__in=MigrationState.ACTIVE)
    if busy.exists():
        names = ", ".join(sorted({item.server.name for item in busy.select_related("server")}))
        raise MigrationRefused(_("以下服务器已有待执行的迁移：%(names)s。") % {"names": names})
    for source in {s.node for s in servers}:
        if not tasks.driver_for(source).capabilities.supports_migration:
            raise MigrationRefused(_("源宿主机 %(node)s 不支持迁移（无法复制云盘）。") % {"node": source.name})
        if source.uri == target.uri:  # one hypervisor: the clean-up on one side would remove the other
            raise MigrationRefused(_("源宿主机 %(node)s 与目标宿主机是同一台虚拟化主机。") % {"node": source.name})
    used = services.committed_capacity([target.pk]).get(target.pk, {})
    needed = {"vcpus": sum(s.vcpus for s in servers), "memory_mib": sum(s.memory_mib for s in servers),
              "disk_gib": sum(s.disk_gib for s in servers)}
    for field, used_key in (("vcpus", "vcpus_used"), ("memory_mib", "memory_used"), ("disk_gib", "disk_used")):
        free = getattr(target, f"allocatable_{field}") - (used.get(used_key) or 0)
        if needed[field] > free:
            raise services.NoCapacity(_("目标宿主机 %(node)s 容量不足：需要 %(field)s %(needed)s，可用 %(free)s。") % {
                "node": target.name, "field": Node._meta.get_field(field).verbose_name, "needed": needed[field],
                "free": free})


def _add_item(plan: MigrationPlan, server: Server) -> MigrationItem:
    """The server's item, with its new address: the same one inside the region, a reserved one across."""
    old = new = network.address_of(server)
    if server.region_id != plan.target_node.region_id:
        new = network.reserve_address(plan.target_node.region_id)
        if new is None and old is not None:
            raise MigrationRefused(_("目标地域没有可用的公网 IP 池，服务器 %(name)s 迁移后将没有公网 IP。")
                                   % {"name": server.name})
    return MigrationItem.objects.create(plan=plan, server=server, source_node=server.node,
                                        target_node=plan.target_node, old_address=old, new_address=new)


# --- Notices --------------------------------------------------------------------------------------------


def notice_context(item: MigrationItem) -> dict:
    local_start = item.plan.window_start.astimezone(clock.SHANGHAI)
    local_end = item.plan.window_end.astimezone(clock.SHANGHAI)
    end_format = "%H:%M" if local_end.date() == local_start.date() else "%Y-%m-%d %H:%M"
    return {
        "name": item.server.name, "uuid": str(item.server.uuid), "reason": item.plan.reason,
        "date": local_start.strftime("%Y-%m-%d"),
        "window": f"{local_start:%Y-%m-%d %H:%M} – {local_end.strftime(end_format)}",
        "old_address": item.old_address or "", "new_address": item.new_address or "",
        "address_changes": item.address_changes,
        "error": item.error,
    }


def _send(item: MigrationItem, field: str, event: str) -> bool:
    """Send one of the item's notices unless it was sent already; the notice row is kept on the item (the
    proof of notice, with its deliveries). Call inside a transaction."""
    locked = MigrationItem.objects.select_for_update().select_related("plan", "server__owner").get(pk=item.pk)
    if getattr(locked, f"{field}_id") is not None:
        return False
    notice = notifications.notify(locked.server.owner, event, notice_context(locked))
    MigrationItem.objects.filter(pk=item.pk).update(**{field: notice})
    return True


def send_reminders() -> int:
    """The 24-hour reminder, once per server, for every scheduled move whose window starts within 24 h."""
    due = MigrationItem.objects.filter(state=MigrationState.SCHEDULED, reminder_notice__isnull=True,
                                       plan__window_start__lte=clock.now() + REMINDER_BEFORE)
    sent = 0
    for item in due:
        with transaction.atomic():
            sent += _send(item, "reminder_notice", notices.MIGRATION_REMINDER.code)
    return sent


# --- The owner's view -----------------------------------------------------------------------------------


def migrations_of(owner, server_id: int) -> list[MigrationItem]:
    """The moves an owner sees for one server: scheduled and running ones, and those that ended within
    SHOWN_AFTER_END (the new IP and the DNS reminder stay in view after the notice), latest window first.
    Only items of a server the owner can reach (owner boundary); plan and server come in the same query, so
    `notice_context` costs nothing more."""
    shown_since = clock.now() - SHOWN_AFTER_END
    return list(MigrationItem.objects
                .filter(server_id=server_id, server__owner=owner)
                .exclude(server__vm_state=VmState.RELEASED)
                .filter(Q(state__in=MigrationState.ACTIVE) | Q(finished_at__gte=shown_since))
                .select_related("plan", "server")
                .order_by("-plan__window_start", "-pk"))


# --- Execution ------------------------------------------------------------------------------------------


@periodic("compute.migrations", every=dt.timedelta(minutes=1))
@task()
def run_migrations() -> dict:
    """Reminders first, then start the moves whose window is open, then give up on those whose closed."""
    return {"reminded": send_reminders(), "started": start_due(), "missed": fail_missed()}


def start_due() -> int:
    """Start every scheduled move whose window is open and whose server is free (compare-and-swap of its
    task_state to `migrating`); a server with an operation in flight is tried again on the next run."""
    now = clock.now()
    due = MigrationItem.objects.filter(state=MigrationState.SCHEDULED, plan__window_start__lte=now,
                                       plan__window_end__gt=now)
    due = due.select_related("server__owner", "source_node", "target_node")
    return sum(_start(item, now) for item in due)


def _start(item: MigrationItem, now: dt.datetime) -> bool:
    server = item.server
    with transaction.atomic():
        taken = Server.objects.filter(pk=server.pk, task_state=TaskState.NONE, vm_state__in=MIGRATABLE).update(
            task_state=TaskState.MIGRATING, task_state_changed_at=now)
        if not taken:
            return False
        server.refresh_from_db(fields=["power_state"])
        MigrationItem.objects.filter(pk=item.pk, state=MigrationState.SCHEDULED).update(
            state=MigrationState.RUNNING, started_at=now, was_running=server.power_state == PowerState.RUNNING)
        MigrationPlan.objects.filter(pk=item.plan_id, state=MigrationState.SCHEDULED).update(
            state=MigrationState.RUNNING)
        instruction = audit.record(actor=None, owner=server.owner, channel="system", action="server.migrate",
                                   target=server, params={"plan": item.plan_id, "from": item.source_node.name,
                                                          "to": item.target_node.name,
                                                          "new_address": item.new_address})
        migrate_server.enqueue(item_id=item.pk, instruction_id=instruction.pk)
    return True


def cancel(plan: MigrationPlan, *, actor, reason: str, ip: str | None = None) -> int:
    """Staff call off the servers of a plan that have not started (a running move finishes); their capacity
    and addresses are freed and each owner is told. Returns how many were cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise MigrationRefused(_("请填写取消原因。"))
    with transaction.atomic():
        items = list(MigrationItem.objects.select_for_update().filter(plan=plan, state=MigrationState.SCHEDULED))
        audit.record(actor=actor, owner=None, channel="staff", action="migration.cancel", target=plan, ip=ip,
                     params={"servers": [item.server_id for item in items], "reason": reason})
        for item in items:
            _close(item, MigrationState.CANCELLED, "")
    return len(items)


def fail_missed() -> int:
    """A move that could not start inside its window fails (the server was never touched): the owner is told
    it stays where it is; staff schedule again with a new notice."""
    missed = list(MigrationItem.objects.filter(state=MigrationState.SCHEDULED, plan__window_end__lte=clock.now())
                  .select_related("server"))
    for item in missed:
        with transaction.atomic():
            if item.server.vm_state == VmState.RELEASED:  # released meanwhile: nothing left to move
                _close(item, MigrationState.CANCELLED, "")
            else:
                _close(item, MigrationState.FAILED, MISSED_WINDOW)
    return len(missed)


@task()
def migrate_server(item_id: int, instruction_id: int | None = None) -> str:
    """Move one server. Safe to run again at any point: before the switch the target copy is rebuilt from
    the (stopped) source; after it only the source copy's removal remains."""
    item = MigrationItem.objects.select_related("server__image", "source_node", "target_node").get(
        pk=item_id)
    server = item.server
    if item.state != MigrationState.RUNNING or server.task_state != TaskState.MIGRATING:
        return "nothing to do"
    source, target = tasks.driver_for(item.source_node), tasks.driver_for(item.target_node)
    uuid = str(server.uuid)
    if server.node_id != item.target_node_id:
        try:
            source.power_off(uuid, timeout=settings.WUJI_STOP_TIMEOUT_SECONDS)
            source.copy_disk_to(target, uuid, progress=_heartbeat(server.pk))
            target.adopt_disk(tasks.instance_spec(server, server.image, None), start=item.was_running)
            power = target.get_info(uuid).power_state
        except DriverError as exc:
            log.warning("migration of %s failed: %r", uuid, exc)
            _roll_back(item, instruction_id, source, target, exc)
            return "failed"
        _switch(item, power)
    error = ""
    try:
        source.destroy(uuid)
    except DriverError as exc:  # the server runs on the target; staff remove the stale copy by hand
        log.warning("source copy of %s not removed: %r", uuid, exc)
        error = _("服务器已迁移，但原宿主机上的旧副本未能删除：%(error)s") % {"error": exc}
    _complete(item, instruction_id, error)
    return "migrated"


def _heartbeat(server_id: int):
    """Keep task_state fresh during a long copy so the reconciler does not take the worker for dead."""
    last = [clock.now()]

    def beat(_copied: int) -> None:
        if clock.now() - last[0] >= HEARTBEAT_EVERY:
            last[0] = clock.now()
            Server.objects.filter(pk=server_id, task_state=TaskState.MIGRATING).update(task_state_changed_at=last[0])

    return beat


def _switch(item: MigrationItem, power: str) -> None:
    """The cut-over: from here the target node is the server's home and its reserved address is its own."""
    with transaction.atomic():
        Server.objects.filter(pk=item.server_id).update(node=item.target_node, region=item.target_node.region,
                                                       power_state=power)
        network.move_address(item.server, region_id=item.target_node.region_id, address=item.new_address)


def _complete(item: MigrationItem, instruction_id: int | None, error: str) -> None:
    server = Server.objects.get(pk=item.server_id)
    with transaction.atomic():
        tasks.finish(server, instruction_id, vm_state=_vm_state_after(server, server.power_state),
                      power_state=server.power_state, suspension_reason=server.suspension_reason)
        _close(item, MigrationState.DONE, error)


def _roll_back(item: MigrationItem, instruction_id: int | None, source, target, exc: DriverError) -> None:
    """Remove the target copy and bring the server back up on its source node, as it was."""
    uuid = str(item.server.uuid)
    steps = [(target.destroy, uuid)] + ([(source.power_on, uuid)] if item.was_running else [])
    for step, argument in steps:  # each on its own: an unreachable target must not keep the source down
        try:
            step(argument)
        except DriverError as cleanup:
            log.warning("clean-up after failed migration of %s: %r", uuid, cleanup)
    vm_state, power = tasks.state_after_failure(source, item.server)
    with transaction.atomic():
        tasks.finish(item.server, instruction_id, vm_state=_vm_state_after(item.server, power, vm_state),
                      power_state=power, error=str(exc), suspension_reason=item.server.suspension_reason)
        _close(item, MigrationState.FAILED, str(exc))


def _vm_state_after(server: Server, power: str, vm_state: str | None = None) -> str:
    if server.vm_state == VmState.SUSPENDED:
        return VmState.SUSPENDED
    return vm_state or tasks.vm_state_for(power)


def _close(item: MigrationItem, state: str, error: str) -> None:
    """Finish an item (its capacity and address hold end), tell the owner, and settle the plan."""
    MigrationItem.objects.filter(pk=item.pk).update(state=state, error=str(error)[:500], finished_at=clock.now())
    if not Server.objects.filter(pk=item.server_id, vm_state=VmState.RELEASED).exists():
        _send(item, "result_notice", RESULT_EVENTS[state].code)
    _settle(item.plan_id)


RESULT_EVENTS = {MigrationState.DONE: notices.MIGRATION_DONE, MigrationState.FAILED: notices.MIGRATION_FAILED,
                 MigrationState.CANCELLED: notices.MIGRATION_CANCELLED}


def _settle(plan_id: int) -> None:
    """A plan ends when its last server does: failed if any failed, done if any moved, else cancelled."""
    states = set(MigrationItem.objects.filter(plan_id=plan_id).values_list("state", flat=True))
    if states & set(MigrationState.ACTIVE):
        return
    if MigrationState.FAILED in states:
        final = MigrationState.FAILED
    elif MigrationState.DONE in states:
        final = MigrationState.DONE
    else:
        final = MigrationState.CANCELLED
    MigrationPlan.objects.filter(pk=plan_id).update(state=final)


def resume_after_worker_died(server: Server, claim) -> bool | None:
    """The reconciler's recovery for `migrating`: claim the server again and re-run its move (the task is
    idempotent). None when the server has no running move (the ordinary recovery applies)."""
    item = MigrationItem.objects.filter(server=server, state=MigrationState.RUNNING).first()
    if item is None:
        return None
    pending = (Instruction.objects.filter(target_type="server", target_id=str(server.pk), action="server.migrate",
                                          result="accepted", outcomes__isnull=True).order_by("-seq").first())
    with transaction.atomic():
        updated = claim.update(task_state_changed_at=clock.now())
        if updated:
            migrate_server.enqueue(item_id=item.pk, instruction_id=pending.pk if pending else None)
    return bool(updated)

