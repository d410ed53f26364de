"""Login records (6.4), brute-force limits, sessions (2.2.2) and account lock-down (2.2.1).

Re-exported by `wuji.accounts.services`; call them from there.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock

from .choices import CaseState, LoginEvent, LoginResult
from .security_models import LoginRecord, SecurityCase

log = logging.getLogger(__name__)

USER_AGENT_MAX = 300


class AccountError(Exception):
    """A refused account operation; the message is for the user."""


def request_origin(request) -> dict:
    """IP, source port (when the server passes REMOTE_PORT) and user agent of a request."""
    if request is None:
        return {"ip": None, "port": None, "user_agent": ""}
    meta = request.META
    port = meta.get("REMOTE_PORT")
    try:
        port = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        port = None
    return {
        "ip": meta.get("REMOTE_ADDR") or None,
        "port": port,
        "user_agent": (meta.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX],
    }


def record_login_event(*, request, event: str, user=None, identifier: str = "",
                       result: str = LoginResult.SUCCESS, detail: str = "") -> LoginRecord:
    """Append one login record. Written in its own transaction: a refused login must still be recorded."""
    if user is not None and not getattr(user, "pk", None):
        user = None
    identifier = (identifier or (user.email if user is not None else ""))[:254]
    return LoginRecord.objects.create(
        user=user, identifier=identifier, event=event, result=result, detail=detail[:200],
        created_at=clock.now(), **request_origin(request),
    )


def login_records_of(user):
    """The user's own login records, newest first (never anyone else's)."""
    return LoginRecord.objects.filter(user=user)


def login_failures_exceeded(*, identifier: str, ip: str | None) -> bool:
    """True when the attempted account or the IP has had too many failed sign-ins in the window.

    Counted from the login records in the database, so the limit holds across web processes.
    """
    limits = settings.WUJI_LOGIN_FAILURE_LIMITS
    now = clock.now()
    failed = LoginRecord.objects.filter(event=LoginEvent.FAILED)
    count, seconds = limits["account"]
    identifier = (identifier or "").strip().lower()
    if identifier:
        user = find_user(identifier)
        who = Q(identifier__iexact=identifier) | (Q(user=user) if user is not None else Q(pk__in=[]))
        if failed.filter(who, created_at__gte=now - dt.timedelta(seconds=seconds)).count() >= count:
            return True
    count, seconds = limits["ip"]
    return bool(ip) and failed.filter(ip=ip, created_at__gte=now - dt.timedelta(seconds=seconds)).count() >= count


def find_user(identifier: str):
    """The account an e-mail or mainland mobile number belongs to, or None."""
    from .phone import normalise_mainland_mobile

    User = get_user_model()
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier).first()
    try:
        phone = normalise_mainland_mobile(identifier)
    except Exception:
        return None
    return User.objects.filter(phone=phone).first()


def purge_login_records(now: dt.datetime | None = None) -> int:
    """Delete login records older than the retention period (never less than 180 days)."""
    days = max(180, int(settings.WUJI_LOGIN_RECORD_RETENTION_DAYS))
    cutoff = (now or clock.now()) - dt.timedelta(days=days)
    deleted, _detail = LoginRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- Security overview (6.1–6.4) ------------------------------------------------------------------------

def security_summary(user) -> dict:
    """What the "account and security" overview shows, for the portal page and the API alike: which
    two-factor methods are set up, the linked third-party accounts and the security question (never its
    answer). Three queries."""
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    from .security_models import SecurityQuestion

    kinds = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    return {
        "mfa_totp": Authenticator.Type.TOTP in kinds,
        "mfa_webauthn": Authenticator.Type.WEBAUTHN in kinds,
        "mfa_recovery": Authenticator.Type.RECOVERY_CODES in kinds,
        "social_accounts": list(SocialAccount.objects.filter(user=user).order_by("pk")),
        "question": SecurityQuestion.objects.filter(user=user).first(),
    }


# --- Sessions ----------------------------------------------------------------------------------------

def sessions_of(user) -> list:
    """The user's live sessions (device, IP, last seen), most recent first; stale rows are purged.

    With database-backed sessions this costs a fixed number of queries however many sessions there are
    (the session rows are read in one query and checked here, as `UserSession.purge` would one by one).
    """
    from allauth.usersessions.models import UserSession

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return sorted(UserSession.objects.purge_and_list(user), key=lambda s: s.last_seen_at, reverse=True)
    from django.contrib.sessions.models import Session

    tracked = list(UserSession.objects.filter(user_id=user.pk).order_by("-last_seen_at", "-pk"))
    if not tracked:
        return []
    stored = Session.objects.filter(session_key__in=[s.session_key for s in tracked], expire_date__gt=clock.now())
    live_keys = {row.session_key for row in stored if _belongs_to(row.get_decoded(), user)}
    stale = [s.pk for s in tracked if s.session_key not in live_keys]
    if stale:
        UserSession.objects.filter(pk__in=stale).delete()
    return [s for s in tracked if s.session_key in live_keys]


def _belongs_to(data: dict, user) -> bool:
    """Whether decoded session data still signs `user` in (same user, session hash still valid)."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import constant_time_compare

    if str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    if not hasattr(user, "get_session_auth_hash"):
        return True
    stored_hash = data.get(HASH_SESSION_KEY) or ""
    if constant_time_compare(stored_hash, user.get_session_auth_hash()):
        return True
    return any(constant_time_compare(stored_hash, user._get_session_auth_hash(secret=secret))
               for secret in settings.SECRET_KEY_FALLBACKS)


def end_session(*, user, session_id: int, ip: str | None, channel: str = "web") -> bool:
    """End one of the user's own sessions. Returns False when the user has no such session."""
    from allauth.usersessions.models import UserSession

    session = UserSession.objects.filter(user=user, pk=session_id).first()
    if session is None:
        return False
    with transaction.atomic():
        session.end()
        audit.record(actor=user, owner=user, channel=channel, action="account.session_end", target=None,
                     params={"session": session_id, "session_ip": session.ip}, ip=ip)
    return True


def end_all_sessions(*, user, ip: str | None, keep_session_key: str | None = None, record: bool = True,
                     channel: str = "web") -> int:
    """End every session of the user (but `keep_session_key`, if given). Returns how many were ended."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    ended = 0
    with transaction.atomic():
        for session in UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or ""):
            session.end()
            ended += 1
        # Sessions begun before tracking started (or not yet seen by the middleware).
        if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
            for stored in Session.objects.filter(expire_date__gt=clock.now()).exclude(
                    session_key=keep_session_key or "").iterator():
                if str(stored.get_decoded().get("_auth_user_id")) == str(user.pk):
                    stored.delete()
                    ended += 1
        if record:
            audit.record(actor=user, owner=user, channel=channel, action="account.session_end_all", target=None,
                         params={"ended": ended}, ip=ip)
    return ended


# --- Report unauthorised use and unlock (2.2.1) ------------------------------------------------------

def revoke_all_api_keys(*, user, actor, ip: str | None, channel: str) -> int:
    """Revoke every live API key of `user` (each revocation recorded, by `actor` on `channel`). Shared by the
    lock-down here and by staff cancelling a membership (identity, 2.1.3). Returns how many were revoked."""
    from wuji.api import services as api_keys

    revoked = 0
    with transaction.atomic():
        for key in api_keys.keys_of(user).filter(revoked_at__isnull=True).order_by("pk"):
            api_keys.revoke_key(key=key, actor=actor, ip=ip, channel=channel)
            revoked += 1
    return revoked


def report_unauthorised_use(*, user, ip: str | None, description: str = "", channel: str = "web") -> SecurityCase:
    """The customer reports that someone else used their account: lock it, end every session, revoke
    every API key, record the instruction, notify on every channel and open a case for staff."""
    from wuji.notifications import services as notifications

    from . import notices

    User = get_user_model()
    now = clock.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(locked_at=now)
        user.locked_at = now
        revoked = revoke_all_api_keys(user=user, actor=user, ip=ip, channel=channel)
        ended = end_all_sessions(user=user, ip=ip, record=False)
        case = SecurityCase.objects.create(user=user, description=(description or "")[:2000], reported_at=now,
                                           reported_ip=ip, sessions_ended=ended, keys_revoked=revoked)
        audit.record(actor=user, owner=user, channel=channel, action="account.report_unauthorised_use",
                     target=case, params={"sessions_ended": ended, "keys_revoked": revoked}, ip=ip)
        notifications.notify(user, notices.ACCOUNT_LOCKED.code, {"case": case.pk, "time": now})
    return case


def unlock_account(*, case: SecurityCase, staff, resolution: str, ip: str | None = None) -> SecurityCase:
    """Staff close a reviewed case; the account unlocks when no other case is still open."""
    from wuji.notifications import services as notifications

    from . import notices

    resolution = (resolution or "").strip()
    if not resolution:
        raise AccountError(_("请填写处理说明。"))
    User = get_user_model()
    with transaction.atomic():
        case = SecurityCase.objects.select_for_update().get(pk=case.pk)
        if case.state != CaseState.OPEN:
            raise AccountError(_("该安全事件已处理。"))
        now = clock.now()
        SecurityCase.objects.filter(pk=case.pk).update(state=CaseState.RESOLVED, resolved_at=now,
                                                       resolved_by=staff, resolution=resolution[:2000])
        still_open = SecurityCase.objects.filter(user_id=case.user_id, state=CaseState.OPEN).exists()
        if not still_open:
            User.objects.filter(pk=case.user_id).update(locked_at=None)
        audit.record(actor=staff, owner=case.user, channel="staff", action="account.unlock", target=case,
                     params={"case": case.pk, "unlocked": not still_open}, ip=ip)
        if not still_open:
            notifications.notify(case.user, notices.ACCOUNT_UNLOCKED.code, {"case": case.pk})
        case.refresh_from_db()
    return case
