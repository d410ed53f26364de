"""Network: public IPv4 pools per region and the allocation history (who held which address when).

The history is the `IpAllocation` rows: an allocation is closed (`released_at`), never deleted, so the
platform can answer "who held this address at that moment" for abuse and legal requests (retention >= 180
days; see docs/decisions/0020-public-ip-pools.md)."""

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuji.compute.models import Server

from .choices import AddressState

# Longest prefix accepted: a /30 has two usable addresses; /31 and /32 have no network/broadcast pair.
MAX_PREFIX = 30


def parse_excluded(text: str) -> list[str]:
    """The excluded addresses, one per line or separated by commas/spaces, as written."""
    return [part for part in text.replace(",", " ").split() if part]


class IpPool(models.Model):
    """A block of public IPv4 addresses in one region. Network and broadcast addresses, the gateway and
    the excluded addresses are never handed out."""

    name = models.CharField(verbose_name=_("名称"), max_length=64, unique=True)
    region = models.ForeignKey(
        to="catalog.Region", verbose_name=_("地域"), on_delete=models.PROTECT, related_name="+"
    )
    cidr = models.CharField(verbose_name=_("网段（CIDR）"), max_length=18, help_text=_("例如 203.0.113.0/24"))
    gateway = models.GenericIPAddressField(verbose_name=_("网关"), protocol="IPv4")
    excluded = models.TextField(
        verbose_name=_("保留地址"), blank=True, help_text=_("不分配的地址，每行一个或用逗号分隔")
    )
    is_enabled = models.BooleanField(verbose_name=_("启用分配"), default=True)

    class Meta:
        verbose_name = _("公网 IP 池")
        verbose_name_plural = _("公网 IP 池")
        ordering = ["region", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.cidr})"

    def clean(self):
        errors = {}
        network = None
        try:
            network = ipaddress.IPv4Network(self.cidr or "", strict=True)
        except ValueError:
            errors["cidr"] = _("网段格式无效，应为 IPv4 CIDR，例如 203.0.113.0/24（主机位须为 0）。")
        if network is not None and network.prefixlen > MAX_PREFIX:
            errors["cidr"] = _("网段过小：前缀长度不能大于 /30。")
            network = None
        if network is not None:
            if self.gateway:
                gateway = ipaddress.IPv4Address(self.gateway)
                if gateway not in network:
                    errors["gateway"] = _("网关必须位于该网段内。")
                elif gateway in (network.network_address, network.broadcast_address):
                    errors["gateway"] = _("网关不能是网络地址或广播地址。")
            bad = []
            for text in parse_excluded(self.excluded):
                try:
                    if ipaddress.IPv4Address(text) not in network:
                        bad.append(text)
                except ValueError:
                    bad.append(text)
            if bad:
                errors["excluded"] = _("以下保留地址无效或不在该网段内：%(addresses)s") % {"addresses": ", ".join(bad)}
        if errors:
            raise ValidationError(errors)

    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    def never_allocated(self) -> set[ipaddress.IPv4Address]:
        """The gateway and the excluded addresses (network/broadcast are not hosts at all)."""
        return {ipaddress.IPv4Address(self.gateway)} | {ipaddress.IPv4Address(a) for a in parse_excluded(self.excluded)}


class IpAllocation(models.Model):
    """One address held by one server from `allocated_at` until `released_at` (open while null)."""

    pool = models.ForeignKey(to=IpPool, verbose_name=_("IP 池"), on_delete=models.PROTECT, related_name="allocations")
    address = models.GenericIPAddressField(verbose_name=_("地址"), protocol="IPv4")
    server = models.ForeignKey(
        to="compute.Server", verbose_name=_("服务器"), on_delete=models.PROTECT, related_name="ip_allocations"
    )
    # The customer at allocation time: kept even if the server changed hands later.
    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("持有人"), on_delete=models.PROTECT, related_name="+"
    )
    allocated_at = models.DateTimeField(verbose_name=_("分配时间"))
    released_at = models.DateTimeField(verbose_name=_("释放时间"), null=True, blank=True)
    # New rows (and those that existed before binding did) start pending: the sync job applies them.
    state = models.CharField(verbose_name=_("绑定状态"), max_length=16, choices=AddressState,
                             default=AddressState.PENDING)
    last_error = models.CharField(verbose_name=_("最近一次绑定错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("公网 IP 分配记录")
        verbose_name_plural = _("公网 IP 分配记录")
        ordering = ["-allocated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "address"], condition=Q(released_at__isnull=True),
                                    name="network_one_open_allocation_per_address"),
            models.UniqueConstraint(fields=["server"], condition=Q(released_at__isnull=True),
                                    name="network_one_open_allocation_per_server"),
        ]
        indexes = [models.Index(fields=["address", "allocated_at"], name="network_alloc_addr_at")]

    def __str__(self) -> str:
        return self.address


class Blackhole(models.Model):
    """A blackhole (黑洞, 4.5.1 DDoS): the server's public address is taken off the instance from `started_at`
    until `ends_at` (or until staff lift it), then bound again. The allocation stays open (state `held`)
    throughout, so the same address comes back. Active while `ended_at` is null; one active per server."""

    server = models.ForeignKey(
        to="compute.Server", verbose_name=_("服务器"), on_delete=models.PROTECT, related_name="blackholes"
    )
    allocation = models.ForeignKey(
        to=IpAllocation, verbose_name=_("公网 IP"), on_delete=models.PROTECT, related_name="blackholes"
    )
    reason = models.CharField(verbose_name=_("原因"), max_length=500)
    started_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True, help_text=_("为空表示由自动规则发起"),
    )
    started_at = models.DateTimeField(verbose_name=_("开始时间"))
    ends_at = models.DateTimeField(verbose_name=_("预计解除时间"))
    # When the hypervisor confirmed the address was taken off the instance (the sync job retries until then).
    applied_at = models.DateTimeField(verbose_name=_("生效时间"), null=True, blank=True)
    ended_at = models.DateTimeField(verbose_name=_("解除时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("提前解除人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    end_reason = models.CharField(verbose_name=_("解除说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("黑洞封堵")
        verbose_name_plural = _("黑洞封堵")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["server"], condition=Q(ended_at__isnull=True),
                                    name="network_one_active_blackhole_per_server",
                                    violation_error_message=_("该服务器已在黑洞封堵中。")),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("started_at")),
                                   name="network_blackhole_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.allocation.address} → {self.ends_at:%Y-%m-%d %H:%M}"


class ServerAddress(Server):
    """Servers as the console's network page shows them (staff bind, unbind and blackhole there). A proxy:
    compute owns the rows; network changes only its own through its services."""

    class Meta:
        proxy = True
        verbose_name = _("服务器公网 IP")
        verbose_name_plural = _("服务器公网 IP")
