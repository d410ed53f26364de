"""API keys: creation (secret shown once), revocation, and authentication of a presented secret."""

import hmac
import secrets

from django.db import transaction
from django.db.models import OuterRef
from django.utils.translation import gettext as _

from wuji.accounts import restrictions
from wuji.agreements import services as agreements
from wuji.audit import services as audit
from wuji.core import clock, crypto

from .models import ApiKey

MAX_ACTIVE_KEYS = 10


class ApiKeyError(Exception):
    pass


def _hash(secret: str) -> str:
    return crypto.keyed_hash(secret, "api-key-secret")


def create_key(*, owner, name: str, ip: str | None, channel: str = "web",
               factor: str | None = None) -> tuple[ApiKey, str]:
    """Returns (key, secret). The secret is never stored; only its keyed hash is.

    Keys are created only in the portal, after step-up verification (`factor` is recorded); an API key
    cannot create another key."""
    if channel == "api":
        raise ApiKeyError(_("API 密钥只能在控制台创建。"))
    name = (name or "").strip()[:64]
    if not name:
        raise ApiKeyError(_("请为密钥命名。"))
    if ApiKey.objects.filter(owner=owner, revoked_at__isnull=True).count() >= MAX_ACTIVE_KEYS:
        raise ApiKeyError(_("最多可同时拥有 %(n)d 个有效密钥。") % {"n": MAX_ACTIVE_KEYS})
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(owner=owner, name=name, key_id=f"AK{secrets.token_hex(10).upper()}",
                                    secret_hash=_hash(secret), created_at=clock.now())
        audit.record(actor=owner, owner=owner, channel=channel, action="apikey.create", target=key,
                     params={"name": name, "key_id": key.key_id, **({"factor": factor} if factor else {})}, ip=ip)
    return key, secret


def revoke_key(*, key: ApiKey, actor, ip: str | None, channel: str = "web") -> None:
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        audit.record(actor=actor, owner=key.owner, channel=channel, action="apikey.revoke", target=key,
                     params={"key_id": key.key_id}, ip=ip)


def authenticate(key_id: str, secret: str) -> ApiKey | None:
    key = (ApiKey.objects.select_related("owner").filter(key_id=key_id, revoked_at__isnull=True)
           .annotate(api_restricted=restrictions.open_exists("owner", restrictions.RestrictedFunction.API),
                     agreement_pending=agreements.pending_acceptance(OuterRef("owner"))).first())
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    if not key.owner.is_active or key.owner.locked_at:  # a locked account's keys fail (clause 2.2.1)
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)  # throttled: not a write per request
    return key


def keys_of(owner):
    return ApiKey.objects.filter(owner=owner)
