"""Contact verification by one-time codes (验证码): issue, deliver after commit, verify.

Rules (issue 3, domain-cn §7.2): 6 digits from `secrets`, 5-minute lifetime, bound to (purpose, address),
stored only as a keyed hash, single use, at most 5 attempts; a new code for the same purpose and address
supersedes the previous one; sends are limited per address (1/min, 5/h, 10/24 h) and per requesting IP,
counted from the database rows so the limits hold across processes. The SMS or e-mail goes out in a task
enqueued in the issuing transaction (`otp_tasks.deliver_one_time_code`), i.e. only after commit.

Addresses are normalised here: SMS → E.164 mainland mobile (`+86…`), e-mail → trimmed, lower-cased.
"""

import datetime as dt
import hmac
import logging
import math
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wuji.core import clock
from wuji.core.crypto import decrypt, encrypt, keyed_hash

from . import otp_tasks
from .otp_models import CodeChannel, CodeDelivery, CodePurpose, CodeState, OneTimeCode, SendThrottle
from .phone import mask_mobile, normalise_mainland_mobile
from .sms import get_backend

__all__ = [
    "CodeError", "CodeExpired", "CodeNotFound", "InvalidCode", "IssuedCode", "OtpError", "RateLimited",
    "TooManyAttempts", "deliver_code", "issue_code", "mask_address", "mask_mobile", "normalise_address",
    "normalise_email", "normalise_mainland_mobile", "verify_code",
]

log = logging.getLogger(__name__)
_PURPOSE = re.compile(r"^[a-z0-9_.:-]{1,64}$")
_HASH_PURPOSE = "one-time-code"


# --- Errors -------------------------------------------------------------------------------------------

class OtpError(Exception):
    """Base of every refusal in this module; `message` is translated, `code` is a stable machine name."""

    code = "otp_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RateLimited(OtpError):
    """Too many codes requested for this address or from this IP; `retry_after_seconds` until the next one."""

    code = "rate_limited"

    def __init__(self, retry_after_seconds: int):
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        if self.retry_after_seconds < 120:
            wait = ngettext("%(n)d 秒", "%(n)d 秒", self.retry_after_seconds) % {"n": self.retry_after_seconds}
        else:
            minutes = math.ceil(self.retry_after_seconds / 60)
            wait = ngettext("%(n)d 分钟", "%(n)d 分钟", minutes) % {"n": minutes}
        super().__init__(_("验证码发送过于频繁，请在 %(wait)s后重试。") % {"wait": wait})


class CodeError(OtpError):
    """A code did not verify."""


class CodeNotFound(CodeError):
    code = "code_not_found"

    def __init__(self):
        super().__init__(_("验证码无效或已使用，请重新获取。"))


class CodeExpired(CodeError):
    code = "code_expired"

    def __init__(self):
        super().__init__(_("验证码已过期，请重新获取。"))


class TooManyAttempts(CodeError):
    code = "too_many_attempts"

    def __init__(self):
        super().__init__(_("验证码错误次数过多，已失效，请重新获取。"))


class InvalidCode(CodeError):
    code = "invalid_code"

    def __init__(self, attempts_left: int):
        self.attempts_left = attempts_left
        super().__init__(_("验证码错误，还可尝试 %(n)d 次。") % {"n": attempts_left})


@dataclass(frozen=True)
class IssuedCode:
    """What the caller may show: never the code itself."""

    id: int
    purpose: str
    channel: str
    address: str
    masked_address: str
    expires_at: dt.datetime
    resend_after: dt.datetime


# --- Addresses ----------------------------------------------------------------------------------------

def normalise_email(raw: str | None, *, field: str = "email") -> str:
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationError({field: [_("请填写电子邮箱。")]}, code="required")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({field: [_("请输入有效的电子邮箱地址。")]}, code="invalid") from None
    return email


def normalise_address(channel: str, raw: str | None, *, field: str | None = None) -> str:
    """The stored form of an address for the channel; ValidationError keyed by `field` (phone / email)."""
    if channel == CodeChannel.SMS:
        return normalise_mainland_mobile(raw, field=field or "phone")
    if channel == CodeChannel.EMAIL:
        return normalise_email(raw, field=field or "email")
    raise ValueError(f"unknown one-time-code channel {channel!r}")


def mask_address(address: str) -> str:
    """``+8613800138000`` → ``138****8000``; ``alice@example.com`` → ``a***e@example.com``."""
    if "@" not in address:
        return mask_mobile(address)
    local, domain = address.split("@", 1)
    shown = local[0] + "***" + (local[-1] if len(local) > 1 else "")
    return f"{shown}@{domain}"


def _channel_of(address: str) -> str:
    return CodeChannel.EMAIL if "@" in (address or "") else CodeChannel.SMS


def _hash(purpose: str, address: str, code: str) -> str:
    return keyed_hash(f"{purpose}\x1f{address}\x1f{code}", _HASH_PURPOSE)


# --- Issue --------------------------------------------------------------------------------------------

def _lock(key: str) -> None:
    """Serialise concurrent senders to the same address / IP (a row lock; SQLite serialises anyway)."""
    try:
        with transaction.atomic():
            SendThrottle.objects.get_or_create(key=key)
    except IntegrityError:  # created concurrently by another process: fine, it exists now
        pass
    SendThrottle.objects.select_for_update().filter(key=key).first()


def _retry_after(times: list[dt.datetime], limits, now: dt.datetime) -> int:
    """Seconds until every (max, window) limit allows one more send, given send times newest first; 0 if now."""
    wait = 0.0
    for limit, window in limits:
        recent = [t for t in times if t > now - dt.timedelta(seconds=window)]
        if len(recent) >= limit:
            blocking = recent[limit - 1]
            wait = max(wait, (blocking + dt.timedelta(seconds=window) - now).total_seconds())
    return math.ceil(wait)


def _check_limits(address: str, ip: str | None, now: dt.datetime) -> None:
    address_limits = settings.WUJI_OTP_ADDRESS_LIMITS
    longest = max(window for _limit, window in address_limits)
    times = list(OneTimeCode.objects.filter(address=address, created_at__gt=now - dt.timedelta(seconds=longest))
                 .order_by("-created_at").values_list("created_at", flat=True))
    wait = _retry_after(times, address_limits, now)
    if ip and settings.WUJI_OTP_IP_LIMITS:
        ip_limits = settings.WUJI_OTP_IP_LIMITS
        longest = max(window for _limit, window in ip_limits)
        ip_times = list(OneTimeCode.objects.filter(ip=ip, created_at__gt=now - dt.timedelta(seconds=longest))
                        .order_by("-created_at").values_list("created_at", flat=True))
        wait = max(wait, _retry_after(ip_times, ip_limits, now))
    if wait > 0:
        raise RateLimited(wait)


def issue_code(*, purpose: str, channel: str, address: str, ip: str | None, user=None) -> IssuedCode:
    """Issue a fresh 6-digit code for (purpose, address) and enqueue its delivery (sent after commit).

    `purpose`: one of `CodePurpose` or a caller-defined slug (``[a-z0-9_.:-]{1,64}``, e.g. ``step_up:withdrawal``).
    `channel`: ``"sms"`` or ``"email"``. `address`: a mainland mobile in any accepted form, or an e-mail.
    Supersedes any earlier active code for the same purpose and address.

    Raises ValidationError (keyed ``phone`` / ``email``) for a bad address and `RateLimited` when a limit
    is reached; nothing is written in either case. Returns `IssuedCode` (never the code).
    """
    if not _PURPOSE.fullmatch(purpose or ""):
        raise ValueError(f"invalid one-time-code purpose {purpose!r}")
    address = normalise_address(channel, address)
    ip = ip or None
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        _lock(f"address:{address}")
        if ip:
            _lock(f"ip:{ip}")
        now = clock.now()
        _check_limits(address, ip, now)
        OneTimeCode.objects.filter(purpose=purpose, address=address, state=CodeState.ACTIVE).update(
            state=CodeState.SUPERSEDED, code_ciphertext="")
        row = OneTimeCode.objects.create(
            purpose=purpose, channel=channel, address=address, code_hash=_hash(purpose, address, code),
            code_ciphertext=encrypt(code), user=user, ip=ip, created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.WUJI_OTP_TTL_SECONDS),
        )
        otp_tasks.deliver_one_time_code.enqueue(code_id=row.pk)
    first_limit_window = min(window for _limit, window in settings.WUJI_OTP_ADDRESS_LIMITS)
    return IssuedCode(id=row.pk, purpose=purpose, channel=channel, address=address,
                      masked_address=mask_address(address), expires_at=row.expires_at,
                      resend_after=now + dt.timedelta(seconds=first_limit_window))


# --- Deliver (runs in the task) -------------------------------------------------------------------------

def _sms_template(purpose: str) -> str:
    templates = settings.WUJI_SMS_CODE_TEMPLATES
    return templates.get(purpose) or templates.get(purpose.split(":")[0]) or templates["default"]


def _send(row: OneTimeCode, code: str) -> str:
    """Hand the code to the channel; return the provider's message id. Raises on failure."""
    if row.channel == CodeChannel.SMS:
        return get_backend().send(row.address, _sms_template(row.purpose), {"code": code}).message_id
    minutes = max(1, settings.WUJI_OTP_TTL_SECONDS // 60)
    subject = _("武极云验证码：%(code)s") % {"code": code}
    body = _("您正在进行%(purpose)s操作，验证码为 %(code)s，%(minutes)d 分钟内有效。"
             "请勿将验证码告诉他人；如非本人操作，请忽略本邮件。") % {
        "purpose": CodePurpose.label(row.purpose.split(":")[0]), "code": code, "minutes": minutes}
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [row.address])
    return ""


def deliver_code(code_id: int) -> str:
    """Send an issued code once and log the attempt on its row (status, provider message id, error).

    Skips codes no longer worth sending (used, superseded, dead, expired, already attempted). No automatic
    retry: the vendors do not deduplicate, and the user can request a new code after a minute.
    """
    row = OneTimeCode.objects.filter(pk=code_id).first()
    if row is None or not row.code_ciphertext:
        return "nothing to send"
    now = clock.now()
    if row.state != CodeState.ACTIVE or now >= row.expires_at:
        OneTimeCode.objects.filter(pk=row.pk).update(code_ciphertext="")
        return "skipped"
    code = decrypt(row.code_ciphertext)
    entry = {"at": now.isoformat(), "channel": row.channel}
    try:
        message_id = _send(row, code)
    except Exception as exc:  # noqa: BLE001 — any channel failure is recorded on the row, not lost
        error = f"{getattr(exc, 'code', '') or type(exc).__name__}: {exc}"[:1000]
        log.warning("one-time code %s delivery failed: %s", row.pk, error)
        entry.update(result=CodeDelivery.FAILED, error=error, retryable=bool(getattr(exc, "retryable", False)))
        OneTimeCode.objects.filter(pk=row.pk).update(
            delivery_status=CodeDelivery.FAILED, delivery_error=error, code_ciphertext="",
            delivery_log=[*row.delivery_log, entry])
        return "failed"
    entry.update(result=CodeDelivery.SENT, message_id=message_id)
    OneTimeCode.objects.filter(pk=row.pk).update(
        delivery_status=CodeDelivery.SENT, provider_message_id=message_id[:128], delivery_error="",
        sent_at=clock.now(), code_ciphertext="", delivery_log=[*row.delivery_log, entry])
    return "sent"


# --- Verify -------------------------------------------------------------------------------------------

def verify_code(*, purpose: str, address: str, code: str) -> bool:
    """Consume the code issued for (purpose, address); return True.

    `address` in any accepted form (normalised like `issue_code`). Raises `CodeNotFound` (none issued, or
    already used / superseded), `CodeExpired`, `TooManyAttempts` (the attempt limit was reached: the code
    is dead) or `InvalidCode` (wrong; `attempts_left`). A wrong attempt is counted even though it raises.
    A malformed address raises ValidationError.
    """
    address = normalise_address(_channel_of(address), address)
    given = (code or "").strip()
    max_attempts = settings.WUJI_OTP_MAX_ATTEMPTS
    with transaction.atomic():
        row = (OneTimeCode.objects.select_for_update()
               .filter(purpose=purpose, address=address)
               .exclude(state=CodeState.SUPERSEDED).order_by("-created_at", "-id").first())
        if row is None or row.state == CodeState.USED:
            error: CodeError = CodeNotFound()
        elif row.state == CodeState.EXHAUSTED or row.attempts >= max_attempts:
            error = TooManyAttempts()
        elif clock.now() >= row.expires_at:
            error = CodeExpired()
        elif hmac.compare_digest(row.code_hash, _hash(purpose, address, given)):
            OneTimeCode.objects.filter(pk=row.pk).update(state=CodeState.USED, used_at=clock.now(),
                                                         code_ciphertext="")
            return True
        else:
            attempts = row.attempts + 1
            dead = attempts >= max_attempts
            OneTimeCode.objects.filter(pk=row.pk).update(
                attempts=attempts, **({"state": CodeState.EXHAUSTED, "code_ciphertext": ""} if dead else {}))
            error = TooManyAttempts() if dead else InvalidCode(max_attempts - attempts)
    raise error  # outside the atomic block, so the counted attempt is kept
