"""One-time codes for contact verification (验证码): the stored code row and the send-throttle lock rows.

Written only by `wuji.accounts.otp`; every other module calls that module's functions.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet

__all__ = ["CodeChannel", "CodeDelivery", "CodePurpose", "CodeState", "OneTimeCode", "SendThrottle"]


class CodeChannel(ChoiceSet):
    SMS = "sms"
    EMAIL = "email"
    CHOICES = ((SMS, _("短信")), (EMAIL, _("电子邮件")))


class CodePurpose(ChoiceSet):
    """The purposes the platform issues codes for. A code only verifies for the purpose it was issued for.

    Callers may also pass their own purpose string (for example ``step_up:withdrawal``), see `otp.issue_code`.
    """

    REGISTER = "register"
    LOGIN = "login"
    RESET_PASSWORD = "reset_password"
    VERIFY_CONTACT = "verify_contact"
    CHANGE_CONTACT = "change_contact"
    STEP_UP = "step_up"
    CHOICES = (
        (REGISTER, _("注册")),
        (LOGIN, _("登录")),
        (RESET_PASSWORD, _("重置密码")),
        (VERIFY_CONTACT, _("验证联系方式")),
        (CHANGE_CONTACT, _("更换联系方式")),
        (STEP_UP, _("敏感操作验证")),
    )


class CodeState(ChoiceSet):
    ACTIVE = "active"
    USED = "used"
    SUPERSEDED = "superseded"
    EXHAUSTED = "exhausted"
    CHOICES = (
        (ACTIVE, _("有效"), "green"),
        (USED, _("已使用"), "grey"),
        (SUPERSEDED, _("已被新验证码取代"), "grey"),
        (EXHAUSTED, _("错误次数过多"), "red"),
    )


class CodeDelivery(ChoiceSet):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CHOICES = ((PENDING, _("待发送"), "yellow"), (SENT, _("已发送"), "green"), (FAILED, _("发送失败"), "red"))


class OneTimeCode(models.Model):
    """A one-time code sent to an address (E.164 mobile or lower-cased e-mail) for one purpose.

    Invariants: the code itself is never stored in plain text: `code_hash` is a keyed hash bound to purpose and
    address, and `code_ciphertext` (encrypted) exists only until the delivery attempt; at
    most one ACTIVE code per (purpose, address) — issuing a new one supersedes the old; a code verifies at
    most once, before `expires_at`, within the attempt limit. Rows are kept (not deleted) because the send
    rate limits count them.
    """

    purpose = models.CharField(verbose_name=_("用途"), max_length=64)
    channel = models.CharField(verbose_name=_("渠道"), max_length=10, choices=CodeChannel.choices())
    address = models.CharField(verbose_name=_("接收地址"), max_length=254)
    code_hash = models.CharField(verbose_name=_("验证码摘要"), max_length=64)
    # The code encrypted (Fernet, rotatable keys) only until the delivery task has handed it to the channel,
    # so that the task queue's stored arguments never hold it; emptied after the attempt.
    code_ciphertext = models.TextField(verbose_name=_("待发送验证码密文"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="one_time_codes",
    )
    ip = models.GenericIPAddressField(verbose_name=_("请求 IP"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("签发时间"))
    expires_at = models.DateTimeField(verbose_name=_("过期时间"))
    state = models.CharField(
        verbose_name=_("状态"),
        max_length=16,
        choices=CodeState.choices(),
        default=CodeState.ACTIVE,
    )
    attempts = models.PositiveSmallIntegerField(verbose_name=_("验证尝试次数"), default=0)
    used_at = models.DateTimeField(verbose_name=_("使用时间"), null=True, blank=True)
    delivery_status = models.CharField(
        verbose_name=_("发送状态"),
        max_length=16,
        choices=CodeDelivery.choices(),
        default=CodeDelivery.PENDING,
    )
    provider_message_id = models.CharField(verbose_name=_("服务商消息编号"), max_length=128, blank=True)
    delivery_error = models.TextField(verbose_name=_("发送错误"), blank=True)
    sent_at = models.DateTimeField(verbose_name=_("发送时间"), null=True, blank=True)
    delivery_log = models.JSONField(verbose_name=_("发送记录"), default=list, blank=True)

    class Meta:
        verbose_name = _("一次性验证码")
        verbose_name_plural = _("一次性验证码")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["address", "created_at"], name="accounts_otp_address_time"),
            models.Index(fields=["ip", "created_at"], name="accounts_otp_ip_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "address"],
                condition=Q(state="active"),
                name="accounts_otp_one_active_per_purpose_address",
                violation_error_message=_("同一用途和地址只能有一个有效验证码。"),
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email"]),
                name="accounts_otp_channel_valid",
                violation_error_message=_("验证码渠道无效。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.channel}:{self.pk}"


class SendThrottle(models.Model):
    """One row per throttled key (address or IP), locked while counting sends so that concurrent requests
    in several processes cannot both pass a rate limit. The counts themselves come from `OneTimeCode` rows."""

    key = models.CharField(verbose_name=_("限流键"), max_length=300, unique=True)

    class Meta:
        verbose_name = _("发送限流锁")
        verbose_name_plural = _("发送限流锁")

    def __str__(self) -> str:
        return self.key
