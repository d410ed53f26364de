"""Complaints and abuse cases (投诉与滥用处理, clauses 4.5.1, 4.5.2.2, 5.4.6).

A case is opened by a complaint (public form or partner feed), a detection rule or staff. Its target (an IP,
a domain or a URL) is resolved to the server and owner *at the time of the complaint* and kept: a later move
of the address does not change whom the case concerns. Staff triage it, ask the owner to respond by a
deadline and apply escalating measures; each measure is a CaseAction tied to its audit instruction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuji.core.private_files import private_storage

from .choices import ActionKind, CaseCategory, CaseSource, CaseStatus, EvidenceKind, TargetKind

__all__ = ["Case", "CaseAction", "CaseMessage", "Complaint", "Evidence", "PartnerFeed"]


def evidence_path(instance, filename: str) -> str:
    import uuid

    return f"abuse/{instance.case_id}/{uuid.uuid4().hex}.bin"


class PartnerFeed(models.Model):
    """A partner (CERT, registry, anti-phishing feed) allowed to file complaints through the API with a
    bearer token. Only the SHA-256 of the token is kept; the token is shown once when issued."""

    name = models.CharField(verbose_name=_("名称"), max_length=100, unique=True)
    token_hash = models.CharField(verbose_name=_("令牌摘要"), max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(verbose_name=_("启用"), default=True)
    created_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(verbose_name=_("创建时间"), editable=False)
    last_used_at = models.DateTimeField(verbose_name=_("最近使用时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("投诉合作方")
        verbose_name_plural = _("投诉合作方")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """One abuse case. `server` and `owner` are who held the target when the abuse happened (null when the
    target did not resolve); they never change afterwards."""

    number = models.CharField(verbose_name=_("案件编号"), max_length=20, unique=True)
    source = models.CharField(verbose_name=_("来源"), max_length=16, choices=CaseSource)
    category = models.CharField(verbose_name=_("类别"), max_length=20, choices=CaseCategory)
    target = models.CharField(verbose_name=_("投诉对象"), max_length=500)
    target_kind = models.CharField(verbose_name=_("对象类型"), max_length=8, choices=TargetKind)
    occurred_at = models.DateTimeField(verbose_name=_("发生时间"))
    server = models.ForeignKey(to="compute.Server", verbose_name=_("服务器"), on_delete=models.PROTECT,
                               related_name="abuse_cases", null=True, blank=True)
    owner = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT,
                              related_name="abuse_cases", null=True, blank=True)
    rule = models.CharField(verbose_name=_("检测规则"), max_length=32, blank=True)
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=CaseStatus, default=CaseStatus.NEW)
    owner_deadline = models.DateTimeField(verbose_name=_("客户处理期限"), null=True, blank=True)
    owner_informed_at = models.DateTimeField(verbose_name=_("首次通知客户时间"), null=True, blank=True)
    summary = models.TextField(verbose_name=_("摘要"), blank=True)
    close_note = models.CharField(verbose_name=_("结案说明"), max_length=1000, blank=True)
    created_at = models.DateTimeField(verbose_name=_("创建时间"))
    closed_at = models.DateTimeField(verbose_name=_("结案时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("滥用案件")
        verbose_name_plural = _("滥用案件")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="abuse_case_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(owner__isnull=True) | Q(server__isnull=False),
                                   name="abuse_case_owner_with_server",
                                   violation_error_message=_("案件的客户必须与服务器一同确定。")),
            models.CheckConstraint(condition=~Q(status__in=["closed", "rejected"]) | ~Q(close_note=""),
                                   name="abuse_case_closed_with_note",
                                   violation_error_message=_("结案或驳回必须填写说明。")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in CaseStatus.OPEN


class Complaint(models.Model):
    """Who complained and how (the public form or a partner feed). Never shown to the owner."""

    case = models.OneToOneField(to=Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="complaint")
    reporter_name = models.CharField(verbose_name=_("投诉人"), max_length=100, blank=True)
    reporter_email = models.EmailField(verbose_name=_("联系邮箱"))
    reporter_phone = models.CharField(verbose_name=_("联系电话"), max_length=32, blank=True)
    description = models.TextField(verbose_name=_("投诉说明"))
    submitted_ip = models.GenericIPAddressField(verbose_name=_("提交 IP"), null=True, blank=True)
    partner = models.ForeignKey(to=PartnerFeed, verbose_name=_("合作方"), on_delete=models.PROTECT,
                                related_name="complaints", null=True, blank=True)
    submitted_at = models.DateTimeField(verbose_name=_("提交时间"))

    class Meta:
        verbose_name = _("投诉详情")
        verbose_name_plural = _("投诉详情")

    def __str__(self) -> str:
        return f"{self.case} · {self.reporter_email}"


class CaseMessage(models.Model):
    """The staff ↔ owner thread. Staff notes with `visible_to_owner` False stay internal."""

    case = models.ForeignKey(to=Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.PROTECT,
                               related_name="+", null=True, blank=True)
    from_owner = models.BooleanField(verbose_name=_("客户发送"), default=False)
    text = models.TextField(verbose_name=_("内容"))
    visible_to_owner = models.BooleanField(verbose_name=_("客户可见"), default=True)
    created_at = models.DateTimeField(verbose_name=_("时间"))

    class Meta:
        verbose_name = _("案件消息")
        verbose_name_plural = _("案件消息")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case} #{self.pk}"


class Evidence(models.Model):
    """A file (complaint evidence, the owner's reply attachment; stored encrypted in private storage) or a
    rule's JSON samples."""

    case = models.ForeignKey(to=Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(verbose_name=_("类型"), max_length=16, choices=EvidenceKind)
    message = models.ForeignKey(to=CaseMessage, verbose_name=_("所属消息"), on_delete=models.PROTECT,
                                related_name="attachments", null=True, blank=True)
    file = models.FileField(verbose_name=_("文件"), storage=private_storage, upload_to=evidence_path, blank=True)
    name = models.CharField(verbose_name=_("文件名"), max_length=200, blank=True)
    content_type = models.CharField(verbose_name=_("文件类型"), max_length=100, blank=True)
    size = models.PositiveIntegerField(verbose_name=_("大小（字节）"), default=0)
    samples = models.JSONField(verbose_name=_("检测样本"), default=list, blank=True)
    added_at = models.DateTimeField(verbose_name=_("添加时间"))

    class Meta:
        verbose_name = _("证据")
        verbose_name_plural = _("证据")
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} #{self.pk}"


class CaseAction(models.Model):
    """A measure taken on a case: who, why, when, the instruction that records it and what it did."""

    case = models.ForeignKey(to=Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(verbose_name=_("措施"), max_length=16, choices=ActionKind)
    reason = models.CharField(verbose_name=_("原因"), max_length=1000)
    staff = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT,
                              related_name="+", null=True, blank=True)
    instruction = models.ForeignKey(to="audit.Instruction", verbose_name=_("指令记录"), on_delete=models.PROTECT,
                                    related_name="+")
    result = models.CharField(verbose_name=_("结果"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("时间"))

    class Meta:
        verbose_name = _("处置措施")
        verbose_name_plural = _("处置措施")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()}"
