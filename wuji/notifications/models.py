from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuji.audit.choices import Channel

from .choices import AttemptResult, DeliveryStatus, NoticeChannel, NoticeKind


class Notice(models.Model):
    """One notice to one user, always kept in their in-site inbox (站内信)."""

    recipient = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="notices"
    )
    event = models.CharField(verbose_name=_("event"), max_length=64)
    kind = models.CharField(verbose_name=_("类别"), max_length=16, choices=NoticeKind, default=NoticeKind.SERVICE)
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
    """A notice on one channel: its current state; every try is a DeliveryAttempt (proof of notice).

    `pending` with `next_attempt_at` set means a try (a retry, or a message held over quiet hours) is due
    then; `failed` is final, after WUJI_NOTICE_MAX_ATTEMPTS tries."""

    notice = models.ForeignKey(to=Notice, verbose_name=_("notice"), on_delete=models.PROTECT,
                               related_name="deliveries")
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=NoticeChannel)
    address = models.CharField(verbose_name=_("address"), max_length=254, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=DeliveryStatus,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=0)
    detail = models.CharField(verbose_name=_("detail"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(verbose_name=_("下次发送时间"), null=True, blank=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["notice", "channel"], name="notif_delivery_once_per_channel")]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.channel}: {self.status}"


class DeliveryAttempt(models.Model):
    """One try to deliver a notice on one channel, with what the transport answered. Never changed."""

    delivery = models.ForeignKey(to=Delivery, verbose_name=_("delivery"), on_delete=models.PROTECT,
                                 related_name="attempt_log")
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=NoticeChannel)
    address = models.CharField(verbose_name=_("address"), max_length=254, blank=True)
    attempted_at = models.DateTimeField(verbose_name=_("发送时间"))
    result = models.CharField(verbose_name=_("结果"), max_length=16, choices=AttemptResult)
    detail = models.CharField(verbose_name=_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.attempted_at:%Y-%m-%d %H:%M}: {self.result}"


class NoticePreference(models.Model):
    """Whether a user wants notices of one kind on one channel. No row: on. Legal and security kinds, and
    mandatory events of any kind, ignore it."""

    user = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="notice_preferences")
    kind = models.CharField(verbose_name=_("类别"), max_length=16, choices=NoticeKind)
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=NoticeChannel)
    enabled = models.BooleanField(verbose_name=_("接收"), default=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="notif_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {self.enabled}"


class MarketingConsent(models.Model):
    """One grant or withdrawal of consent to marketing messages (营销信息同意, PIPL art. 14). Append-only:
    the latest row is the user's current answer; the history is the proof."""

    user = models.ForeignKey(to=settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="marketing_consents")
    granted = models.BooleanField(verbose_name=_("同意"))
    recorded_at = models.DateTimeField(verbose_name=_("时间"))
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=Channel)
    ip = models.GenericIPAddressField(verbose_name=_("IP 地址"), null=True, blank=True)
    text_version = models.CharField(verbose_name=_("条款版本"), max_length=32)

    class Meta:
        verbose_name = _("营销信息同意记录")
        verbose_name_plural = _("营销信息同意记录")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {'granted' if self.granted else 'withdrawn'} {self.recorded_at:%Y-%m-%d}"


class WechatBinding(models.Model):
    """The user's WeChat official-account openid, where template messages go (微信模板消息)."""

    user = models.OneToOneField(to=settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="wechat_binding")
    openid = models.CharField(verbose_name=_("微信 OpenID"), max_length=64, unique=True)
    bound_at = models.DateTimeField(verbose_name=_("绑定时间"))

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.openid}"
