"""Snapshot meters (快照计费): one per snapshot, charging per second from when the node confirmed it until it
was deleted, settled with pay-as-you-go's hourly settlement in the same usage units (see `payg`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SnapshotMeter(models.Model):
    """`per_hour` (元/hour) is the catalogue's per-GiB-hour price × the server's disk when the snapshot was
    taken, fixed for the snapshot's life. `settled_until` moves to each settlement boundary; `carried` is the
    sub-fen remainder; what the balance could not cover is `debt_fen`, collected at the next settlement."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="snapshot_meters",
    )
    snapshot = models.OneToOneField(
        to="compute.Snapshot", verbose_name=_("snapshot"), on_delete=models.PROTECT, related_name="meter"
    )
    per_hour = models.DecimalField(verbose_name=_("元 per hour"), max_digits=16, decimal_places=8)
    started_at = models.DateTimeField(verbose_name=_("charged from"))
    ended_at = models.DateTimeField(verbose_name=_("charged until"), null=True, blank=True)
    settled_until = models.DateTimeField(verbose_name=_("settled until"))
    carried = models.BigIntegerField(verbose_name=_("carried remainder (usage units)"), default=0)
    charged_fen = models.BigIntegerField(verbose_name=_("charged in total (fen)"), default=0)
    debt_fen = models.BigIntegerField(verbose_name=_("unpaid (fen)"), default=0)

    class Meta:
        verbose_name = _("snapshot meter")
        verbose_name_plural = _("snapshot meters")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(debt_fen__gte=0),
                                   name="billing_snapshot_meter_debt_non_negative"),
        ]

    def __str__(self) -> str:
        return f"snapshot meter #{self.pk} snapshot {self.snapshot_id}"
