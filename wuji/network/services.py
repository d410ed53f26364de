"""Network services: the only writers of pools and allocations.

Concurrency: every allocation locks the region's enabled pool rows (`select_for_update`, in primary-key
order) before reading which addresses are free, so two servers never pick the same address; the partial
unique constraint (one open allocation per pool and address) backs this up in the database."""

import ipaddress

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.compute.choices import MigrationState, VmState
from wuji.compute.models import MigrationItem, Server
from wuji.compute.services import NoCapacity
from wuji.core import clock
from wuji.notifications.services import notify

from .models import IpAllocation, IpPool
from .notices import IP_CHANGED


class NoAddressLeft(NoCapacity):
    """The region has public IP pools but none has a free address. A purchase is refused (billing already
    turns compute's NoCapacity into a clear refusal and rolls the charge back)."""


class NoPublicIp(Exception):
    """The server holds no public IP, so there is nothing to change."""


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
    """Close the server's open allocation (the row stays, as history). Accepts a server or its id.
    Returns False when it held none."""
    server_id = getattr(server, "pk", server)
    with transaction.atomic():
        return bool(_open(server_id).update(released_at=clock.now()))


def change_ip(server: Server, *, actor, channel: str, reason: str, ip: str | None = None) -> IpAllocation:
    """Staff give a server a new public IP (8.6): the old allocation is closed, a new one opened, the
    instruction recorded and the owner notified (mandatory notice). Raises ValidationError for a missing
    reason, NoPublicIp when the server holds none, NoAddressLeft when no other address is free."""
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
        # The old address is still open while picking, so the new one always differs.
        new = _pick_other(server, old, now=now)
        IpAllocation.objects.filter(pk=old.pk).update(released_at=now)
        new.save()
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
        IpAllocation.objects.filter(pk=old.pk).update(released_at=at)
        return IpAllocation.objects.create(pool_id=old.pool_id, address=old.address, server_id=server.pk,
                                           owner_id=getattr(to, "pk", to), allocated_at=at)


# --- Reading ------------------------------------------------------------------------------------------------


def address_of(server) -> str | None:
    """The server's current public IPv4 address, or None."""
    return _open(getattr(server, "pk", server)).values_list("address", flat=True).first()


def with_public_ip(servers):
    """Annotate a server queryset with `public_ip` (one subquery, no extra query per row)."""
    current = _open(OuterRef("pk")).values("address")[:1]
    return servers.annotate(public_ip=Subquery(current))


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


def move_address(server: Server, *, region_id: int, address: str) -> None:
    """At a migration's cut-over: close the server's open allocation and open one for the address reserved for
    it in `region_id` (both rows stay, as history)."""
    target = ipaddress.IPv4Address(address)
    pool = next(p for p in IpPool.objects.filter(region_id=region_id).order_by("pk") if target in p.network())
    now = clock.now()
    with transaction.atomic():
        _open(server.pk).update(released_at=now)
        IpAllocation.objects.create(pool=pool, address=address, server=server, owner_id=server.owner_id,
                                    allocated_at=now)
