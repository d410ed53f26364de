"""Real-name verification 实名认证 (clause 2.1).

A `Verification` is one application: an individual (name + resident ID number) or an enterprise
(company name + unified social credit code + legal representative). The number is stored encrypted,
with a keyed hash for lookups and deduplication and a masked copy for display. At most one verification
per user is approved at any time; approving a newer one supersedes the older.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import FlagStatus, VerificationKind, VerificationStatus
from .storage import document_path, private_storage


class Verification(models.Model):
    """Invariants: one approved and one pending verification per user (constraints); `number_encrypted`
    never holds the plain number; `number_hash` is `keyed_hash(number, "identity-number")`."""

    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
        related_name="verifications",
    )
    kind = models.CharField(verbose_name=_("认证类型"), max_length=16, choices=VerificationKind)
    status = models.CharField(
        verbose_name=_("状态"), max_length=16, choices=VerificationStatus, default=VerificationStatus.PENDING,
    )
    name = models.CharField(verbose_name=_("姓名或企业名称"), max_length=100)
    legal_representative = models.CharField(verbose_name=_("法定代表人"), max_length=50, blank=True)
    number_encrypted = models.TextField(verbose_name=_("证件号码（加密）"))
    number_hash = models.CharField(verbose_name=_("证件号码摘要"), max_length=64, db_index=True)
    number_masked = models.CharField(verbose_name=_("证件号码"), max_length=32)
    document = models.FileField(
        verbose_name=_("证件照片或营业执照"), storage=private_storage, upload_to=document_path, blank=True,
    )
    document_type = models.CharField(verbose_name=_("文件类型"), max_length=64, blank=True)
    warning = models.CharField(verbose_name=_("提示"), max_length=200, blank=True)
    provider = models.CharField(verbose_name=_("核验渠道"), max_length=32)
    provider_reference = models.CharField(verbose_name=_("核验流水号"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(verbose_name=_("提交时间"))
    reviewed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT,
        related_name="verifications_reviewed", null=True, blank=True,
    )
    reviewed_at = models.DateTimeField(verbose_name=_("审核时间"), null=True, blank=True)
    reason = models.CharField(verbose_name=_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("实名认证")
        verbose_name_plural = _("实名认证")
        ordering = ["-submitted_at", "-id"]
        permissions = [("reveal_identity_number", _("可查看完整证件号码和证件文件"))]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status=VerificationStatus.APPROVED), name="identity_one_approved_per_user",
                violation_error_message=_("每个账户只能有一个有效的实名认证。"),
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(status=VerificationStatus.PENDING), name="identity_one_pending_per_user",
                violation_error_message=_("每个账户同时只能有一个待审核的实名认证申请。"),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=VerificationKind.values()), name="identity_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VerificationStatus.values()), name="identity_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{VerificationKind.label(self.kind)} {self.name} {self.number_masked}"

    @property
    def number_label(self) -> str:
        return _("身份证号码") if self.kind == VerificationKind.INDIVIDUAL else _("统一社会信用代码")


class FalseInformationFlag(models.Model):
    """Staff found the verified information false (2.1.3). The user must correct it by `deadline`;
    otherwise the account is restricted (no purchases) until staff lift it, or staff cancel the membership
    (status `cancelled`, with `cancelled_at`/`cancelled_by`/`cancel_reason`)."""

    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("账户"), on_delete=models.PROTECT,
        related_name="false_information_flags",
    )
    verification = models.ForeignKey(
        to=Verification, verbose_name=_("实名认证"), on_delete=models.PROTECT, related_name="flags",
        null=True, blank=True,
    )
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=FlagStatus, default=FlagStatus.OPEN)
    reason = models.CharField(verbose_name=_("原因"), max_length=500)
    deadline = models.DateTimeField(verbose_name=_("更正期限"))
    flagged_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("标记人"), on_delete=models.PROTECT,
        related_name="false_information_flags_made",
    )
    created_at = models.DateTimeField(verbose_name=_("标记时间"))
    resolved_at = models.DateTimeField(verbose_name=_("处理时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(verbose_name=_("注销时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("注销人"), on_delete=models.PROTECT,
        related_name="memberships_cancelled", null=True, blank=True,
    )
    cancel_reason = models.CharField(verbose_name=_("注销原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("虚假信息标记")
        verbose_name_plural = _("虚假信息标记")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="identity_flag_due")]

    def __str__(self) -> str:
        return f"{self.user_id} {FlagStatus.label(self.status)} {self.deadline:%Y-%m-%d}"
