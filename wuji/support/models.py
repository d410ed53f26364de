"""Support tickets (工单, clause 4.1): a customer's question, its thread of messages and their attachments.

A ticket belongs to one customer and, through its category, to one staff role's queue. Messages are written by
the customer or by staff; staff internal notes (`internal`) are never shown to the customer. Attachments are
encrypted private files, reachable only through views that check ownership or the staff member's queue.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuji.core.private_files import private_storage

from .choices import TicketCategory, TicketPriority, TicketStatus


def attachment_path(instance, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}.bin"


class Ticket(models.Model):
    """A support ticket. `first_response_at` is the first staff reply the customer could see; `resolved_at` is
    set when staff mark it resolved (reopening clears it); a rating (1–5) is given once, after resolution."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="tickets"
    )
    category = models.CharField(verbose_name=_("类别"), max_length=16, choices=TicketCategory)
    priority = models.CharField(verbose_name=_("优先级"), max_length=8, choices=TicketPriority,
                                default=TicketPriority.NORMAL)
    status = models.CharField(verbose_name=_("状态"), max_length=16, choices=TicketStatus,
                              default=TicketStatus.OPEN)
    subject = models.CharField(verbose_name=_("标题"), max_length=200)
    server = models.ForeignKey(
        to="compute.Server", verbose_name=_("相关服务器"), on_delete=models.SET_NULL, related_name="+",
        null=True, blank=True,
    )
    assignee = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    created_at = models.DateTimeField(verbose_name=_("提交时间"))
    updated_at = models.DateTimeField(verbose_name=_("最后更新"))
    first_response_at = models.DateTimeField(verbose_name=_("首次响应时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(verbose_name=_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(verbose_name=_("关闭时间"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(verbose_name=_("满意度评分"), null=True, blank=True)
    rating_comment = models.CharField(verbose_name=_("评价"), max_length=1000, blank=True)
    rated_at = models.DateTimeField(verbose_name=_("评价时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="support_ticket_rating_1_to_5",
                                   violation_error_message=_("评分须为 1 到 5 分。")),
        ]
        indexes = [
            models.Index(fields=["customer", "-id"], name="support_ticket_customer"),
            models.Index(fields=["status", "resolved_at"], name="support_ticket_due"),
            models.Index(fields=["category", "status"], name="support_ticket_queue"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def first_response_seconds(self) -> int | None:
        if self.first_response_at is None:
            return None
        return int((self.first_response_at - self.created_at).total_seconds())


class TicketMessage(models.Model):
    """One message in a ticket's thread. An internal note is staff-only."""

    ticket = models.ForeignKey(to=Ticket, verbose_name=_("工单"), on_delete=models.CASCADE,
                               related_name="messages")
    author = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    by_staff = models.BooleanField(verbose_name=_("工作人员发出"), default=False)
    internal = models.BooleanField(verbose_name=_("内部备注"), default=False)
    body = models.TextField(verbose_name=_("内容"))
    created_at = models.DateTimeField(verbose_name=_("时间"))

    class Meta:
        verbose_name = _("工单消息")
        verbose_name_plural = _("工单消息")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(internal=False) | Q(by_staff=True),
                                   name="support_message_internal_by_staff",
                                   violation_error_message=_("只有工作人员可以写内部备注。")),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id}/{self.pk}"


class TicketAttachment(models.Model):
    """A file attached to a message, stored encrypted outside any public URL."""

    ticket = models.ForeignKey(to=Ticket, verbose_name=_("工单"), on_delete=models.CASCADE,
                               related_name="attachments")
    message = models.ForeignKey(to=TicketMessage, verbose_name=_("消息"), on_delete=models.CASCADE,
                                related_name="attachments")
    name = models.CharField(verbose_name=_("文件名"), max_length=200)
    content_type = models.CharField(verbose_name=_("文件类型"), max_length=64)
    size = models.PositiveIntegerField(verbose_name=_("大小（字节）"))
    file = models.FileField(verbose_name=_("文件"), storage=private_storage, upload_to=attachment_path)
    uploaded_at = models.DateTimeField(verbose_name=_("上传时间"))

    class Meta:
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
