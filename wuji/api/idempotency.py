"""The generic idempotency layer of API v1 (docs/decisions/0042-api-conventions.md).

Every mutating request (POST/PUT/PATCH/DELETE) of an authenticated caller carries `Idempotency-Key`. After
authentication and permissions the key is claimed: a row (owner, key) inserted in its own transaction, so two
concurrent requests with one key cannot both run the view. After the view, `wuji.api.middleware` stores the
response (2xx and 4xx other than 401/403/429) or releases the claim (5xx, anything not stored) so that a retry
runs again. A retry with the same key and the same request gets the stored response with
`Idempotent-Replayed: true`; the same key with another request is refused (422 `idempotency_key_reused`).

A claim older than `WUJI_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS` belongs to a worker that died mid-request and may
be taken over. That is safe because the services keep their own business idempotency keys (orders, server
operations, top-ups): the second run finds what the first one did.
"""

import dataclasses
import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext_lazy as _

from wuji.core import clock

from .errors import Conflict, UnprocessableEntity
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1/"
RETENTION = dt.timedelta(hours=24)
# Statuses never stored: the caller may fix the cause (credentials, step-up, waiting) and retry with the key.
NOT_STORED = frozenset({401, 403, 429})
MAX_STORED_BYTES = 1024 * 1024
_REQUEST_ATTR = "_wuji_idempotency_claim"


class KeyReused(UnprocessableEntity):
    default_code = "idempotency_key_reused"
    default_detail = _("该幂等键已用于另一个请求（方法、路径、参数或请求体不同）。请为新请求使用新的幂等键。")


class KeyInProgress(Conflict):
    default_code = "idempotency_key_in_progress"
    default_detail = _("使用该幂等键的请求仍在处理中，请稍后重试。")


class Replay(Exception):
    """Raised before the view: the stored response answers the request (see errors.exception_handler)."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__(record.key)
        self.record = record

    def response(self) -> HttpResponse:
        record = self.record
        response = HttpResponse(bytes(record.body), status=record.status_code,
                                content_type=record.content_type or None)
        response[REPLAYED_HEADER] = "true"
        return response


def applies(request, view) -> bool:
    """Mutating API requests of an authenticated caller, unless the view has its own deduplication."""
    return (request.method in MUTATING_METHODS and request.path.startswith(API_PREFIX)
            and bool(getattr(request.user, "is_authenticated", False))
            and not getattr(view, "idempotency_exempt", False))


def _body_digest(request) -> bytes:
    """The raw body when it is in memory (or small enough to read); a multipart body not read as a whole (session
    callers uploading files: no signature needed it, and it may exceed DATA_UPLOAD_MAX_MEMORY_SIZE) is digested
    from its parsed fields and files."""
    django_request = getattr(request, "_request", request)
    multipart = django_request.META.get("CONTENT_TYPE", "").startswith("multipart/")
    try:
        if hasattr(django_request, "_body") or not multipart:
            return django_request.body
    except RawPostDataException:
        pass
    return _parsed_digest(django_request)


def _parsed_digest(django_request) -> bytes:
    digest = hashlib.sha256()
    for name, values in sorted(django_request.POST.lists()):
        digest.update(repr((name, values)).encode())
    for name, files in sorted(django_request.FILES.lists()):
        for upload in files:
            digest.update(repr((name, upload.name, upload.size)).encode())
            upload.seek(0)
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.digest()


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    digest.update(hashlib.sha256(_body_digest(request)).digest())
    return digest.hexdigest()


@dataclasses.dataclass
class Claim:
    record_id: int


def claim(request, key: str) -> None:
    """Claim `key` for this request, or raise Replay / KeyReused / KeyInProgress. Runs after permissions."""
    owner_id, print_ = request.user.pk, fingerprint(request)
    now = clock.now()
    for _attempt in range(3):  # an expired or abandoned row found and removed meanwhile: try the insert again
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    owner_id=owner_id, key=key, fingerprint=print_, method=request.method, path=request.path[:500],
                    created_at=now, claimed_at=now)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(owner_id=owner_id, key=key).first()
            if existing is None:
                continue
            if existing.created_at <= now - RETENTION:  # expired: the key is free again
                IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
                continue
            if existing.fingerprint != print_:
                raise KeyReused(field=HEADER) from None
            if existing.state == IdempotencyRecord.State.DONE:
                raise Replay(existing) from None
            if not _take_over(existing, now):
                raise KeyInProgress(field=HEADER) from None
            record = existing
        setattr(_django(request), _REQUEST_ATTR, Claim(record_id=record.pk))
        return
    raise KeyInProgress(field=HEADER)


def _take_over(record: IdempotencyRecord, now: dt.datetime) -> bool:
    """An in-progress claim older than the timeout was abandoned (its worker died): the first caller to update
    it takes it over. Only one can, since the update is conditional on the old claim time."""
    cutoff = now - dt.timedelta(seconds=settings.WUJI_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS)
    if record.claimed_at > cutoff:
        return False
    return bool(IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, claimed_at=record.claimed_at,
    ).update(claimed_at=now))


def _django(request):
    return getattr(request, "_request", request)


def finish(request, response) -> None:
    """After the response is rendered: store it, or release the claim so that a retry runs the view again."""
    claim_ = getattr(request, _REQUEST_ATTR, None)
    if claim_ is None:
        return
    delattr(request, _REQUEST_ATTR)
    body = None if response.streaming else response.content
    storable = (body is not None and len(body) <= MAX_STORED_BYTES
                and 200 <= response.status_code < 500 and response.status_code not in NOT_STORED)
    records = IdempotencyRecord.objects.filter(pk=claim_.record_id, state=IdempotencyRecord.State.IN_PROGRESS)
    if storable:
        records.update(state=IdempotencyRecord.State.DONE, status_code=response.status_code,
                       body=_redacted(body, response.get("Content-Type", "")),
                       content_type=response.get("Content-Type", ""))
    else:
        records.delete()


def _redacted(body: bytes, content_type: str) -> bytes:
    """The body to store: secrets shown once (a new root password, a console token) are nulled, as the services'
    own replays always did, so that no secret lies in this table for 24 hours."""
    if not content_type.startswith("application/json"):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    secret = frozenset(settings.WUJI_IDEMPOTENCY_REDACTED_FIELDS)

    def redact(value):
        if isinstance(value, dict):
            return {k: None if k in secret else redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        return value

    cleaned = redact(data)
    return body if cleaned == data else json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")).encode()


def purge(moment: dt.datetime | None = None) -> int:
    """Delete records past the 24-hour retention (and claims as old, whatever their state)."""
    cutoff = (moment or clock.now()) - RETENTION
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lte=cutoff).delete()
    return deleted
