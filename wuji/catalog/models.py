"""The product catalogue (clause 1.2, 3.5): regions, plans, OS images and effective-dated prices."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import BillingCycle, PlatformService


class BilingualName(models.Model):
    name_zh = models.CharField(verbose_name=_("name (Chinese)"), max_length=100)
    name_en = models.CharField(verbose_name=_("name (English)"), max_length=100)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class Region(BilingualName):
    """A datacenter region. Mainland regions require real-name verification (enforced with identity work)."""

    code = models.SlugField(verbose_name=_("code"), max_length=32, unique=True)
    is_mainland = models.BooleanField(verbose_name=_("mainland China"), default=True)
    sort_order = models.PositiveSmallIntegerField(verbose_name=_("order"), default=0)
    is_active = models.BooleanField(verbose_name=_("on sale"), default=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["sort_order", "code"]


class Plan(BilingualName):
    """A server configuration. What the customer orders is exactly what is provisioned (5.1)."""

    code = models.SlugField(verbose_name=_("code"), max_length=32, unique=True)
    vcpus = models.PositiveSmallIntegerField(verbose_name=_("vCPUs"))
    memory_mib = models.PositiveIntegerField(verbose_name=_("memory (MiB)"))
    disk_gib = models.PositiveIntegerField(verbose_name=_("disk (GiB)"))
    bandwidth_mbps = models.PositiveIntegerField(verbose_name=_("bandwidth (Mbps)"))
    is_active = models.BooleanField(verbose_name=_("on sale"), default=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["vcpus", "memory_mib", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(vcpus__gte=1), name="catalog_plan_vcpus_positive"),
            models.CheckConstraint(condition=models.Q(memory_mib__gte=64), name="catalog_plan_memory_min"),
        ]


class Image(BilingualName):
    """An OS image: a base volume in each node's storage pool that server disks overlay.

    With a kernel volume (in the same pool) a server boots that kernel directly, with the initrd and
    command line given, instead of booting its disk through the firmware (decision 0021: the tiny guest).
    """

    code = models.SlugField(verbose_name=_("code"), max_length=32, unique=True)
    os_family = models.CharField(verbose_name=_("OS family"), max_length=16, default="linux")
    volume = models.CharField(verbose_name=_("base volume"), max_length=100)
    kernel_volume = models.CharField(
        verbose_name=_("kernel volume"), max_length=100, blank=True, help_text=_("blank: boot the disk")
    )
    initrd_volume = models.CharField(verbose_name=_("initrd volume"), max_length=100, blank=True)
    kernel_cmdline = models.CharField(verbose_name=_("kernel command line"), max_length=255, blank=True)
    is_active = models.BooleanField(verbose_name=_("available"), default=True)

    class Meta:
        verbose_name = _("OS image")
        verbose_name_plural = _("OS images")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kernel_volume="") | models.Q(initrd_volume="", kernel_cmdline=""),
                name="catalog_image_initrd_and_cmdline_need_a_kernel",
                violation_error_message=_("指定 initrd 或内核命令行时必须同时指定内核卷。"),
            ),
        ]

    @property
    def volumes(self) -> tuple[str, ...]:
        """Every pool volume a server of this image needs."""
        return tuple(v for v in (self.volume, self.kernel_volume, self.initrd_volume) if v)


class Price(models.Model):
    """The price of a plan in a region for a billing cycle, in force from `effective_from` until replaced."""

    plan = models.ForeignKey(to=Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="prices")
    region = models.ForeignKey(to=Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="prices")
    cycle = models.CharField(verbose_name=_("billing cycle"), max_length=16, choices=BillingCycle)
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("amount (fen)"))
    effective_from = models.DateTimeField(verbose_name=_("effective from"))

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("price list")
        ordering = ["plan", "region", "cycle", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "region", "cycle", "effective_from"], name="catalog_price_one_per_moment"
            ),
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="catalog_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}/{self.region.code}/{self.cycle}: {self.amount_fen}"


class HourlyPrice(models.Model):
    """Pay-as-you-go (按量付费) unit prices of a plan in a region, in 元 per hour with 8 decimal places,
    in force from `effective_from` until replaced. `stopped_per_hour` is the plan's stopped-charge setting:
    0 = not charged while stopped, equal to `running_per_hour` = charged in full, in between = disk only."""

    plan = models.ForeignKey(to=Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="hourly_prices")
    region = models.ForeignKey(
        to=Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="hourly_prices"
    )
    running_per_hour = models.DecimalField(verbose_name=_("running (元/hour)"), max_digits=16, decimal_places=8)
    stopped_per_hour = models.DecimalField(verbose_name=_("stopped (元/hour)"), max_digits=16, decimal_places=8)
    effective_from = models.DateTimeField(verbose_name=_("effective from"))

    class Meta:
        verbose_name = _("hourly price")
        verbose_name_plural = _("hourly price list")
        ordering = ["plan", "region", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "region", "effective_from"], name="catalog_hourly_one_per_moment"),
            models.CheckConstraint(condition=models.Q(running_per_hour__gt=0), name="catalog_hourly_running_positive"),
            models.CheckConstraint(
                condition=models.Q(stopped_per_hour__gte=0, stopped_per_hour__lte=models.F("running_per_hour")),
                name="catalog_hourly_stopped_between_zero_and_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}/{self.region.code}: {self.running_per_hour}/h"


class SnapshotPrice(models.Model):
    """The price of keeping one snapshot (快照) in a region, in 元 per GiB of the server's disk per hour (8
    decimal places), in force from `effective_from` until replaced. Charged per second while the snapshot
    exists, at the price in force when it was taken (decision 0028)."""

    region = models.ForeignKey(
        to=Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="snapshot_prices"
    )
    per_gib_hour = models.DecimalField(verbose_name=_("元 per GiB-hour"), max_digits=16, decimal_places=8)
    effective_from = models.DateTimeField(verbose_name=_("effective from"))

    class Meta:
        verbose_name = _("snapshot price")
        verbose_name_plural = _("snapshot price list")
        ordering = ["region", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "effective_from"], name="catalog_snapshot_price_one_per_moment"),
            models.CheckConstraint(condition=models.Q(per_gib_hour__gt=0), name="catalog_snapshot_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region.code}: {self.per_gib_hour}/GiB-h"


class ServiceFee(models.Model):
    """The fee of a one-off platform service (e.g. a server push), in force from `effective_from` until
    replaced. 0 makes the service free from then on (the field type keeps it ≥ 0); a service without a row in
    force is free too."""

    service = models.CharField(verbose_name=_("服务"), max_length=32, choices=PlatformService)
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("金额（分）"), help_text=_("0 表示免费"))
    effective_from = models.DateTimeField(verbose_name=_("生效时间"))

    class Meta:
        verbose_name = _("服务费")
        verbose_name_plural = _("服务费价目表")
        ordering = ["service", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["service", "effective_from"], name="catalog_service_fee_one_per_moment"),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.amount_fen}"
