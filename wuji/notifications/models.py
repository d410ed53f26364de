from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryStatus, NoticeChannel


class Notice(models.Model):
    """One notice to one user, always kept in their in-site inbox (站内信)."""

    recipient = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="notices"
    )
    event = models.CharField(verbose_name=_("event"), max_length=64)
    subject = models.CharField(verbose_name=_("subject"), max_length=200)
    body = models.TextField(verbose_name=_("text"))
    mandatory = models.BooleanField(verbose_name=_("mandatory"), default=False)
    created_at = models.DateTimeField(verbose_name=_("created at"), db_index=True)
    read_at = models.DateTimeField(verbose_name=_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "-id"], name="notif_notice_recipient_recent")]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """One attempt to deliver a notice on one channel, with its result (proof of notice)."""

    notice = models.ForeignKey(to=Notice, verbose_name=_("notice"), on_delete=models.PROTECT,
                               related_name="deliveries")
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=NoticeChannel)
    address = models.CharField(verbose_name=_("address"), max_length=254, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=DeliveryStatus,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=0)
    detail = models.CharField(verbose_name=_("detail"), max_length=500, blank=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["notice", "channel"], name="notif_delivery_once_per_channel")]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.channel}: {self.status}"
