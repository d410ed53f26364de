from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgreementVersion(models.Model):
    """A published version of the user service agreement; in force from `effective_at`."""

    version = models.CharField(verbose_name=_("版本"), max_length=32, unique=True)
    title = models.CharField(verbose_name=_("标题"), max_length=200)
    body = models.TextField(verbose_name=_("正文"))
    published_at = models.DateTimeField(verbose_name=_("发布时间"))
    effective_at = models.DateTimeField(verbose_name=_("生效时间"), db_index=True)

    class Meta:
        verbose_name = _("协议版本")
        verbose_name_plural = _("协议版本")
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class Acceptance(models.Model):
    """Proof that a user actively accepted an agreement version: when, from where, through which channel."""

    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="acceptances"
    )
    version = models.ForeignKey(
        to=AgreementVersion, verbose_name=_("版本"), on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_at = models.DateTimeField(verbose_name=_("同意时间"))
    ip = models.GenericIPAddressField(verbose_name=_("IP 地址"), null=True, blank=True)
    channel = models.CharField(verbose_name=_("渠道"), max_length=16)

    class Meta:
        verbose_name = _("协议同意记录")
        verbose_name_plural = _("协议同意记录")
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="agreements_accept_once")]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.version.version}"


class RevisionNotice(models.Model):
    """One user was told about one published revision (clause 11); at most one row per (version, user).

    The row is written in the same transaction as the notice, so a notify task that runs twice, or two
    workers on the same batch, never tell anyone twice.
    """

    version = models.ForeignKey(
        to=AgreementVersion, verbose_name=_("版本"), on_delete=models.CASCADE, related_name="revision_notices"
    )
    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    notified_at = models.DateTimeField(verbose_name=_("通知时间"))

    class Meta:
        verbose_name = _("修订通知记录")
        verbose_name_plural = _("修订通知记录")
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="agreements_notice_once")]

    def __str__(self) -> str:
        return f"{self.user} told of {self.version.version}"
