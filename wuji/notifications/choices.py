from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class NoticeChannel(ChoiceSet):
    INBOX = "inbox"
    EMAIL = "email"
    SMS = "sms"

    CHOICES = (
        (INBOX, _("站内信")),
        (EMAIL, _("电子邮件")),
        (SMS, _("短信")),
    )


class DeliveryStatus(ChoiceSet):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"

    CHOICES = (
        (PENDING, _("待发送"), "blue"),
        (SENT, _("已发送"), "green"),
        (FAILED, _("发送失败"), "red"),
        (SKIPPED, _("未发送"), "grey"),
    )
