from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class NoticeChannel(ChoiceSet):
    INBOX = "inbox"
    EMAIL = "email"
    SMS = "sms"
    WECHAT = "wechat"

    CHOICES = (
        (INBOX, _("站内信")),
        (EMAIL, _("电子邮件")),
        (SMS, _("短信")),
        (WECHAT, _("微信")),
    )


# The channels a user can switch on and off per kind; the inbox is always written.
OPTIONAL_CHANNELS = (NoticeChannel.EMAIL, NoticeChannel.SMS, NoticeChannel.WECHAT)


class NoticeKind(ChoiceSet):
    """What a notice is about. Legal and security notices cannot be switched off; marketing needs consent."""

    LEGAL = "legal"
    SECURITY = "security"
    SERVICE = "service"
    BILLING = "billing"
    MARKETING = "marketing"

    CHOICES = (
        (LEGAL, _("法律与协议通知"), "red"),
        (SECURITY, _("账户安全通知"), "red"),
        (SERVICE, _("服务进展通知"), "blue"),
        (BILLING, _("费用与账单通知"), "blue"),
        (MARKETING, _("营销与活动信息"), "grey"),
    )


# Kinds the user cannot switch off on any channel.
ALWAYS_ON_KINDS = (NoticeKind.LEGAL, NoticeKind.SECURITY)


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


class AttemptResult(ChoiceSet):
    SENT = "sent"
    FAILED = "failed"

    CHOICES = (
        (SENT, _("成功"), "green"),
        (FAILED, _("失败"), "red"),
    )
