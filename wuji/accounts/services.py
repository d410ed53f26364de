"""Accounts: registration (clause 1.1, 2.1), profile (6.2), contact changes, security question (6.1),
recovery; login records, sessions, lock-down (security.py) and step-up verification (step_up.py)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wuji.agreements import services as agreements
from wuji.audit import services as audit
from wuji.core import clock
from wuji.ledger import services as ledger

from . import contacts
from .cancellation import CancellationRefused, cancel_account, obstacles  # noqa: F401
from .choices import ContactKind, Factor, LoginEvent
from .security import (  # noqa: F401 — the accounts API is services.*
    AccountError,
    end_all_sessions,
    end_session,
    find_user,
    login_failures_exceeded,
    login_records_of,
    purge_login_records,
    record_login_event,
    report_unauthorised_use,
    request_origin,
    revoke_all_api_keys,
    security_summary,
    sessions_of,
    unlock_account,
)
from .security_models import Profile, SecurityQuestion
from .step_up import (  # noqa: F401
    StepUpFailed,
    StepUpRequired,
    available_factors,
    operation_label,
    require_step_up,
    send_step_up_code,
    verify_factor,
)


def register_customer(*, email: str, password: str, accepted_version: str, ip: str, channel: str = "web",
                      language: str = "zh-hans", phone: str = "", phone_code: str = ""):
    """Create a customer who actively accepted the agreement version in force; open their ledger accounts.

    An optional mainland mobile number must come with the SMS code issued to it for registration; it then
    becomes a second sign-in identifier. Raises ValidationError keyed by field. Nothing is written unless
    everything succeeds.
    """
    from . import otp
    from .phone import normalise_mainland_mobile

    User = get_user_model()
    email = User.objects.normalize_email(email or "").strip().lower()
    errors = {}
    if not email:
        errors["email"] = [_("请填写电子邮箱。")]
    elif User.objects.filter(email=email).exists():
        errors["email"] = [_("该邮箱已注册。")]
    try:
        validate_password(password, User(email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    current = agreements.current_version()
    if current is None:
        errors["accept_agreement"] = [_("当前没有生效的用户协议，暂不能注册。")]
    elif accepted_version != current.version:
        errors["accept_agreement"] = [_("请阅读并同意当前版本的用户协议。")]
    if phone:
        try:
            phone = normalise_mainland_mobile(phone)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if User.objects.filter(phone=phone).exists():
                errors["phone"] = [_("该手机号码已注册。")]
            elif not (phone_code or "").strip():
                errors["phone_code"] = [_("请填写短信验证码。")]
    if errors:
        raise ValidationError(errors)
    if phone:  # last, because checking a code uses it up
        try:
            otp.verify_code(purpose="register", address=phone, code=phone_code.strip())
        except otp.CodeError as exc:
            raise ValidationError({"phone_code": [exc.message]}) from None
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, language=language, phone=phone or None)
        _open_contacts(user)
        ledger.open_customer_accounts(user)
        agreements.record_acceptance(user=user, version=current, ip=ip, channel=channel)
        audit.record(actor=user, owner=user, channel=channel, action="account.register", target=user,
                     params={"agreement_version": current.version, "phone": bool(phone)}, ip=ip)
    return user


def _open_contacts(user) -> None:
    """The profile row and allauth's e-mail address row (unverified until the user confirms it)."""
    from allauth.account.models import EmailAddress

    Profile.objects.get_or_create(user=user)
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"primary": True, "verified": False})


def create_staff(*, email: str, password: str):
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_superuser(email=email, password=password)
        ledger.open_customer_accounts(user)
        _open_contacts(user)
    return user


# --- Profile (6.2) -----------------------------------------------------------------------------------

PROFILE_FIELDS = ("real_name", "address", "nationality", "province", "city", "time_zone", "post_code", "fax",
                  "homepage", "job_title", "qq")


def profile_of(user) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def update_profile(*, user, ip: str | None, channel: str = "web", **fields) -> Profile:
    """Change the profile's descriptive fields and the QQ number; phone and e-mail change only through
    `change_contact`. Saving a different, valid QQ number resolves a flag on it (clause 4.5.1)."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=profile_of(user).pk)
        changed = sorted(k for k, v in fields.items() if getattr(profile, k) != v)
        for name in changed:
            setattr(profile, name, fields[name])
        if changed:
            profile.updated_at = clock.now()
            profile.full_clean(exclude=["user"])
            profile.save()
            audit.record(actor=user, owner=user, channel=channel, action="account.profile_update", target=profile,
                         params={"fields": changed}, ip=ip)
            if "qq" in changed and profile.qq:
                contacts.resolve_contact(user, ContactKind.QQ, how=_("已更新 QQ 号码"), how_en="QQ number updated",
                                         ip=ip)
    return profile


# --- Contact change: a code to the NEW address and one through the OLD channel -----------------------

CONTACT_KINDS = {"phone": "sms", "email": "email"}
CHANGE_PURPOSE = "change_contact"
CONFIRM_OLD_PURPOSE = "change_contact:old"


def _old_channel(user, kind: str) -> tuple[str, str]:
    """Where the confirmation of a change goes: the contact being replaced, or the other one if unset."""
    if kind == "phone" and user.phone:
        return "sms", user.phone
    if kind == "email" and user.email:
        return "email", user.email
    return ("email", user.email) if user.email else ("sms", user.phone)


def start_contact_change(*, user, kind: str, new_address: str, ip: str | None) -> dict:
    """Send a code to the new address and a confirmation code through the old channel.

    Raises ValidationError (bad or taken address) or otp.RateLimited.
    """
    from . import otp

    User = get_user_model()
    channel = CONTACT_KINDS[kind]
    new_address = otp.normalise_address(channel, new_address, field="new_address")
    current = user.phone if kind == "phone" else user.email
    if new_address == current:
        if not contacts.is_flagged(user, contacts.KIND_CONTACT[kind]):
            raise ValidationError({"new_address": [_("新的联系方式与当前相同。")]})
        # Re-verifying a contact flagged invalid (4.5.1): a code that arrives there proves it works again.
        new = otp.issue_code(purpose=CHANGE_PURPOSE, channel=channel, address=new_address, ip=ip, user=user)
        return {"new": new, "old": None}
    if User.objects.filter(**{kind: new_address}).exclude(pk=user.pk).exists():
        raise ValidationError({"new_address": [_("该联系方式已被其他账户使用。")]})
    old_channel, old_address = _old_channel(user, kind)
    with transaction.atomic():
        new = otp.issue_code(purpose=CHANGE_PURPOSE, channel=channel, address=new_address, ip=ip, user=user)
        old = otp.issue_code(purpose=CONFIRM_OLD_PURPOSE, channel=old_channel, address=old_address, ip=ip,
                             user=user)
    return {"new": new, "old": old}


def change_contact(*, user, kind: str, new_address: str, new_code: str, old_code: str, ip: str | None,
                   factor: str = Factor.NONE) -> None:
    """Replace the user's phone or e-mail once both codes verify. Raises ValidationError keyed by field.

    With the current address of a contact flagged invalid (4.5.1), this re-verifies it: only `new_code` is
    needed. Either way an open flag on that contact is resolved."""
    from allauth.account.models import EmailAddress

    from wuji.notifications import services as notifications

    from . import notices, otp
    from .phone import mask_mobile

    User = get_user_model()
    channel = CONTACT_KINDS[kind]
    new_address = otp.normalise_address(channel, new_address, field="new_address")
    _old_kind, old_address = _old_channel(user, kind)
    contact = contacts.KIND_CONTACT[kind]
    reverify = new_address == (user.phone if kind == "phone" else user.email) and contacts.is_flagged(user, contact)
    try:
        otp.verify_code(purpose=CHANGE_PURPOSE, address=new_address, code=(new_code or "").strip())
    except otp.CodeError as exc:
        raise ValidationError({"new_code": [exc.message]}) from None
    masked = mask_mobile if kind == "phone" else otp.mask_address
    if reverify:
        with transaction.atomic():
            audit.record(actor=user, owner=user, channel="web", action=f"account.{kind}_reverify", target=user,
                         params={"address": masked(new_address), "factor": factor}, ip=ip)
            if kind == "email":
                EmailAddress.objects.filter(user=user, email=new_address).update(verified=True)
            contacts.resolve_contact(user, contact, how=_("已重新验证"), how_en="re-verified", ip=ip)
        return
    try:
        otp.verify_code(purpose=CONFIRM_OLD_PURPOSE, address=old_address, code=(old_code or "").strip())
    except otp.CodeError as exc:
        raise ValidationError({"old_code": [exc.message]}) from None
    old_value = user.phone if kind == "phone" else user.email
    with transaction.atomic():
        if User.objects.filter(**{kind: new_address}).exclude(pk=user.pk).exists():
            raise ValidationError({"new_address": [_("该联系方式已被其他账户使用。")]})
        User.objects.filter(pk=user.pk).update(**{kind: new_address})
        setattr(user, kind, new_address)
        if kind == "email":
            EmailAddress.objects.filter(user=user).delete()
            EmailAddress.objects.create(user=user, email=new_address, primary=True, verified=True)
        audit.record(actor=user, owner=user, channel="web", action=f"account.{kind}_change", target=user,
                     params={"old": masked(old_value) if old_value else "", "new": masked(new_address),
                             "factor": factor}, ip=ip)
        notifications.notify(user, notices.CONTACT_CHANGED.code, {
            "kind": _("手机号码") if kind == "phone" else _("电子邮箱"),
            "kind_en": "mobile number" if kind == "phone" else "e-mail address",
            "old": masked(old_value) if old_value else "—", "new": masked(new_address)})
        contacts.resolve_contact(user, contact, how=_("已更换为 %(new)s") % {"new": masked(new_address)},
                                 how_en=f"changed to {masked(new_address)}", ip=ip)


# --- Security question (6.1) -------------------------------------------------------------------------

def _normalise_answer(answer: str) -> str:
    return " ".join((answer or "").split()).casefold()


def set_security_question(*, user, question: str, answer: str, ip: str | None) -> SecurityQuestion:
    question = (question or "").strip()
    answer = _normalise_answer(answer)
    errors = {}
    if not question:
        errors["question"] = [_("请填写密保问题。")]
    if len(answer) < 2:
        errors["answer"] = [_("答案至少 2 个字符。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, _created = SecurityQuestion.objects.update_or_create(
            user=user, defaults={"question": question[:200], "answer_hash": make_password(answer),
                                 "updated_at": clock.now()})
        audit.record(actor=user, owner=user, channel="web", action="account.security_question_set", target=None,
                     params={}, ip=ip)
    return row


def check_security_answer(user, answer: str) -> bool:
    row = SecurityQuestion.objects.filter(user=user).first()
    return row is not None and check_password(_normalise_answer(answer), row.answer_hash)


# --- Recovery: a verified contact code AND the security answer ---------------------------------------

RECOVERY_PURPOSE = "reset_password"


def start_recovery(*, identifier: str, ip: str | None):
    """Send a recovery code to the account's phone or e-mail. Returns the account's question, or None
    when the identifier matches no account with a security question (nothing is sent then)."""
    from . import otp

    user = find_user(identifier)
    question = SecurityQuestion.objects.filter(user=user).first() if user is not None else None
    if question is None:
        return None
    channel = "email" if "@" in identifier else "sms"
    otp.issue_code(purpose=RECOVERY_PURPOSE, channel=channel, address=identifier, ip=ip, user=user)
    return question.question


def recover_account(*, identifier: str, code: str, answer: str, new_password: str, request=None):
    """Set a new password when both the contact code and the security answer are right.

    Every other session ends. Raises ValidationError keyed by field.
    """
    from . import otp

    user = find_user(identifier)
    if user is None or not SecurityQuestion.objects.filter(user=user).exists():
        raise ValidationError({"identifier": [_("该账户未设置密保问题，请使用邮箱找回密码。")]})
    try:
        otp.verify_code(purpose=RECOVERY_PURPOSE, address=identifier, code=(code or "").strip())
    except otp.CodeError as exc:
        raise ValidationError({"code": [exc.message]}) from None
    if not check_security_answer(user, answer):
        record_login_event(request=request, event=LoginEvent.PASSWORD_RESET, user=user,
                           result="wrong_factor", detail="security answer")
        raise ValidationError({"answer": [_("密保答案不正确。")]})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from None
    ip = request_origin(request)["ip"]
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_all_sessions(user=user, ip=ip, record=False)
        audit.record(actor=user, owner=user, channel="web", action="account.recover", target=user,
                     params={"factor": "sms" if "@" not in identifier else "email"}, ip=ip)
        record_login_event(request=request, event=LoginEvent.PASSWORD_RESET, user=user,
                           detail="security question")
    return user
