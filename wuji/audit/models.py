"""The instruction log (clause 3.1): append-only and hash-chained.

Each record stores the SHA-256 of its predecessor's hash and its own canonical content, so changing,
removing or reordering any record breaks every hash after it (`wuji audit verify`). An instruction's
outcome is a later record that refers to it, never an edit of it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuji.ledger.models import AppendOnlyModel

from .choices import Channel, Result


class ChainHead(models.Model):
    """A single row locked while appending, so the chain stays linear under concurrent writers."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    length = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("chain head")

    def __str__(self) -> str:
        return f"chain head #{self.length}"


class Instruction(AppendOnlyModel):
    seq = models.PositiveBigIntegerField(verbose_name=_("sequence"), unique=True)
    created_at = models.DateTimeField(verbose_name=_("time"), db_index=True)
    actor = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT,
        related_name="instructions_issued", null=True, blank=True,
    )
    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.PROTECT,
        related_name="instructions", null=True, blank=True,
    )
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=Channel)
    action = models.CharField(verbose_name=_("action"), max_length=64)
    target_type = models.CharField(verbose_name=_("target type"), max_length=32, blank=True)
    target_id = models.CharField(verbose_name=_("target"), max_length=64, blank=True)
    params = models.JSONField(verbose_name=_("parameters"), default=dict, blank=True)
    ip = models.GenericIPAddressField(verbose_name=_("IP address"), null=True, blank=True)
    result = models.CharField(verbose_name=_("result"), max_length=16, choices=Result)
    detail = models.CharField(verbose_name=_("detail"), max_length=500, blank=True)
    refers_to = models.ForeignKey(
        to="self", verbose_name=_("outcome of"), on_delete=models.PROTECT, related_name="outcomes",
        null=True, blank=True,
    )
    prev_hash = models.CharField(verbose_name=_("previous hash"), max_length=64)
    hash = models.CharField(verbose_name=_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("instruction")
        verbose_name_plural = _("instructions")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["owner", "-seq"], name="audit_instr_owner_recent")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.result}"


class DataAccess(AppendOnlyModel):
    """One staff read of a customer's personal data in the clear (ARCHITECTURE §3.8, PIPL art. 51).

    Written before the value is shown; append-only like the instruction log.
    """

    created_at = models.DateTimeField(verbose_name=_("时间"), db_index=True)
    staff = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("工作人员"), on_delete=models.PROTECT,
        related_name="data_accesses_made",
    )
    subject = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("数据主体"), on_delete=models.PROTECT,
        related_name="data_accesses",
    )
    field = models.CharField(verbose_name=_("查看的数据"), max_length=64)
    target_type = models.CharField(verbose_name=_("对象类型"), max_length=32, blank=True)
    target_id = models.CharField(verbose_name=_("对象"), max_length=64, blank=True)
    reason = models.CharField(verbose_name=_("查看原因"), max_length=500)
    ip = models.GenericIPAddressField(verbose_name=_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("敏感数据查看记录")
        verbose_name_plural = _("敏感数据查看记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "-created_at"], name="audit_access_subject_recent")]

    def __str__(self) -> str:
        return f"{self.staff_id} → {self.subject_id} {self.field}"
