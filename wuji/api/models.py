from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A customer's API key: a public key id and a secret shown once and stored only as a keyed hash."""

    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(verbose_name=_("name"), max_length=64)
    key_id = models.CharField(verbose_name=_("key id"), max_length=32, unique=True)
    secret_hash = models.CharField(verbose_name=_("secret hash"), max_length=64)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(verbose_name=_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
