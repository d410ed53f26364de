"""API keys: creation (secret shown once, kept encrypted), revocation, and what request authentication needs
(the key's one query, its IP allow-list, the nonce store, the throttled last-used write). Decision 0041."""

import datetime as dt
import ipaddress
import secrets
import string

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from wuji.accounts import restrictions
from wuji.accounts.models import AccountRestriction
from wuji.agreements.models import Acceptance, AgreementVersion
from wuji.audit import services as audit
from wuji.core import clock, crypto

from .models import ApiKey
from .scopes import Scope

MAX_ACTIVE_KEYS = 10
MAX_ALLOWED_NETWORKS = 20
# A signed request is accepted within ±SIGNATURE_WINDOW_SECONDS of the server's clock (issue 7: 5 minutes).
SIGNATURE_WINDOW_SECONDS = 300
# A request signed at t may arrive until the server's clock reads t + window, and a clock may be up to a window
# behind, so a nonce must be remembered for two windows (plus a margin) to refuse every replay.
NONCE_TTL_SECONDS = 2 * SIGNATURE_WINDOW_SECONDS + 60
# last_used_at/last_used_ip are written at most once per key per this many seconds: not a write per request.
LAST_USED_PRECISION_SECONDS = 60


class ApiKeyError(Exception):
    """A refused key creation; `field` names the form field at fault (None: the whole request)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def _new_key_id() -> str:
    return f"AK{secrets.token_hex(10).upper()}"


SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 43  # 43 × log2(62) ≈ 256 bits, as many as token_urlsafe(32)


def _new_secret() -> str:
    """Letters and digits only: a secret never starts with '-', which a shell or a command line would read as an
    option (`wuji-cli configure --secret -x…` failed), and it survives copying out of any terminal."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def clean_scopes(scopes) -> list[str]:
    chosen = sorted(set(scopes or []))
    unknown = [scope for scope in chosen if scope not in Scope.values]
    if unknown:
        raise ApiKeyError(_("未知的权限范围：%(scopes)s。") % {"scopes": ", ".join(unknown)}, field="scopes")
    return chosen


def clean_allowed_ips(entries) -> list[str]:
    """Each entry an IPv4 or IPv6 address or network in CIDR notation, normalised; duplicates dropped."""
    networks: list[str] = []
    for entry in entries or []:
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            raise ApiKeyError(_("“%(entry)s”不是有效的 IP 地址或网段（CIDR，例如 203.0.113.0/24 或 "
                                "2001:db8::/32；网段的主机位须为 0）。") % {"entry": entry},
                              field="allowed_ips") from exc
        if str(network) not in networks:
            networks.append(str(network))
    if len(networks) > MAX_ALLOWED_NETWORKS:
        raise ApiKeyError(_("IP 白名单最多 %(n)d 条。") % {"n": MAX_ALLOWED_NETWORKS}, field="allowed_ips")
    return networks


def clean_expiry(expires_at: dt.datetime | None) -> dt.datetime | None:
    if expires_at is not None and expires_at <= clock.now():
        raise ApiKeyError(_("到期时间须晚于当前时间。"), field="expires_at")
    return expires_at


def create_key(*, owner, name: str, ip: str | None, channel: str = "web", factor: str | None = None,
               scopes=(), allowed_ips=(), expires_at: dt.datetime | None = None) -> tuple[ApiKey, str]:
    """Returns (key, secret). The secret is stored encrypted (the server verifies signatures with it) and shown
    to the customer once.

    Keys are created only in the portal, after step-up verification (`factor` is recorded); an API key
    cannot create another key. No scope = a read-only key."""
    if channel == "api":
        raise ApiKeyError(_("API 密钥只能在控制台创建。"))
    name = (name or "").strip()[:64]
    if not name:
        raise ApiKeyError(_("请为密钥命名。"), field="name")
    scopes, allowed_ips, expires_at = clean_scopes(scopes), clean_allowed_ips(allowed_ips), clean_expiry(expires_at)
    if ApiKey.objects.filter(owner=owner, revoked_at__isnull=True).count() >= MAX_ACTIVE_KEYS:
        raise ApiKeyError(_("最多可同时拥有 %(n)d 个有效密钥。") % {"n": MAX_ACTIVE_KEYS}, field="name")
    secret = _new_secret()
    with transaction.atomic():
        key = ApiKey.objects.create(owner=owner, name=name, key_id=_new_key_id(),
                                    secret_encrypted=crypto.encrypt(secret), scopes=scopes, allowed_ips=allowed_ips,
                                    expires_at=expires_at, created_at=clock.now())
        audit.record(actor=owner, owner=owner, channel=channel, action="apikey.create", target=key,
                     params={"name": name, "key_id": key.key_id, "scopes": scopes, "allowed_ips": allowed_ips,
                             "expires_at": expires_at.isoformat() if expires_at else None,
                             **({"factor": factor} if factor else {})}, ip=ip)
    return key, secret


def revoke_key(*, key: ApiKey, actor, ip: str | None, channel: str = "web") -> None:
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        audit.record(actor=actor, owner=key.owner, channel=channel, action="apikey.revoke", target=key,
                     params={"key_id": key.key_id}, ip=ip)


def active_key(key_id: str) -> ApiKey | None:
    """The live (not revoked) key with this id, with its owner, whether the owner's API access is restricted
    (`api_restricted`) and whether an agreement acceptance is pending (`agreement_pending`): one query, the only one
    authentication makes.

    Hand-written SQL because it runs on every signed request: built by the ORM (select_related and two subquery
    annotations) the statement took longer to compile than the rest of the request's database work (decision
    0055). The row is turned into the same model instances the ORM would make, through the fields' own database
    converters. The flags mean what restrictions.is_restricted(…, API) and agreements.needs_acceptance mean;
    test_owner_flags holds them, and the hydrated key and owner, equal to the ORM's state by state."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    keys, users, restriction, version, acceptance = (quote(model._meta.db_table) for model in (
        ApiKey, user_model, AccountRestriction, AgreementVersion, Acceptance))
    key_fields, owner_fields = ApiKey._meta.concrete_fields, user_model._meta.concrete_fields
    columns = [f"k.{quote(field.column)}" for field in key_fields] + [f"u.{quote(field.column)}"
                                                                      for field in owner_fields]
    sql = (f"SELECT {', '.join(columns)},"
           f" EXISTS (SELECT 1 FROM {restriction} r WHERE r.user_id = k.owner_id AND r.function = %s"
           f" AND r.lifted_at IS NULL),"
           f" EXISTS (SELECT 1 FROM {version} v WHERE v.id = (SELECT v2.id FROM {version} v2"
           f" WHERE v2.effective_at <= %s ORDER BY v2.effective_at DESC LIMIT 1)"
           f" AND NOT EXISTS (SELECT 1 FROM {acceptance} a WHERE a.user_id = k.owner_id AND a.version_id = v.id))"
           f" FROM {keys} k INNER JOIN {users} u ON u.id = k.owner_id"
           f" WHERE k.key_id = %s AND k.revoked_at IS NULL")
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [restrictions.RestrictedFunction.API, now, key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    key = _instance(ApiKey, key_fields, row[:len(key_fields)])
    key.owner = _instance(user_model, owner_fields, row[len(key_fields):-2])
    key.api_restricted, key.agreement_pending = bool(row[-2]), bool(row[-1])  # SQLite answers 0/1
    return key


def _instance(model, fields, values):
    """A model instance from raw column values, converted as the ORM's compiler converts them."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def owner_may_use(key: ApiKey) -> bool:
    """A deactivated or locked account's keys fail (clause 2.2.1)."""
    return key.owner.is_active and not key.owner.locked_at


def secret_of(key: ApiKey) -> str:
    return crypto.decrypt(key.secret_encrypted)


def _address(ip: str | None):
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    return (address.ipv4_mapped or address) if address.version == 6 else address


def ip_allowed(key: ApiKey, ip: str | None) -> bool:
    """Empty allow-list = any address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 networks."""
    if not key.allowed_ips:
        return True
    address = _address(ip)
    if address is None:
        return False
    return any(address in ipaddress.ip_network(network) for network in key.allowed_ips
               if ipaddress.ip_network(network).version == address.version)


def claim_nonce(key_id: str, nonce: str) -> bool:
    """True the first time (key id, nonce) is seen within NONCE_TTL_SECONDS. `cache.add` is atomic on Redis
    (SET NX), so two web processes cannot both accept the same nonce; the cache must be shared between them
    (`wuji check-deploy` refuses a process-local one)."""
    return cache.add(f"api-nonce:{key_id}:{nonce}", 1, timeout=NONCE_TTL_SECONDS)


def record_use(key: ApiKey, ip: str | None) -> None:
    """Throttled: at most one write per key per LAST_USED_PRECISION_SECONDS, so last-used is exact to a minute."""
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= LAST_USED_PRECISION_SECONDS:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)


def keys_of(owner):
    return ApiKey.objects.filter(owner=owner)
