"""Real-name verification 实名认证 (clauses 2.1.1–2.1.4): submit, review, status, the purchase gate,
false-information flags and cancelling the membership. Every write records an instruction and tells the user."""

import dataclasses
import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock, crypto
from wuji.notifications import services as notifications

from . import notices, validators
from .choices import FlagStatus, RequiredRegions, VerificationKind, VerificationStatus
from .models import FalseInformationFlag, Verification
from .providers import get_provider
from .storage import decrypted_bytes, encrypted_file

HASH_PURPOSE = "identity-number"
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}
KIND_EN = {VerificationKind.INDIVIDUAL: "individual verification",
           VerificationKind.ENTERPRISE: "enterprise verification"}


class ReviewRefused(Exception):
    """A review that cannot be done (not pending, identity limit reached); the message is for staff."""


class RealNameRequired(Exception):
    """A purchase needs a verified, unrestricted account. `link` is where the customer can fix it."""

    def __init__(self, message: str, *, link: str, code: str):
        super().__init__(message)
        self.message, self.link, self.code = message, link, code


def number_hash(number: str) -> str:
    return crypto.keyed_hash(number, HASH_PURPOSE)


def number_of(verification: Verification) -> str:
    """The number in the clear. Callers showing it to staff must log the access first (see admin)."""
    return crypto.decrypt(verification.number_encrypted)


def document_of(verification: Verification) -> tuple[bytes, str]:
    return decrypted_bytes(verification.document), verification.document_type or "application/octet-stream"


# --- Reading ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class IdentityStatus:
    approved: Verification | None
    latest: Verification | None
    flag: FalseInformationFlag | None

    @property
    def verified(self) -> bool:
        return self.approved is not None

    @property
    def restricted(self) -> bool:
        return self.flag is not None and self.flag.status == FlagStatus.RESTRICTED

    @property
    def pending(self) -> Verification | None:
        return self.latest if self.latest and self.latest.status == VerificationStatus.PENDING else None

    @property
    def status(self) -> str:
        """"approved", "pending", "rejected" or "none" — what the account's verification amounts to."""
        if self.approved is not None:
            return VerificationStatus.APPROVED
        return self.latest.status if self.latest is not None else "none"

    @property
    def shown(self) -> Verification | None:
        return self.approved or self.latest


def verifications_of(user):
    """The user's own applications, newest first (the only queryset customers reach)."""
    return Verification.objects.filter(user=user)


def status_of(user) -> IdentityStatus:
    mine = verifications_of(user)
    return IdentityStatus(
        approved=mine.filter(status=VerificationStatus.APPROVED).first(),
        latest=mine.exclude(status=VerificationStatus.SUPERSEDED).first(),
        flag=FalseInformationFlag.objects.filter(
            user=user, status__in=[FlagStatus.OPEN, FlagStatus.RESTRICTED]).first(),
    )


def is_verified(user) -> bool:
    return Verification.objects.filter(user=user, status=VerificationStatus.APPROVED).exists()


def is_restricted(user) -> bool:
    return FalseInformationFlag.objects.filter(user=user, status=FlagStatus.RESTRICTED).exists()


def region_requires_verification(region) -> bool:
    policy = settings.WUJI_REAL_NAME_REQUIRED_REGIONS
    if policy == RequiredRegions.ALL:
        return True
    if policy == RequiredRegions.NONE:
        return False
    return bool(region.is_mainland)


def require_verified_for_region(user, region) -> None:
    """The purchase gate (2.1.2, 2.1.3): raises RealNameRequired for a restricted account anywhere, and for an
    unverified account in a region that requires real-name verification."""
    link = reverse("portal:identity")
    if is_restricted(user):
        raise RealNameRequired(
            _("您的账户因实名信息未按期更正已被限制使用，暂不能购买。请在“实名认证”页面提交更正：%(link)s")
            % {"link": link}, link=link, code="account_restricted")
    if region_requires_verification(region) and not is_verified(user):
        raise RealNameRequired(
            _("购买%(region)s的服务需要先完成实名认证，请前往“实名认证”页面提交：%(link)s")
            % {"region": region.name, "link": link}, link=link, code="real_name_required")


# --- Submitting -------------------------------------------------------------------------------------


def _check_document(upload, field: str, *, required: bool) -> tuple[bytes, str] | None:
    if upload is None:
        if required:
            raise ValidationError({field: [_("请上传营业执照。")]})
        return None
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({field: [_("文件不能超过 5 MB。")]})
    data = upload.read()
    for signature, content_type in DOCUMENT_SIGNATURES.items():
        if data.startswith(signature):
            return data, content_type
    raise ValidationError({field: [_("只支持 JPEG、PNG 或 PDF 文件。")]})


def _approved_accounts_of(digest: str, *, excluding_user) -> int:
    return (Verification.objects.filter(number_hash=digest, status=VerificationStatus.APPROVED)
            .exclude(user=excluding_user).values("user").distinct().count())


def _limit_message() -> str:
    return _("该证件已认证的账户数已达上限（%(limit)s 个）。") % {"limit": settings.WUJI_MAX_ACCOUNTS_PER_IDENTITY}


def _notice_context(verification: Verification, **extra) -> dict:
    return {"kind": VerificationKind.label(verification.kind), "kind_en": KIND_EN[verification.kind],
            "name": verification.name, "number": verification.number_masked, **extra}


def _submit(user, *, kind: str, name: str, number: str, number_field: str, warnings: list[str],
            document: tuple[bytes, str] | None, legal_representative: str, channel: str, ip: str | None):
    digest = number_hash(number)
    with transaction.atomic():
        # Lock the applicant's rows so two submissions from one account cannot both pass the checks.
        mine = list(Verification.objects.select_for_update().filter(user=user))
        approved = next((v for v in mine if v.status == VerificationStatus.APPROVED), None)
        if kind == VerificationKind.INDIVIDUAL and approved and approved.kind == VerificationKind.ENTERPRISE:
            raise ValidationError({"__all__": [_("已完成企业认证的账户不能变更为个人认证。")]})
        if _approved_accounts_of(digest, excluding_user=user) >= settings.WUJI_MAX_ACCOUNTS_PER_IDENTITY:
            raise ValidationError({number_field: [_limit_message()]})
        superseded = [v.pk for v in mine if v.status == VerificationStatus.PENDING]
        Verification.objects.filter(pk__in=superseded).update(status=VerificationStatus.SUPERSEDED)
        provider = get_provider()
        verification = Verification(
            user=user, kind=kind, name=name, legal_representative=legal_representative,
            number_encrypted=crypto.encrypt(number), number_hash=digest, number_masked=validators.mask(number),
            warning="；".join(str(w) for w in warnings)[:200], provider=provider.code, submitted_at=clock.now(),
        )
        if document is not None:
            data, content_type = document
            verification.document_type = content_type
            verification.document.save("document.bin", encrypted_file(data), save=False)
        verification.save()
        audit.record(actor=user, owner=user, channel=channel, action="identity.submit", target=verification,
                     params={"kind": kind, "number": verification.number_masked, "document": document is not None,
                             "replaces": superseded}, ip=ip)
        notifications.notify(user, notices.SUBMITTED.code, _notice_context(verification))
        if provider.code != "manual":
            from . import tasks

            tasks.assess_verification.enqueue(verification_id=verification.pk)
    return verification


def submit_individual(user, *, name: str, id_number: str, document=None, channel: str = "web",
                      ip: str | None = None) -> Verification:
    """Apply for individual verification (个人实名认证). Raises ValidationError keyed by field; writes nothing then."""
    errors, values = {}, {}
    for field, check in (
        ("name", lambda: validators.validate_name(name, "name", label=_("真实姓名"), max_length=50)),
        ("id_number", lambda: validators.validate_resident_id(id_number, "id_number")),
        ("document", lambda: _check_document(document, "document", required=False)),
    ):
        try:
            values[field] = check()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return _submit(user, kind=VerificationKind.INDIVIDUAL, name=values["name"], number=values["id_number"],
                   number_field="id_number", warnings=[], document=values["document"], legal_representative="",
                   channel=channel, ip=ip)


def submit_enterprise(user, *, company_name: str, credit_code: str, legal_representative: str, document=None,
                      channel: str = "web", ip: str | None = None) -> Verification:
    """Apply for enterprise verification (企业实名认证): company name, unified social credit code, legal
    representative and the business licence. Individual → enterprise is an upgrade; the reverse is refused."""
    errors, values = {}, {}
    for field, check in (
        ("company_name", lambda: validators.validate_name(
            company_name, "company_name", label=_("企业名称"), max_length=100)),
        ("credit_code", lambda: validators.validate_credit_code(credit_code, "credit_code")),
        ("legal_representative", lambda: validators.validate_name(
            legal_representative, "legal_representative", label=_("法定代表人姓名"), max_length=50)),
        ("document", lambda: _check_document(document, "document", required=True)),
    ):
        try:
            values[field] = check()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    code, warnings = values["credit_code"]
    return _submit(user, kind=VerificationKind.ENTERPRISE, name=values["company_name"], number=code,
                   number_field="credit_code", warnings=warnings, document=values["document"],
                   legal_representative=values["legal_representative"], channel=channel, ip=ip)


# --- Reviewing --------------------------------------------------------------------------------------


def _locked_pending(verification: Verification) -> Verification:
    locked = Verification.objects.select_for_update().select_related("user").get(pk=verification.pk)
    if locked.status != VerificationStatus.PENDING:
        raise ReviewRefused(_("该申请当前状态为“%(status)s”，不能审核。")
                            % {"status": VerificationStatus.label(locked.status)})
    return locked


def _account_name_follows(user, name: str) -> None:
    """The account name follows the verified name (2.1). A queryset update: accounts owns the user model's
    behaviour, identity only sets the name fields."""
    get_user_model().objects.filter(pk=user.pk).update(first_name=name[:150], last_name="")
    user.first_name, user.last_name = name[:150], ""


def approve(verification: Verification, staff=None, *, reason: str = "", channel: str = "staff",
            ip: str | None = None, reference: str = "") -> Verification:
    """Approve a pending application (staff, or the provider when `staff` is None). The user's earlier
    approved verification is superseded; open false-information flags it corrects are closed."""
    with transaction.atomic():
        v = _locked_pending(verification)
        user = v.user
        previous = Verification.objects.select_for_update().filter(
            user=user, status=VerificationStatus.APPROVED).first()
        if v.kind == VerificationKind.INDIVIDUAL and previous and previous.kind == VerificationKind.ENTERPRISE:
            raise ReviewRefused(_("已完成企业认证的账户不能变更为个人认证。"))
        # Lock every approved row of this identity, so two approvals cannot both slip under the limit.
        list(Verification.objects.select_for_update().filter(number_hash=v.number_hash,
                                                             status=VerificationStatus.APPROVED))
        if _approved_accounts_of(v.number_hash, excluding_user=user) >= settings.WUJI_MAX_ACCOUNTS_PER_IDENTITY:
            raise ReviewRefused(_limit_message())
        now = clock.now()
        if previous is not None:
            Verification.objects.filter(pk=previous.pk).update(status=VerificationStatus.SUPERSEDED)
        Verification.objects.filter(pk=v.pk).update(
            status=VerificationStatus.APPROVED, reviewed_by=staff, reviewed_at=now, reason=(reason or "")[:500],
            provider_reference=reference or v.provider_reference)
        v.refresh_from_db()
        _account_name_follows(user, v.name)
        audit.record(actor=staff, owner=user, channel=channel, action="identity.approve", target=v,
                     params={"kind": v.kind, "number": v.number_masked,
                             "supersedes": previous.pk if previous else None}, ip=ip)
        notifications.notify(user, notices.APPROVED.code, _notice_context(v))
        _close_corrected_flags(v, staff=staff, ip=ip)
    verification.refresh_from_db()
    return verification


def reject(verification: Verification, staff=None, reason: str = "", *, channel: str = "staff",
           ip: str | None = None, reference: str = "") -> Verification:
    """Reject a pending application with a reason the user sees."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写驳回原因。")]})
    with transaction.atomic():
        v = _locked_pending(verification)
        Verification.objects.filter(pk=v.pk).update(
            status=VerificationStatus.REJECTED, reviewed_by=staff, reviewed_at=clock.now(), reason=reason[:500],
            provider_reference=reference or v.provider_reference)
        v.refresh_from_db()
        audit.record(actor=staff, owner=v.user, channel=channel, action="identity.reject", target=v,
                     params={"kind": v.kind, "number": v.number_masked, "reason": reason}, ip=ip)
        notifications.notify(v.user, notices.REJECTED.code, _notice_context(v, reason=reason))
    verification.refresh_from_db()
    return verification


def assess(verification_id: int) -> str:
    """Ask the configured provider about a pending application (run as a task, after commit)."""
    v = Verification.objects.filter(pk=verification_id, status=VerificationStatus.PENDING).first()
    if v is None:
        return "nothing to do"
    try:
        outcome = get_provider().assess(kind=v.kind, name=v.name, number=number_of(v))
    except Exception:  # the channel could not check: staff review it
        return "left for manual review"
    try:
        if outcome.decision == "approve":
            approve(v, None, channel="system", reference=outcome.reference)
        elif outcome.decision == "reject":
            reject(v, None, outcome.reason, channel="system", reference=outcome.reference)
    except ReviewRefused as exc:
        return f"left for manual review: {exc}"
    return outcome.decision


# --- False information (2.1.3) ----------------------------------------------------------------------


def flag_false_information(user, staff, reason: str, deadline: dt.datetime, *, ip: str | None = None):
    """Staff found the account's real-name information false: the user must correct it by `deadline`,
    otherwise `restrict_overdue()` restricts the account."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("请填写标记原因。")]
    if deadline is None or deadline <= clock.now():
        errors["deadline"] = [_("更正期限必须晚于当前时间。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if FalseInformationFlag.objects.select_for_update().filter(
                user=user, status__in=[FlagStatus.OPEN, FlagStatus.RESTRICTED]).exists():
            raise ValidationError({"__all__": [_("该账户已有未处理的虚假信息标记。")]})
        flag = FalseInformationFlag.objects.create(
            user=user, verification=verifications_of(user).filter(status=VerificationStatus.APPROVED).first(),
            reason=reason[:500], deadline=deadline, flagged_by=staff, created_at=clock.now())
        audit.record(actor=staff, owner=user, channel="staff", action="identity.flag_false_information",
                     target=flag, params={"reason": reason, "deadline": deadline.isoformat()}, ip=ip)
        notifications.notify(user, notices.CORRECTION_REQUIRED.code, {
            "reason": reason, "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")})
    return flag


def _close_corrected_flags(verification: Verification, *, staff, ip) -> None:
    """An approved application submitted after a flag corrects it; a restriction it caused is lifted."""
    flags = FalseInformationFlag.objects.select_for_update().filter(
        user=verification.user, status__in=[FlagStatus.OPEN, FlagStatus.RESTRICTED],
        created_at__lte=verification.submitted_at)
    for flag in flags:
        was_restricted = flag.status == FlagStatus.RESTRICTED
        FalseInformationFlag.objects.filter(pk=flag.pk).update(status=FlagStatus.CORRECTED, resolved_at=clock.now())
        audit.record(actor=staff, owner=flag.user, channel="staff" if staff else "system",
                     action="identity.flag_corrected", target=flag, params={"verification": verification.pk}, ip=ip)
        if was_restricted:
            notifications.notify(flag.user, notices.RESTRICTION_LIFTED.code,
                                 {"reason": _("您提交的更正已通过审核。")})


def restrict_overdue(now: dt.datetime | None = None) -> int:
    """Restrict every account whose correction deadline passed with no correction submitted (or pending).
    Idempotent: a restricted flag is not touched again. Returns how many accounts it restricted."""
    now = now or clock.now()
    restricted = 0
    for flag in FalseInformationFlag.objects.filter(status=FlagStatus.OPEN, deadline__lte=now).select_related("user"):
        with transaction.atomic():
            if not FalseInformationFlag.objects.select_for_update().filter(pk=flag.pk, status=FlagStatus.OPEN).exists():
                continue
            if Verification.objects.filter(user=flag.user, status=VerificationStatus.PENDING,
                                           submitted_at__gte=flag.created_at).exists():
                continue  # a correction is waiting for review
            FalseInformationFlag.objects.filter(pk=flag.pk).update(status=FlagStatus.RESTRICTED, resolved_at=now)
            audit.record(actor=None, owner=flag.user, channel="system", action="identity.restrict", target=flag,
                         params={"deadline": flag.deadline.isoformat()})
            notifications.notify(flag.user, notices.RESTRICTED.code, {"reason": flag.reason})
            restricted += 1
    return restricted


def lift_restriction(flag: FalseInformationFlag, staff, reason: str, *, ip: str | None = None):
    """Staff close a flag (open or restricted) after review."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写解除原因。")]})
    with transaction.atomic():
        updated = FalseInformationFlag.objects.filter(
            pk=flag.pk, status__in=[FlagStatus.OPEN, FlagStatus.RESTRICTED]).update(
            status=FlagStatus.LIFTED, resolved_at=clock.now())
        if not updated:
            raise ReviewRefused(_("该标记已处理。"))
        audit.record(actor=staff, owner=flag.user, channel="staff", action="identity.lift_restriction",
                     target=flag, params={"reason": reason}, ip=ip)
        notifications.notify(flag.user, notices.RESTRICTION_LIFTED.code, {"reason": reason})
    flag.refresh_from_db()
    return flag


def cancel_membership(user, staff, reason: str, ip: str | None = None) -> FalseInformationFlag:
    """Staff cancel the membership and end service (2.1.3) of an account whose false real-name information
    was not corrected by the deadline — i.e. it has a flag in `restricted` (see `restrict_overdue`).

    Refused (ValidationError keyed by field, nothing written) without a reason (`reason`), without such a flag
    (`user`), and while anything ties the account to money or service — the same rule as the user's own
    cancellation (`wuji.accounts.cancellation.obstacles_by_field`: balance, frozen funds, servers, fapiao and
    contract applications or invoice debt, withdrawals in progress); the message lists what is left. Staff
    settle those first through the money and compute services (refund or withdrawal, release).
    Then, in one transaction: the account is deactivated
    (`is_active=False`), every session ended and every API key revoked (the same functions as the 2.2.1
    lock-down), the flag becomes `cancelled` with who, when and why, the instruction is recorded
    (`account.cancel_membership`, channel staff) and the user gets a mandatory notice, by e-mail too.
    """
    from wuji.accounts import cancellation
    from wuji.accounts import services as accounts

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写注销原因。")]})
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        flag = (FalseInformationFlag.objects.select_for_update()
                .filter(user=locked, status=FlagStatus.RESTRICTED).order_by("created_at", "pk").first())
        if flag is None or not locked.is_active:
            raise ValidationError({"user": [_("只有虚假信息逾期未更正、已被限制使用的账户才能注销会员资格。")]})
        left = cancellation.obstacles_by_field(locked, lock=True)
        if left:
            raise ValidationError(left)
        now = clock.now()
        User.objects.filter(pk=locked.pk).update(is_active=False)
        user.is_active = False
        FalseInformationFlag.objects.filter(pk=flag.pk).update(
            status=FlagStatus.CANCELLED, cancelled_at=now, cancelled_by=staff, cancel_reason=reason[:500])
        keys = accounts.revoke_all_api_keys(user=locked, actor=staff, ip=ip, channel="staff")
        sessions = accounts.end_all_sessions(user=locked, ip=ip, record=False)
        audit.record(actor=staff, owner=locked, channel="staff", action="account.cancel_membership", target=flag,
                     params={"reason": reason, "flag": flag.pk, "sessions_ended": sessions, "keys_revoked": keys},
                     ip=ip)
        notifications.notify(locked, notices.MEMBERSHIP_CANCELLED.code, {
            "reason": flag.reason, "note": reason, "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")})
    flag.refresh_from_db()
    return flag


# --- Keys ----------------------------------------------------------------------------------------------


def reencrypt_all() -> int:
    """Re-encrypt every stored number and document with the newest key (after adding a key in front of
    WUJI_ENCRYPTION_KEYS). Returns how many verifications were rewritten."""
    count = 0
    for v in Verification.objects.order_by("pk").iterator(chunk_size=500):
        with transaction.atomic():
            fields = {"number_encrypted": crypto.encrypt(number_of(v))}
            Verification.objects.filter(pk=v.pk).update(**fields)
            if v.document:
                data = decrypted_bytes(v.document)
                old_name = v.document.name
                v.document.save("document.bin", encrypted_file(data), save=False)
                Verification.objects.filter(pk=v.pk).update(document=v.document.name)
                transaction.on_commit(lambda name=old_name, storage=v.document.storage: storage.delete(name))
        count += 1
    return count
