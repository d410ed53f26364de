"""Network services: the only writers of pools, allocations and blackholes.

Concurrency: every allocation locks the region's enabled pool rows (`select_for_update`, in primary-key
order) before reading which addresses are free, so two servers never pick the same address; the partial
unique constraint (one open allocation per pool and address) backs this up in the database.

Binding (applying the address to the instance) is hypervisor work, so it runs as a task after commit. It is
guarded by the server's own task_state compare-and-swap (`binding_ip` / `unbinding_ip`), so it never overlaps
a customer's operation, a resize or a release. The allocation's `state` is what the platform wants; the
`network.sync_addresses` job applies whatever could not be applied at once (docs/decisions/0024)."""

import datetime as dt
import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Result
from wuji.compute import services as compute
from wuji.compute.choices import MigrationState, TaskState, VmState
from wuji.compute.models import MigrationItem, Server
from wuji.compute.services import NoCapacity, OperationRefused
from wuji.core import clock
from wuji.notifications.services import notify

from .choices import AddressState
from .models import Blackhole, IpAllocation, IpPool
from .notices import BLACKHOLE_ENDED, BLACKHOLE_STARTED, IP_CHANGED, IP_UNBOUND

# Where the instance exists on its node, so an address can be applied to it or taken from it (staff, the
# platform); customers bind and unbind only on a server in service.
ON_HYPERVISOR = (VmState.ACTIVE, VmState.STOPPED, VmState.SUSPENDED, VmState.ERROR)
CUSTOMER_STATES = (VmState.ACTIVE, VmState.STOPPED)


def _allowed_states(channel: str) -> tuple[str, ...]:
    return ON_HYPERVISOR if channel == "staff" else CUSTOMER_STATES


class NoAddressLeft(NoCapacity):
    """The region has public IP pools but none has a free address. A purchase is refused (billing already
    turns compute's NoCapacity into a clear refusal and rolls the charge back)."""


class NoPublicIp(OperationRefused):
    """The server holds no public IP, so there is nothing to change, unbind or blackhole."""


# --- Pools ------------------------------------------------------------------------------------------------


def save_pool(pool: IpPool, *, actor, channel: str, ip: str | None = None) -> IpPool:
    """Validate and save a pool (new or edited), with its audit instruction. Raises ValidationError naming
    the field; nothing is saved then."""
    pool.full_clean()
    with transaction.atomic():
        creating = pool.pk is None
        pool.save()
        audit.record(actor=actor, owner=None, channel=channel, action="ip_pool.create" if creating else "ip_pool.edit",
                     target=pool, params={"name": pool.name, "region": pool.region.code, "cidr": pool.cidr,
                                          "gateway": pool.gateway, "excluded": pool.excluded,
                                          "is_enabled": pool.is_enabled}, ip=ip)
    return pool


# --- Allocation ---------------------------------------------------------------------------------------------


def _open(server_id: int):
    return IpAllocation.objects.filter(server_id=server_id, released_at__isnull=True)


def _close(rows, now) -> int:
    return rows.update(released_at=now, state=AddressState.RELEASED)


def _lowest_free(pool: IpPool) -> str | None:
    used = {ipaddress.IPv4Address(a) for a in pool.allocations.filter(released_at__isnull=True)
            .values_list("address", flat=True)}
    skip = used | pool.never_allocated() | _reserved(pool)
    for host in pool.network().hosts():  # excludes the network and broadcast addresses (prefix <= /30)
        if host not in skip:
            return str(host)
    return None


def _take(server: Server, *, now) -> IpAllocation | None:
    """Lock the region's enabled pools and open an allocation of the lowest free address of the first
    pool that has one. None when the region has no enabled pool; NoAddressLeft when all are full."""
    pools = list(IpPool.objects.select_for_update().filter(region_id=server.region_id, is_enabled=True)
                 .order_by("pk"))
    if not pools:
        return None
    for pool in pools:
        address = _lowest_free(pool)
        if address is not None:
            return IpAllocation.objects.create(pool=pool, address=address, server=server, owner_id=server.owner_id,
                                               allocated_at=now)
    raise NoAddressLeft(_("该地域的公网 IP 已分配完，请选择其他地域或稍后再试。"))


def allocate(server: Server) -> IpAllocation | None:
    """Give the server the lowest free public IPv4 address of an enabled pool in its region.

    Returns the open allocation (the existing one if it already holds an address), or None when the region
    has no enabled pool: such a server simply has no public IP. Raises NoAddressLeft when every pool of the
    region is full."""
    with transaction.atomic():
        existing = _open(server.pk).first()
        if existing is not None:
            return existing
        return _take(server, now=clock.now())


def release_address(server) -> bool:
    """Close the server's open allocation (the row stays, as history) and end a blackhole it was under, when the
    server itself is released (its instance is gone, so there is nothing to unbind). Accepts a server or its id.
    Returns False when it held none."""
    server_id = getattr(server, "pk", server)
    now = clock.now()
    with transaction.atomic():
        Blackhole.objects.filter(server_id=server_id, ended_at__isnull=True).update(
            ended_at=now, end_reason=_("服务器已释放"))
        return bool(_close(_open(server_id), now))


def change_ip(server: Server, *, actor, channel: str, reason: str, ip: str | None = None) -> IpAllocation:
    """Staff give a server a new public IP (8.6): the old allocation is closed, a new one opened and applied to
    the instance (a task), the instruction recorded and the owner notified (mandatory notice). Raises
    ValidationError for a missing reason, NoPublicIp when the server holds none, OperationRefused during a
    blackhole, NoAddressLeft when no other address is free."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写变更原因，它会告知客户。")})
    with transaction.atomic():
        server = Server.objects.select_for_update().get(pk=server.pk)
        if server.vm_state == VmState.RELEASED:
            raise NoPublicIp(_("该服务器已释放，不能变更公网 IP。"))
        now = clock.now()
        # Lock the pools before reading the open allocation, the same order as allocate().
        list(IpPool.objects.select_for_update().filter(region_id=server.region_id).order_by("pk"))
        old = _open(server.pk).first()
        if old is None:
            raise NoPublicIp(_("该服务器没有公网 IP。"))
        if old.state == AddressState.HELD:
            raise OperationRefused(_("该服务器的公网 IP 正在黑洞封堵中，封堵解除后才能更换。"))
        # The old address is still open while picking, so the new one always differs.
        new = _pick_other(server, old, now=now)
        _close(IpAllocation.objects.filter(pk=old.pk), now)
        new.save()
        _start(new, TaskState.BINDING_IP)  # the new address replaces the old one on the instance
        audit.record(actor=actor, owner=server.owner, channel=channel, action="server.change_ip", target=server,
                     params={"old_address": old.address, "new_address": new.address, "reason": reason}, ip=ip)
        notify(server.owner, IP_CHANGED.code, {"name": server.name, "uuid": str(server.uuid), "reason": reason,
                                              "old_address": old.address, "new_address": new.address})
    return new


def _pick_other(server: Server, old: IpAllocation, *, now) -> IpAllocation:
    for pool in IpPool.objects.filter(region_id=server.region_id, is_enabled=True).order_by("pk"):
        address = _lowest_free(pool)
        if address is not None:
            return IpAllocation(pool=pool, address=address, server=server, owner_id=server.owner_id, allocated_at=now)
    raise NoAddressLeft(_("该地域没有其他空闲的公网 IP。"))


# issue 5: push
def transfer_holder(server, *, to, at) -> IpAllocation | None:
    """The server changed hands (server push): close its open allocation at `at` and open one for the same
    address held by the new owner from the same instant, so the history answers "who held this address then"
    on both sides of the push. Returns the new allocation, or None when the server holds no public IP."""
    with transaction.atomic():
        old = _open(server.pk).select_for_update().first()
        if old is None:
            return None
        _close(IpAllocation.objects.filter(pk=old.pk), at)
        new = IpAllocation.objects.create(pool_id=old.pool_id, address=old.address, server_id=server.pk,
                                          owner_id=getattr(to, "pk", to), allocated_at=at, state=old.state)
        Blackhole.objects.filter(allocation=old, ended_at__isnull=True).update(allocation=new)
        return new


# --- Binding: applying the address to the instance ---------------------------------------------------------


def _start(allocation: IpAllocation, task_state: str, *, instruction=None, release: bool = False, reason: str = "",
           vm_states=ON_HYPERVISOR) -> bool:
    """Claim the server (task_state compare-and-swap) and enqueue the task that applies `allocation`'s state to
    the instance. False when the server is busy or in another state: the caller refuses, or the sync job tries
    again later."""
    if not compute.begin_task(allocation.server_id, task_state, vm_states=vm_states):
        return False
    _enqueue(allocation, task_state, instruction=instruction, release=release, reason=reason)
    return True


def _enqueue(allocation: IpAllocation, task_state: str, *, instruction=None, release: bool = False,
             reason: str = "") -> None:
    from . import tasks

    instruction_id = instruction.pk if instruction is not None else None
    if task_state == TaskState.BINDING_IP:
        tasks.bind_address.enqueue(allocation_id=allocation.pk, instruction_id=instruction_id)
    else:
        tasks.unbind_address.enqueue(allocation_id=allocation.pk, instruction_id=instruction_id, release=release,
                                     reason=reason)


def _instruct(server: Server, *, action: str, params: dict, actor, channel: str, ip: str | None, work):
    """Run `work()` in one transaction and return its result; when it refuses, nothing it wrote stays and the
    refused instruction is recorded with its reason (clause 3.1), then the refusal propagates."""
    try:
        with transaction.atomic():
            return work()
    except OperationRefused as exc:
        audit.record(actor=actor, owner=server.owner, channel=channel, action=action, target=server, params=params,
                     ip=ip, result=Result.REFUSED, detail=str(exc))
        raise


def bind(server: Server, *, actor, channel: str, ip: str | None = None, reason: str = ""):
    """Give a server without a public IP the lowest free address of its region's pools and apply it to the
    instance (a task); returns the instruction (its params name the address). The owner (portal, API) or staff
    (console, with a reason). Raises OperationRefused: the server already has one, the region has no pool
    (NoPublicIp) or no free address (NoAddressLeft), an operation is in flight, or its state does not allow it."""
    params = {"reason": reason} if reason else {}

    def work():
        current = _open(server.pk).first()
        if current is not None:
            raise OperationRefused(_("该服务器已有公网 IP（%(address)s），无需再绑定。") % {"address": current.address})
        # The server row first, then the pools: the order change_ip locks them in.
        if not compute.begin_task(server.pk, TaskState.BINDING_IP, vm_states=_allowed_states(channel)):
            raise OperationRefused(compute.refusal_reason(server.pk, _("绑定公网 IP")))
        allocation = _take(server, now=clock.now())
        if allocation is None:
            raise NoPublicIp(_("该地域暂未提供公网 IP。"))
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.bind_ip",
                                   target=server, params={**params, "address": allocation.address}, ip=ip)
        _enqueue(allocation, TaskState.BINDING_IP, instruction=instruction)
        return instruction

    return _instruct(server, action="server.bind_ip", params=params, actor=actor, channel=channel, ip=ip, work=work)


def unbind(server: Server, *, actor, channel: str, ip: str | None = None, reason: str = ""):
    """Take a server's public IP off the instance and return it to the pool (a task: the allocation closes once
    the hypervisor confirms, so the address is never handed out while still applied); returns the instruction.
    Staff give a reason, which the owner is told. Raises OperationRefused: no public IP (NoPublicIp), a
    blackhole holds it, an operation is in flight, or the server's state does not allow it."""
    params = {"reason": reason} if reason else {}

    def work():
        allocation = _open(server.pk).first()
        if allocation is None:
            raise NoPublicIp(_("该服务器没有公网 IP。"))
        if allocation.state == AddressState.HELD:
            raise OperationRefused(_("该服务器的公网 IP 正在黑洞封堵中，封堵解除前不能解绑。"))
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.unbind_ip",
                                   target=server, params={**params, "address": allocation.address}, ip=ip)
        if not _start(allocation, TaskState.UNBINDING_IP, instruction=instruction, release=True, reason=reason,
                      vm_states=_allowed_states(channel)):
            raise OperationRefused(compute.refusal_reason(server.pk, _("解绑公网 IP")))
        return instruction

    return _instruct(server, action="server.unbind_ip", params=params, actor=actor, channel=channel, ip=ip,
                     work=work)


def catch_up(server_id: int) -> str | None:
    """Start what the server's address still needs on the hypervisor: a blackhole not yet in effect is taken off,
    a pending address is bound. Called when the server becomes free (provisioning done, a network task done)
    and by the sync job. Returns the task_state started, or None (nothing to do, or the server is busy)."""
    allocation = _open(server_id).first()
    if allocation is None:
        return None
    if allocation.state == AddressState.HELD:
        unapplied = Blackhole.objects.filter(allocation=allocation, ended_at__isnull=True, applied_at__isnull=True)
        wanted = TaskState.UNBINDING_IP if unapplied.exists() else None
    else:
        wanted = TaskState.BINDING_IP if allocation.state == AddressState.PENDING else None
    return wanted if wanted and _start(allocation, wanted) else None


def binding_applied(allocation: IpAllocation) -> bool:
    """The hypervisor confirmed the address is on the instance. False when the platform meanwhile wants
    something else (a blackhole, a release): the sync job reconciles."""
    return bool(IpAllocation.objects.filter(pk=allocation.pk, state=AddressState.PENDING).update(
        state=AddressState.BOUND, last_error=""))


def binding_failed(allocation: IpAllocation, error: str) -> None:
    """The address stays the server's, pending; the error is kept for the customer and staff."""
    IpAllocation.objects.filter(pk=allocation.pk, released_at__isnull=True).update(last_error=error[:500])


def unbinding_applied(allocation: IpAllocation, *, release: bool, reason: str = "") -> bool:
    """The hypervisor confirmed the address is off the instance. A requested unbind returns it to the pool;
    under a blackhole it stays held for the server (and the blackhole is marked in effect). Returns whether
    the address was released."""
    now = clock.now()
    current = IpAllocation.objects.select_related("server__owner").get(pk=allocation.pk)
    if current.state == AddressState.HELD:
        Blackhole.objects.filter(allocation=current, ended_at__isnull=True, applied_at__isnull=True).update(
            applied_at=now)
        return False
    if not release or current.released_at is not None:
        return False  # a blackhole was lifted meanwhile: the address stays pending and is bound again
    _close(IpAllocation.objects.filter(pk=current.pk), now)
    if reason:  # staff took it: the owner is told why
        server = current.server
        notify(server.owner, IP_UNBOUND.code, {"name": server.name, "uuid": str(server.uuid),
                                               "address": current.address, "reason": reason})
    return True


# --- Blackhole (黑洞, 4.5.1 DDoS) ------------------------------------------------------------------------------


def local_time(moment: dt.datetime) -> str:
    """A moment as customers read it: Beijing time, to the minute."""
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def active_blackhole(server) -> Blackhole | None:
    return Blackhole.objects.filter(server_id=getattr(server, "pk", server), ended_at__isnull=True).first()


def blackhole(server: Server, *, duration: dt.timedelta | None = None, reason: str, actor=None,
              channel: str = "system", ip: str | None = None) -> Blackhole:
    """Take an attacked server's public IP off the instance for `duration` (default WUJI_BLACKHOLE_HOURS), then
    bind the same address again (the sync job, at `ends_at`). Staff from the console or an abuse rule
    (actor None, channel "system"). The address stays the server's throughout. The owner is notified at the
    start and at the end. Raises ValidationError (no reason, a duration that is not positive), NoPublicIp,
    or OperationRefused when a blackhole is already in force."""
    reason = (reason or "").strip()
    duration = duration if duration is not None else dt.timedelta(hours=settings.WUJI_BLACKHOLE_HOURS)
    if not reason:
        raise ValidationError({"reason": _("请填写封堵原因，它会告知客户。")})
    if duration <= dt.timedelta(0):
        raise ValidationError({"duration": _("封堵时长必须大于 0。")})
    params = {"reason": reason, "hours": round(duration.total_seconds() / 3600, 2)}

    def work():
        allocation = _open(server.pk).select_for_update().first()
        if allocation is None:
            raise NoPublicIp(_("该服务器没有公网 IP，无需封堵。"))
        current = active_blackhole(server)
        if current is not None:
            raise OperationRefused(_("该服务器已在黑洞封堵中，预计 %(until)s 解除。") % {
                "until": local_time(current.ends_at)})
        now = clock.now()
        hole = Blackhole.objects.create(server=server, allocation=allocation, reason=reason, started_at=now,
                                        ends_at=now + duration, started_by=_person(actor))
        IpAllocation.objects.filter(pk=allocation.pk).update(state=AddressState.HELD)
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.blackhole",
                                   target=server, params={**params, "address": allocation.address,
                                                          "ends_at": hole.ends_at.isoformat()}, ip=ip)
        notify(server.owner, BLACKHOLE_STARTED.code, {**_blackhole_context(server, allocation), "reason": reason,
                                                      "until": local_time(hole.ends_at)})
        _start(allocation, TaskState.UNBINDING_IP, instruction=instruction)
        return hole

    return _instruct(server, action="server.blackhole", params=params, actor=actor, channel=channel, ip=ip,
                     work=work)


def end_blackhole(hole: Blackhole, *, actor=None, channel: str = "system", reason: str = "",
                  ip: str | None = None) -> bool:
    """End a blackhole: staff lift it early (with a reason) or the sync job releases it at `ends_at`. The held
    address becomes pending and is bound again (a task, or the sync job when the server is busy); the owner
    is notified. Returns False when it had already ended."""
    now = clock.now()
    early = now < hole.ends_at
    with transaction.atomic():
        ended = Blackhole.objects.filter(pk=hole.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=_person(actor), end_reason=reason[:500])
        if not ended:
            return False
        allocation = IpAllocation.objects.select_related("server__owner").get(pk=hole.allocation_id)
        IpAllocation.objects.filter(pk=allocation.pk, state=AddressState.HELD).update(state=AddressState.PENDING)
        server = allocation.server
        instruction = audit.record(actor=actor, owner=server.owner, channel=channel, action="server.blackhole_lift",
                                   target=server, params={"address": allocation.address, "early": early,
                                                          "reason": reason}, ip=ip)
        notify(server.owner, BLACKHOLE_ENDED.code, _blackhole_context(server, allocation))
        _start(allocation, TaskState.BINDING_IP, instruction=instruction)
    return True


def _person(actor):
    """The staff member behind an action, or None for the platform itself (an abuse rule, the sync job)."""
    return actor if getattr(actor, "pk", None) else None


def _blackhole_context(server: Server, allocation: IpAllocation) -> dict:
    return {"name": server.name, "uuid": str(server.uuid), "address": allocation.address}


def sync_addresses() -> dict:
    """What the platform wants, applied where it could not be at once: due blackholes end, holds not yet in
    effect are taken off the instance, pending addresses are bound. Idempotent; busy servers wait. Servers in
    `error` are left to staff (their instance may be gone)."""
    counts = {"released": 0, TaskState.UNBINDING_IP: 0, TaskState.BINDING_IP: 0}
    for hole in Blackhole.objects.filter(ended_at__isnull=True, ends_at__lte=clock.now()):
        counts["released"] += end_blackhole(hole, reason=_("封堵期满，自动解除"))
    behind = (Q(state=AddressState.PENDING)
              | Q(state=AddressState.HELD, blackholes__ended_at__isnull=True, blackholes__applied_at__isnull=True))
    waiting = (IpAllocation.objects.filter(behind, server__task_state=TaskState.NONE,
                                           server__vm_state__in=CUSTOMER_STATES + (VmState.SUSPENDED,))
               .values_list("server_id", flat=True).distinct())
    for server_id in waiting:
        with transaction.atomic():
            started = catch_up(server_id)
        if started:
            counts[started] += 1
    return {"released": counts["released"], "held": counts[TaskState.UNBINDING_IP],
            "bound": counts[TaskState.BINDING_IP]}


# --- Reading ------------------------------------------------------------------------------------------------


def current_allocation(server) -> IpAllocation | None:
    """The server's open allocation (pending, bound or held), or None."""
    return _open(getattr(server, "pk", server)).first()


def address_of(server) -> str | None:
    """The server's current public IPv4 address, or None."""
    return _open(getattr(server, "pk", server)).values_list("address", flat=True).first()


def with_public_ip(servers):
    """Annotate a server queryset with `public_ip`, `public_ip_state` and `blackhole_until` (subqueries, no extra
    query per row)."""
    current = _open(OuterRef("pk"))
    hole = Blackhole.objects.filter(server_id=OuterRef("pk"), ended_at__isnull=True)
    return servers.annotate(public_ip=Subquery(current.values("address")[:1]),
                            public_ip_state=Subquery(current.values("state")[:1]),
                            blackhole_until=Subquery(hole.values("ends_at")[:1]))


def ip_status(server) -> dict:
    """The server's public IP as its owner sees it, for the portal's card and the API alike: the open allocation,
    the active blackhole while the address is held, and whether bind / unbind would be accepted now (the
    service decides again, atomically, when asked)."""
    allocation = current_allocation(server)
    held = allocation is not None and allocation.state == AddressState.HELD
    idle = not server.task_state and server.vm_state in CUSTOMER_STATES
    return {"allocation": allocation, "blackhole": active_blackhole(server) if held else None,
            "can_bind": idle and allocation is None, "can_unbind": idle and allocation is not None and not held}


def addresses_of(customer):
    """The public IPs the customer's servers hold now (pending, bound or held), newest first, with the
    server and any active blackhole's expected end annotated. The customer-facing list; `history` is staff's
    (it also shows addresses the customer no longer holds)."""
    hole = Blackhole.objects.filter(allocation_id=OuterRef("pk"), ended_at__isnull=True)
    return (IpAllocation.objects.filter(server__owner=customer, released_at__isnull=True)
            .select_related("server", "server__region")
            .annotate(blackhole_until=Subquery(hole.values("ends_at")[:1]))
            .order_by("-allocated_at", "-pk"))


def history(*, address: str | None = None, at=None, server=None, owner=None):
    """Allocation history for staff: who held an address, and when (the abuse/legal lookup).

    `at` keeps the allocations open at that moment: allocated at or before it and released after it (or
    still open). Rows are never deleted, so the answer holds for any past moment (retention >= 180 days)."""
    rows = IpAllocation.objects.select_related("pool", "server", "owner")
    if address is not None:
        rows = rows.filter(address=str(ipaddress.IPv4Address(address.strip())))
    if at is not None:
        rows = rows.filter(allocated_at__lte=at).filter(Q(released_at__isnull=True) | Q(released_at__gt=at))
    if server is not None:
        rows = rows.filter(server_id=getattr(server, "pk", server))
    if owner is not None:
        rows = rows.filter(owner_id=getattr(owner, "pk", owner))
    return rows.order_by("-allocated_at", "-pk")


# --- issue 5: migration (5.5, 8.6) ------------------------------------------------------------------------


def _reserved(pool: IpPool) -> set[ipaddress.IPv4Address]:
    """Addresses of this pool promised to servers migrating into its region (named in their notices)."""
    promised = MigrationItem.objects.filter(target_node__region_id=pool.region_id, state__in=MigrationState.ACTIVE,
                                            new_address__isnull=False).values_list("new_address", flat=True)
    network = pool.network()
    return {address for address in map(ipaddress.IPv4Address, promised) if address in network}


def reserve_address(region_id: int) -> str | None:
    """Pick the lowest free address in the region's enabled pools for a server that will move there, without
    allocating it: the caller stores it on its migration item in this transaction, which then keeps it from
    everyone else (`_reserved`). Returns None when the region has no enabled pool; raises NoAddressLeft when
    every pool is full."""
    pools = list(IpPool.objects.select_for_update().filter(region_id=region_id, is_enabled=True).order_by("pk"))
    if not pools:
        return None
    for pool in pools:
        address = _lowest_free(pool)
        if address is not None:
            return address
    raise NoAddressLeft(_("目标地域的公网 IP 已分配完，无法为迁移的服务器预留新地址。"))


def move_address(server: Server, *, region_id: int, address: str | None) -> None:
    """At a migration's cut-over, when the server now lives on another node. A new address (reserved for it in
    `region_id`) closes its open allocation and opens one for the new address (both rows stay, as history); the
    same address (a move inside the region) stays the server's. Either way the address is `pending` again, so
    it is applied to the instance on its new node once that runs (`catch_up`); a held (blackholed) one stays
    held."""
    now = clock.now()
    with transaction.atomic():
        current = _open(server.pk).select_for_update().first()
        if address is None or (current is not None and current.address == address):
            _open(server.pk).filter(state=AddressState.BOUND).update(state=AddressState.PENDING)
            return
        target = ipaddress.IPv4Address(address)
        pool = next(p for p in IpPool.objects.filter(region_id=region_id).order_by("pk") if target in p.network())
        _close(_open(server.pk), now)
        IpAllocation.objects.create(pool=pool, address=address, server=server, owner_id=server.owner_id,
                                    allocated_at=now)
