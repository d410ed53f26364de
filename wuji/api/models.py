from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuji.core import clock

from .scopes import label_of


class ApiKey(models.Model):
    """A customer's API key: a public key id and a secret that signs requests (WUJI-HMAC-SHA256, decision 0041).

    The secret is shown once and kept encrypted at rest (the server needs it to verify signatures). A key
    created before signing has no encrypted secret (`is_legacy`) and cannot authenticate. Every key reads;
    `scopes` name what it may change (empty = read-only). `allowed_ips` are networks (CIDR, IPv4 and IPv6)
    the key may be used from (empty = anywhere). `last_used_at`/`last_used_ip` are written at most once a
    minute per key."""

    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(verbose_name=_("name"), max_length=64)
    key_id = models.CharField(verbose_name=_("key id"), max_length=32, unique=True)
    secret_encrypted = models.TextField(verbose_name=_("secret (encrypted)"), blank=True, default="")
    scopes = models.JSONField(verbose_name=_("scopes"), default=list, blank=True)
    allowed_ips = models.JSONField(verbose_name=_("allowed IP networks"), default=list, blank=True)
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(verbose_name=_("last used from"), null=True, blank=True)
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

    @property
    def scope_labels(self) -> list[str]:
        return [label_of(scope) for scope in self.scopes]

    @property
    def has_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= clock.now()

    @property
    def is_legacy(self) -> bool:
        """Created before request signing: only a hash of its secret was kept, so it cannot verify a signature."""
        return not self.secret_encrypted


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
