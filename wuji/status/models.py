"""Announcements (公告), maintenance windows (维护窗口), incidents (故障) and SLA credits (SLA 赔偿).

Written only by `services.py`. Decision 0038 records the choices."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    AnnouncementLevel,
    CreditState,
    IncidentStatus,
    MaintenanceImpact,
    MaintenanceNoticeKind,
    MaintenanceState,
)

__all__ = ["Announcement", "Incident", "IncidentUpdate", "MaintenanceNotice", "MaintenanceWindow", "SlaCredit",
           "SlaPolicy"]


class Announcement(models.Model):
    """A public notice, shown on /announcements/ and as a banner while `published_from <= now < published_until`
    (no end: until withdrawn by setting an end)."""

    title = models.CharField(verbose_name=_("标题"), max_length=200)
    body = models.TextField(verbose_name=_("正文（Markdown）"), blank=True)
    level = models.CharField(verbose_name=_("级别"), max_length=16, choices=AnnouncementLevel,
                             default=AnnouncementLevel.INFO)
    published_from = models.DateTimeField(verbose_name=_("发布时间"))
    published_until = models.DateTimeField(verbose_name=_("下线时间"), null=True, blank=True)
    created_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-published_from", "-pk"]
        verbose_name = _("公告")
        verbose_name_plural = _("公告")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published_until__isnull=True)
                | models.Q(published_until__gt=models.F("published_from")),
                name="status_announcement_until_after_from",
                violation_error_message=_("下线时间必须晚于发布时间。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MaintenanceWindow(models.Model):
    """Planned (or emergency) maintenance of a region and/or some nodes. Publishing it tells every owner of a
    live server there; a planned window must be published at least the minimum notice ahead (decision 0038),
    an emergency one needs a reason instead."""

    title = models.CharField(verbose_name=_("标题"), max_length=200)
    description = models.TextField(verbose_name=_("说明"))
    region = models.ForeignKey(to="catalog.Region", verbose_name=_("地域"), on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    nodes = models.ManyToManyField(to="compute.Node", verbose_name=_("宿主机"), blank=True, related_name="+")
    starts_at = models.DateTimeField(verbose_name=_("开始时间"))
    ends_at = models.DateTimeField(verbose_name=_("结束时间"))
    impact = models.CharField(verbose_name=_("影响"), max_length=16, choices=MaintenanceImpact,
                              default=MaintenanceImpact.BRIEF)
    emergency = models.BooleanField(verbose_name=_("紧急维护"), default=False)
    emergency_reason = models.CharField(verbose_name=_("紧急原因"), max_length=500, blank=True)
    state = models.CharField(verbose_name=_("状态"), max_length=16, choices=MaintenanceState,
                             default=MaintenanceState.DRAFT)
    created_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("创建时间"))
    published_at = models.DateTimeField(verbose_name=_("发布时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(verbose_name=_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(verbose_name=_("取消原因"), max_length=500, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("维护窗口")
        verbose_name_plural = _("维护窗口")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="status_maintenance_ends_after_start",
                                   violation_error_message=_("结束时间必须晚于开始时间。")),
            models.CheckConstraint(condition=models.Q(emergency=False) | ~models.Q(emergency_reason=""),
                                   name="status_maintenance_emergency_reason",
                                   violation_error_message=_("紧急维护须填写紧急原因。")),
        ]

    def __str__(self) -> str:
        return self.title


class MaintenanceNotice(models.Model):
    """Proof that one user was told about one window event (scheduled / extended to `ends_at` / cancelled);
    the unique row makes the notifying task idempotent per user."""

    window = models.ForeignKey(to=MaintenanceWindow, verbose_name=_("维护窗口"), on_delete=models.CASCADE,
                               related_name="notices")
    recipient = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE,
                                  related_name="+")
    kind = models.CharField(verbose_name=_("类型"), max_length=16, choices=MaintenanceNoticeKind)
    ends_at = models.DateTimeField(verbose_name=_("结束时间"))
    notice = models.ForeignKey(to="notifications.Notice", verbose_name=_("站内信"), on_delete=models.PROTECT,
                               related_name="+")
    created_at = models.DateTimeField(verbose_name=_("发送时间"))

    class Meta:
        verbose_name = _("维护通知记录")
        verbose_name_plural = _("维护通知记录")
        constraints = [
            models.UniqueConstraint(fields=["window", "recipient", "kind", "ends_at"],
                                    name="status_maintenance_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.window} → {self.recipient}"


class Incident(models.Model):
    """A service failure (故障) in a region (optionally narrowed to some nodes), with its timeline of updates.
    `resolved_at` is set by the resolving update; downtime for SLA credits is measured up to it."""

    title = models.CharField(verbose_name=_("标题"), max_length=200)
    region = models.ForeignKey(to="catalog.Region", verbose_name=_("地域"), on_delete=models.PROTECT,
                               related_name="+")
    nodes = models.ManyToManyField(to="compute.Node", verbose_name=_("宿主机"), blank=True, related_name="+",
                                   help_text=_("留空表示整个地域"))
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=IncidentStatus,
                              default=IncidentStatus.INVESTIGATING)
    started_at = models.DateTimeField(verbose_name=_("开始时间"))
    resolved_at = models.DateTimeField(verbose_name=_("恢复时间"), null=True, blank=True)
    created_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("创建时间"))

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("故障")
        verbose_name_plural = _("故障")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True) | models.Q(resolved_at__gte=models.F("started_at")),
                name="status_incident_resolved_after_start",
                violation_error_message=_("恢复时间不能早于开始时间。")),
        ]

    def __str__(self) -> str:
        return self.title


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(to=Incident, verbose_name=_("故障"), on_delete=models.CASCADE,
                                 related_name="updates")
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=IncidentStatus)
    message = models.TextField(verbose_name=_("说明"))
    created_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("发布时间"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("故障进展")
        verbose_name_plural = _("故障进展")

    def __str__(self) -> str:
        return f"{self.incident}: {self.get_status_display()}"


class SlaPolicy(models.Model):
    """A plan's SLA: the monthly availability target and the credit schedule, a list of
    [availability below (%), credit (% of the month's fee)] rows. Plans without one use
    settings.WUJI_SLA_DEFAULT_SCHEDULE."""

    plan = models.OneToOneField(to="catalog.Plan", verbose_name=_("套餐"), on_delete=models.PROTECT,
                                related_name="sla_policy")
    target_percent = models.DecimalField(verbose_name=_("可用性承诺（%）"), max_digits=6, decimal_places=3)
    schedule = models.JSONField(
        verbose_name=_("赔偿档位"),
        help_text=_("例如 [[99.9, 10], [99, 25], [95, 100]]：月可用性低于 99.9% 赔偿当月费用的 10%"))

    class Meta:
        verbose_name = _("SLA 策略")
        verbose_name_plural = _("SLA 策略")

    def __str__(self) -> str:
        return f"{self.plan}: {self.target_percent}%"

    def clean(self):
        rows = self.schedule if isinstance(self.schedule, list) else None
        ok = rows is not None and all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(v, int | float) for v in r)
            and 0 < r[0] <= 100 and 0 < r[1] <= 100 for r in rows)
        if not ok:
            raise ValidationError(
                {"schedule": _("赔偿档位须为 [[可用性低于（%）, 赔偿比例（%）], …]，数值在 0 到 100 之间。")})


class SlaCredit(models.Model):
    """A proposed, then paid or rejected, compensation for one server's downtime in one incident. At most the
    month's fee of the service minus what other incidents already credited for that month (clause 8.5); paid
    once, as gift balance, under the ledger key `sla:<incident>:<server>`."""

    incident = models.ForeignKey(to=Incident, verbose_name=_("故障"), on_delete=models.PROTECT,
                                 related_name="credits")
    server = models.ForeignKey(to="compute.Server", verbose_name=_("服务器"), on_delete=models.PROTECT,
                               related_name="+")
    customer = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT,
                                 related_name="+")
    month = models.DateField(verbose_name=_("所属月份"), help_text=_("北京时间当月第一天"))
    downtime_seconds = models.PositiveIntegerField(verbose_name=_("中断时长（秒）"))
    availability = models.DecimalField(verbose_name=_("月可用性（%）"), max_digits=7, decimal_places=4)
    credit_percent = models.PositiveSmallIntegerField(verbose_name=_("赔偿比例（%）"))
    month_fee_fen = models.PositiveBigIntegerField(verbose_name=_("当月服务费用（分）"))
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("赔偿金额（分）"))
    state = models.CharField(verbose_name=_("状态"), max_length=16, choices=CreditState,
                             default=CreditState.PROPOSED)
    proposed_at = models.DateTimeField(verbose_name=_("计算时间"))
    decided_by = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(verbose_name=_("审核时间"), null=True, blank=True)
    ledger_transaction = models.OneToOneField(to="ledger.Transaction", verbose_name=_("账务流水"),
                                              on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("SLA 赔偿")
        verbose_name_plural = _("SLA 赔偿")
        constraints = [
            models.UniqueConstraint(fields=["incident", "server"], name="status_sla_credit_once_per_server",
                                    violation_error_message=_("该服务器在本次故障中已有赔偿记录。")),
            models.CheckConstraint(condition=models.Q(amount_fen__lte=models.F("month_fee_fen")),
                                   name="status_sla_credit_capped_by_fee",
                                   violation_error_message=_("赔偿金额不能超过当月服务费用（协议第 8.5 条）。")),
            models.CheckConstraint(
                condition=~models.Q(state=CreditState.PAID) | models.Q(ledger_transaction__isnull=False),
                name="status_sla_credit_paid_has_transaction"),
        ]

    def __str__(self) -> str:
        return f"{self.incident} / {self.server}"
