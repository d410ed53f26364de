"""Pay-as-you-go (按量付费) meters: per-second usage of one server, settled hourly (5.3, 4.5.2.1).

Exact amounts are integers in *usage units*: unit price (元/hour, 8 decimal places) × 10^8 × seconds, so
1 fen = 36 × 10^8 units and 1 元 = 3600 × 10^8 — exact integer arithmetic on every database (SQLite would keep
a decimal column as a float). `accrued` is usage not yet settled, `carried` the sub-fen remainder left by
earlier settlements (< 1 fen), so the fen charged over any period are the exact usage rounded down once.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..payg_choices import MeterRate

PRICE_SCALE = 10**8  # unit prices have 8 decimal places
UNITS_PER_FEN = 36 * PRICE_SCALE  # 元/hour × seconds: 3600 per 元, 36 per fen


def price_units(price) -> int:
    """A unit price in 元/hour (Decimal, 8 places) as an integer number of 10^-8 元/hour."""
    return int(Decimal(price) * PRICE_SCALE)


class Meter(models.Model):
    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payg_meters"
    )
    server = models.OneToOneField(
        to="compute.Server", verbose_name=_("server"), on_delete=models.PROTECT, related_name="payg_meter"
    )
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=100)
    running_per_hour = models.DecimalField(verbose_name=_("running (元/hour)"), max_digits=16, decimal_places=8)
    stopped_per_hour = models.DecimalField(verbose_name=_("stopped (元/hour)"), max_digits=16, decimal_places=8)
    rate = models.CharField(verbose_name=_("rate"), max_length=16, choices=MeterRate, default=MeterRate.NONE)
    metered_until = models.DateTimeField(verbose_name=_("metered until"))
    settled_until = models.DateTimeField(verbose_name=_("settled until"))
    accrued = models.BigIntegerField(verbose_name=_("accrued (usage units)"), default=0)
    carried = models.BigIntegerField(verbose_name=_("carried remainder (usage units)"), default=0)
    charged_fen = models.BigIntegerField(verbose_name=_("charged in total (fen)"), default=0)
    debt_fen = models.BigIntegerField(verbose_name=_("unpaid (fen)"), default=0)
    arrears_since = models.DateTimeField(verbose_name=_("in arrears since"), null=True, blank=True)
    grace_notice_at = models.DateTimeField(verbose_name=_("arrears notice sent"), null=True, blank=True)
    suspended_at = models.DateTimeField(verbose_name=_("suspended for arrears"), null=True, blank=True)
    release_notice_at = models.DateTimeField(verbose_name=_("release notice sent"), null=True, blank=True)
    released_at = models.DateTimeField(verbose_name=_("released"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("pay-as-you-go meter")
        verbose_name_plural = _("pay-as-you-go meters")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="billing_meter_idempotent"),
            models.CheckConstraint(condition=models.Q(debt_fen__gte=0), name="billing_meter_debt_non_negative"),
        ]
        # No index on settled_until: settlement walks the primary key by id range, and an index on a column
        # every settlement rewrites would make each meter update write one more index entry.

    def __str__(self) -> str:
        return f"meter #{self.pk} server {self.server_id}"

    def price_for(self, rate: str):
        if rate == MeterRate.RUNNING:
            return self.running_per_hour
        if rate == MeterRate.STOPPED:
            return self.stopped_per_hour
        return 0

    @property
    def hourly_spend(self):
        """元 per hour at the current rate."""
        return self.price_for(self.rate)


class LowBalanceWarning(models.Model):
    """Per customer: the lowest warning threshold (hours of spend) already sent in the current episode."""

    customer = models.OneToOneField(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="payg_warning",
    )
    warned_below_hours = models.PositiveIntegerField(verbose_name=_("warned below (hours)"), null=True, blank=True)
    warned_at = models.DateTimeField(verbose_name=_("warned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("low-balance warning")
        verbose_name_plural = _("low-balance warnings")

    def __str__(self) -> str:
        return f"{self.customer_id}: below {self.warned_below_hours} h"
