"""Fund freezes (资金冻结, clause 5.4) and appeals (申诉, 5.4.7).

A freeze moves part or all of a customer's cash to their frozen balance through the ledger; `held_fen` is
what this freeze still holds there. The customer may appeal once before `appeal_deadline`; staff uphold
(unfreeze at once) or reject; without an appeal, or after a rejection, the `outcome` applies: a long-term
freeze, or a refund to the original payment sources (a payments.Withdrawal of kind frozen_refund).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import AppealStatus, FreezeFileKind, FreezeOutcome, FreezeReason, FreezeState
from ..storage import freeze_file_path, private_storage


class Freeze(models.Model):
    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="freezes"
    )
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("冻结金额（分）"))
    held_fen = models.PositiveBigIntegerField(verbose_name=_("仍冻结金额（分）"))
    reason = models.CharField(verbose_name=_("冻结原因"), max_length=32, choices=FreezeReason)
    note = models.CharField(verbose_name=_("给客户的说明"), max_length=500, blank=True)
    evidence = models.TextField(verbose_name=_("冻结依据（内部）"), blank=True)
    outcome = models.CharField(verbose_name=_("申诉未通过或逾期后的处理"), max_length=16, choices=FreezeOutcome)
    state = models.CharField(verbose_name=_("状态"), max_length=16, choices=FreezeState,
                             default=FreezeState.FROZEN)
    appeal_deadline = models.DateTimeField(verbose_name=_("申诉截止时间"))
    created_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("冻结人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(verbose_name=_("冻结时间"))
    freeze_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("冻结交易"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    release_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("解冻交易"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    closed_at = models.DateTimeField(verbose_name=_("处理完毕时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    close_reason = models.CharField(verbose_name=_("处理说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("资金冻结")
        verbose_name_plural = _("资金冻结")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="billing_freeze_positive"),
            models.CheckConstraint(condition=Q(held_fen__lte=models.F("amount_fen")), name="billing_freeze_held"),
        ]
        indexes = [models.Index(fields=["state", "appeal_deadline"], name="billing_freeze_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id} {self.amount_fen}"

    @property
    def is_open(self) -> bool:
        return self.state in FreezeState.OPEN


class Appeal(models.Model):
    """The customer's one appeal against a freeze (5.4.7)."""

    freeze = models.OneToOneField(to=Freeze, verbose_name=_("资金冻结"), on_delete=models.PROTECT,
                                  related_name="appeal")
    text = models.TextField(verbose_name=_("申诉说明"))
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=AppealStatus,
                              default=AppealStatus.PENDING)
    submitted_at = models.DateTimeField(verbose_name=_("提交时间"))
    decided_at = models.DateTimeField(verbose_name=_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    decision_reason = models.CharField(verbose_name=_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("冻结申诉")
        verbose_name_plural = _("冻结申诉")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.freeze_id})"


class FreezeFile(models.Model):
    """Staff evidence of a freeze, or an attachment of the customer's appeal; stored encrypted."""

    freeze = models.ForeignKey(to=Freeze, verbose_name=_("资金冻结"), on_delete=models.PROTECT,
                               related_name="files")
    kind = models.CharField(verbose_name=_("类型"), max_length=16, choices=FreezeFileKind)
    file = models.FileField(verbose_name=_("文件"), storage=private_storage, upload_to=freeze_file_path)
    name = models.CharField(verbose_name=_("文件名"), max_length=200)
    content_type = models.CharField(verbose_name=_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(verbose_name=_("大小（字节）"))
    uploaded_at = models.DateTimeField(verbose_name=_("上传时间"))

    class Meta:
        verbose_name = _("冻结相关文件")
        verbose_name_plural = _("冻结相关文件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
