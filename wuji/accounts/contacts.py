"""Contacts must stay valid (clause 4.5.1 ¶ contacts): the mobile number, e-mail and QQ of an account.

A contact found invalid — by staff, or by the system after `WUJI_CONTACT_UNDELIVERABLE_AFTER` consecutive
failed notice deliveries on its channel — is flagged: the user is told on the OTHER channels, with a deadline
and the link to the profile page. A flag is resolved when the user changes or re-verifies that contact
through the contact-change flow (or saves a different, valid QQ number), or when staff lift it. A flag still
unresolved at its deadline restricts the account (`restrict_overdue`, a periodic job): `place_order` refuses
new purchases until the flag is resolved, which lifts the restriction at once.

Policy (the agreement's "restricted/banned per policy, balance handled per the agreement"): the restriction
touches no money and no running service — it only refuses new purchases. The balance stays where it is;
withdrawing it, and closing (banning) an account with its balance settled, belong to the money-out flows of
issue 4 and are staff decisions there. Staff can still deactivate an account in the console.

Mirrors the false-information flag of `wuji.identity.services` (2.1.3); called as `wuji.accounts.contacts`.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock

from . import notices
from .choices import ContactKind
from .contact_models import ContactFlag

CONTACT_EN = {ContactKind.MOBILE: "mobile number", ContactKind.EMAIL: "e-mail address", ContactKind.QQ: "QQ number"}
CHANNEL_CONTACT = {"sms": ContactKind.MOBILE, "email": ContactKind.EMAIL}  # notice channel → the contact it reaches
KIND_CONTACT = {"phone": ContactKind.MOBILE, "email": ContactKind.EMAIL}  # contact-change kind → contact
MAX_FIX_DAYS = 90

log = logging.getLogger(__name__)


class ContactInvalid(Exception):
    """The account is restricted for a contact not fixed in time. `link` is where the customer fixes it."""

    def __init__(self, message: str, *, link: str, code: str = "contact_invalid"):
        super().__init__(message)
        self.message, self.link, self.code = message, link, code


def profile_link() -> str:
    return reverse("portal:profile")


def current_value(user, contact: str) -> str:
    if contact == ContactKind.MOBILE:
        return user.phone or ""
    if contact == ContactKind.EMAIL:
        return user.email or ""
    from .services import profile_of

    return profile_of(user).qq


def mask(contact: str, value: str) -> str:
    """``138****8000``, ``a***e@example.com``, ``12*****89``."""
    from .otp import mask_address
    from .phone import mask_mobile

    if not value:
        return ""
    if contact == ContactKind.MOBILE:
        return mask_mobile(value)
    if contact == ContactKind.EMAIL:
        return mask_address(value)
    return value[:2] + "*" * max(len(value) - 4, 1) + value[-2:]


def deadline_text(moment: dt.datetime) -> str:
    """A deadline as the user reads it in notices: business time (Beijing), to the minute."""
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


# --- Reading ------------------------------------------------------------------------------------------


def contact_flags_of(user):
    """The user's own flags, newest first (the only queryset customers reach)."""
    return ContactFlag.objects.filter(user=user)


def unresolved_flags_of(user):
    return contact_flags_of(user).filter(resolved_at__isnull=True)


def is_flagged(user, contact: str) -> bool:
    return unresolved_flags_of(user).filter(contact=contact).exists()


def has_contact_restriction(user) -> bool:
    return unresolved_flags_of(user).filter(restricted_at__isnull=False).exists()


def require_valid_contacts(user) -> None:
    """The purchase gate: raises ContactInvalid while a contact flag past its deadline is unresolved."""
    flag = unresolved_flags_of(user).filter(restricted_at__isnull=False).first()
    if flag is None:
        return
    link = profile_link()
    raise ContactInvalid(
        _("您账户的%(contact)s（%(value)s）已失效且未在期限内更正，账户已被限制使用，暂不能购买。"
          "请在“基本资料”页面更正：%(link)s")
        % {"contact": ContactKind.label(flag.contact), "value": flag.value_masked, "link": link}, link=link)


# --- Flagging -----------------------------------------------------------------------------------------


def _context(flag: ContactFlag, **extra) -> dict:
    return {"contact": ContactKind.label(flag.contact), "contact_en": CONTACT_EN[flag.contact],
            "value": flag.value_masked, "reason": flag.reason, "deadline": deadline_text(flag.deadline),
            "link": profile_link(), **extra}


def flag_invalid_contact(user, contact: str, staff, reason: str, deadline_days: int | None = None, *,
                         ip: str | None = None) -> ContactFlag:
    """Flag one of the user's contacts as invalid (`staff` None: the system did). The user is told on the other
    channels and must fix it within `deadline_days` (default `WUJI_CONTACT_FIX_DAYS`). Raises ValidationError
    keyed by field; writes nothing then."""
    reason = (reason or "").strip()
    days = settings.WUJI_CONTACT_FIX_DAYS if deadline_days is None else deadline_days
    errors = {}
    if contact not in ContactKind.values():
        errors["contact"] = [_("未知的联系方式。")]
    elif not current_value(user, contact):
        errors["contact"] = [_("该账户未填写此联系方式。")]
    if not reason:
        errors["reason"] = [_("请填写标记原因。")]
    if not isinstance(days, int) or not 1 <= days <= MAX_FIX_DAYS:
        errors["deadline_days"] = [_("更正期限须为 1–%(max)d 天。") % {"max": MAX_FIX_DAYS}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one flagging at a time
        if is_flagged(user, contact):
            raise ValidationError({"contact": [_("该联系方式已有未处理的失效标记。")]})
        now = clock.now()
        flag = ContactFlag.objects.create(
            user=user, contact=contact, value_masked=mask(contact, current_value(user, contact)),
            reason=reason[:500], flagged_by=staff, created_at=now, deadline=now + dt.timedelta(days=days))
        audit.record(actor=staff, owner=user, channel="staff" if staff else "system", action="account.contact_flag",
                     target=flag, params={"contact": contact, "value": flag.value_masked, "reason": flag.reason,
                                          "deadline": flag.deadline.isoformat()}, ip=ip)
        from wuji.notifications import services as notifications

        notifications.notify(user, notices.CONTACT_INVALID[contact].code, _context(flag))
    return flag


def report_undeliverable(user, channel: str, detail: str = "") -> ContactFlag | None:
    """A notice could not be delivered to the user on `channel` ("sms" or "email"). When the last
    `WUJI_CONTACT_UNDELIVERABLE_AFTER` attempted deliveries on that channel to the current address all failed,
    the contact is flagged by the system. Returns the new flag, or None. Never raises: the caller is a
    delivery task whose own result must be kept."""
    try:
        return _report_undeliverable(user, channel, detail)
    except Exception:
        log.exception("could not check undeliverable %s notices of user %s", channel, getattr(user, "pk", None))
        return None


def _report_undeliverable(user, channel: str, detail: str) -> ContactFlag | None:
    from wuji.notifications.choices import DeliveryStatus
    from wuji.notifications.models import Delivery

    contact = CHANNEL_CONTACT.get(channel)
    address = current_value(user, contact) if contact else ""
    needed = max(1, int(settings.WUJI_CONTACT_UNDELIVERABLE_AFTER))
    if not address or is_flagged(user, contact):
        return None
    recent = list(Delivery.objects.filter(
        notice__recipient=user, channel=channel, status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED],
    ).order_by("-id").values_list("status", "address")[:needed])
    if len(recent) < needed or any(row != (DeliveryStatus.FAILED, address) for row in recent):
        return None
    reason = _("连续 %(n)d 次通知无法送达（%(detail)s）") % {"n": needed, "detail": (detail or "—")[:200]}
    try:
        return flag_invalid_contact(user, contact, None, reason)
    except ValidationError:  # flagged meanwhile by another delivery
        return None


# --- Resolving ----------------------------------------------------------------------------------------


def _resolve(flag: ContactFlag, *, actor, channel: str, how: str, how_en: str, ip: str | None) -> bool:
    now = clock.now()
    updated = ContactFlag.objects.filter(pk=flag.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolution=how[:500], resolved_by=actor if channel == "staff" else None)
    if not updated:
        return False
    was_restricted = flag.restricted_at is not None
    audit.record(actor=actor, owner=flag.user, channel=channel, action="account.contact_flag_resolve", target=flag,
                 params={"contact": flag.contact, "how": how, "was_restricted": was_restricted}, ip=ip)
    from wuji.notifications import services as notifications

    notifications.notify(flag.user, notices.CONTACT_RESOLVED.code, _context(
        flag, resolution=how, resolution_en=how_en, was_restricted=was_restricted))
    return True


def resolve_contact(user, contact: str, *, how: str, how_en: str, ip: str | None = None,
                    channel: str = "web") -> int:
    """The user fixed `contact` (changed or re-verified it, or saved a valid QQ): close its open flag, lifting
    any restriction it caused. Runs in the caller's transaction. Returns how many flags it closed."""
    with transaction.atomic():
        flags = list(ContactFlag.objects.select_for_update().select_related("user").filter(
            user=user, contact=contact, resolved_at__isnull=True))
        return sum(_resolve(flag, actor=user, channel=channel, how=how, how_en=how_en, ip=ip) for flag in flags)


def lift_contact_flag(flag: ContactFlag, staff, reason: str, *, ip: str | None = None) -> ContactFlag:
    """Staff close a flag (open or restricted) after review, e.g. when the contact turned out to work."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写解除原因。")]})
    with transaction.atomic():
        locked = ContactFlag.objects.select_for_update().select_related("user").get(pk=flag.pk)
        if not _resolve(locked, actor=staff, channel="staff", how=reason, how_en=reason, ip=ip):
            raise ValidationError({"__all__": [_("该标记已处理。")]})
    flag.refresh_from_db()
    return flag


# --- The deadline job ---------------------------------------------------------------------------------


def restrict_overdue(now: dt.datetime | None = None) -> int:
    """Restrict every account whose contact flag passed its deadline unresolved. Idempotent: a restricted
    flag is not touched again. Returns how many flags it restricted."""
    from wuji.notifications import services as notifications

    now = now or clock.now()
    restricted = 0
    due = ContactFlag.objects.filter(resolved_at__isnull=True, restricted_at__isnull=True, deadline__lte=now)
    for flag in due.select_related("user"):
        with transaction.atomic():
            if not ContactFlag.objects.filter(pk=flag.pk, resolved_at__isnull=True,
                                              restricted_at__isnull=True).update(restricted_at=now):
                continue
            audit.record(actor=None, owner=flag.user, channel="system", action="account.contact_restrict",
                         target=flag, params={"contact": flag.contact, "deadline": flag.deadline.isoformat()})
            notifications.notify(flag.user, notices.CONTACT_RESTRICTED[flag.contact].code, _context(flag))
            restricted += 1
    return restricted
