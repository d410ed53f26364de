from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgreementVersion(models.Model):
    """A published version of the user service agreement; in force from `effective_at`."""

    version = models.CharField(verbose_name=_("version"), max_length=32, unique=True)
    title = models.CharField(verbose_name=_("title"), max_length=200)
    body = models.TextField(verbose_name=_("text"))
    published_at = models.DateTimeField(verbose_name=_("published at"))
    effective_at = models.DateTimeField(verbose_name=_("effective at"), db_index=True)

    class Meta:
        verbose_name = _("agreement version")
        verbose_name_plural = _("agreement versions")
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class Acceptance(models.Model):
    """Proof that a user actively accepted an agreement version: when, from where, through which channel."""

    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="acceptances"
    )
    version = models.ForeignKey(
        to=AgreementVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_at = models.DateTimeField(verbose_name=_("accepted at"))
    ip = models.GenericIPAddressField(verbose_name=_("IP address"), null=True, blank=True)
    channel = models.CharField(verbose_name=_("channel"), max_length=16)

    class Meta:
        verbose_name = _("agreement acceptance")
        verbose_name_plural = _("agreement acceptances")
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="agreements_accept_once")]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.version.version}"
