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


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one caller: claimed before the view runs, then the response it produced.

    The stored response is replayed to a retry with the same key and the same request for 24 hours
    (docs/decisions/0042). Keys are scoped to the owner, so two customers may choose the same key."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")

    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(verbose_name=_("idempotency key"), max_length=100)
    fingerprint = models.CharField(verbose_name=_("request fingerprint"), max_length=64)
    method = models.CharField(verbose_name=_("method"), max_length=10)
    path = models.CharField(verbose_name=_("path"), max_length=500)
    state = models.CharField(verbose_name=_("state"), max_length=16, choices=State.choices,
                             default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(verbose_name=_("status code"), null=True, blank=True)
    content_type = models.CharField(verbose_name=_("content type"), max_length=200, blank=True)
    body = models.BinaryField(verbose_name=_("response body"), default=b"")
    created_at = models.DateTimeField(verbose_name=_("created at"), db_index=True)
    claimed_at = models.DateTimeField(verbose_name=_("claimed at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="api_idempotency_owner_key")]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.key}"
