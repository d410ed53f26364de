"""Fapiao (发票) and contracts (合同): the invoiceable amount, applications, staff review, red reversal (红冲),
general-taxpayer confirmation (一般纳税人) and contract PDFs. Every write records an instruction (clause 3.1.1)
and tells the customer.

The invoiceable amount (可开票金额) is a query, never a stored total:

    invoiceable = cash consumed (Σ revenue:cash postings of the customer's transactions; refunds and corrections
                  from revenue subtract themselves) − Σ pending and issued applications

A red-reversed application no longer counts (blue + red = 0). Negative means the customer holds more issued
fapiao than net cash consumption: invoice debt (欠票) after a refund.
"""

import dataclasses
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.catalog.choices import BillingCycle
from wuji.core import clock, crypto
from wuji.core.money import format_cny
from wuji.identity import services as identity
from wuji.identity.choices import VerificationKind
from wuji.ledger import services as ledger
from wuji.ledger.choices import PlatformAccount
from wuji.notifications import services as notifications

from . import notices
from .choices import ContractStatus, FapiaoMedium, FapiaoStatus, FapiaoType, TitleKind
from .models import Contract, FapiaoApplication, GeneralTaxpayer, NumberSequence

FAPIAO_NUMBER = re.compile(r"^(\d{8}|\d{20})$")  # 8 digits (older paper/e-fapiao) or 20 digits (数电票)
BANK_ACCOUNT = re.compile(r"^\d{8,30}$")
PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
MAX_PDF_BYTES = 10 * 1024 * 1024
TYPE_EN = {FapiaoType.NORMAL: "ordinary VAT fapiao", FapiaoType.SPECIAL: "special VAT fapiao"}


class FinanceRefused(Exception):
    """A request the current state does not allow (not pending any more, would create invoice debt…).
    The message is for people; `code` names it for the API."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.code = code


# --- The invoiceable amount ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Invoiceable:
    consumed_fen: int  # cash consumed net of refunds from revenue
    issued_fen: int  # issued, not red-reversed
    pending_fen: int  # applied for, not yet issued

    @property
    def invoiceable_fen(self) -> int:
        return self.consumed_fen - self.issued_fen - self.pending_fen

    @property
    def debt_fen(self) -> int:
        """欠票: issued fapiao above net cash consumption (only a refund after invoicing causes it)."""
        return max(0, self.issued_fen - self.consumed_fen)


def summary(customer) -> Invoiceable:
    consumed = ledger.customer_total_on(customer, PlatformAccount.REVENUE_CASH)
    totals = FapiaoApplication.objects.filter(customer=customer).aggregate(
        issued=Sum("amount_fen", filter=Q(status=FapiaoStatus.ISSUED)),
        pending=Sum("amount_fen", filter=Q(status=FapiaoStatus.PENDING)),
    )
    return Invoiceable(consumed_fen=consumed, issued_fen=totals["issued"] or 0, pending_fen=totals["pending"] or 0)


def invoiceable_fen(customer) -> int:
    """可开票金额 in fen: cash consumed − pending and issued fapiao (+ red reversals). May be negative."""
    return summary(customer).invoiceable_fen


def invoice_debt_fen(customer) -> int:
    """欠票 in fen (≥ 0): issued fapiao above the cash consumed net of refunds. Withdrawals wait while > 0."""
    return summary(customer).debt_fen


def has_open_applications(customer, *, include_contracts: bool = True) -> bool:
    """Whether a fapiao application (and, unless `include_contracts=False`, a contract application) of the
    customer awaits staff. Account cancellation waits for both; a withdrawal may pass include_contracts=False."""
    if FapiaoApplication.objects.filter(customer=customer, status__in=FapiaoStatus.OPEN).exists():
        return True
    return include_contracts and Contract.objects.filter(customer=customer, status=ContractStatus.PENDING).exists()


def applications_of(customer):
    return FapiaoApplication.objects.filter(customer=customer)


def contracts_of(customer):
    return Contract.objects.filter(customer=customer).select_related("order", "order__plan", "order__region")


# --- Titles (抬头) -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Title:
    kind: str  # TitleKind
    name: str
    taxpayer_id: str  # the unified social credit code for enterprises; empty for individuals
    number_masked: str
    general_taxpayer: GeneralTaxpayer | None

    @property
    def allowed_types(self) -> list[str]:
        if self.kind == TitleKind.ENTERPRISE and self.general_taxpayer is not None:
            return [FapiaoType.NORMAL, FapiaoType.SPECIAL]
        return [FapiaoType.NORMAL]


def active_general_taxpayer(customer, verification=None) -> GeneralTaxpayer | None:
    """The confirmation in force for the customer's currently verified enterprise, if any."""
    verification = verification or identity.status_of(customer).approved
    if verification is None or verification.kind != VerificationKind.ENTERPRISE:
        return None
    return GeneralTaxpayer.objects.filter(customer=customer, revoked_at__isnull=True,
                                          number_hash=verification.number_hash).first()


def title_of(customer) -> Title | None:
    """The fapiao title follows the verified identity (Aliyun's rule): None until the customer is verified."""
    verification = identity.status_of(customer).approved
    if verification is None:
        return None
    if verification.kind == VerificationKind.ENTERPRISE:
        return Title(kind=TitleKind.ENTERPRISE, name=verification.name, taxpayer_id=identity.number_of(verification),
                     number_masked=verification.number_masked,
                     general_taxpayer=active_general_taxpayer(customer, verification))
    return Title(kind=TitleKind.INDIVIDUAL, name=verification.name, taxpayer_id="",
                 number_masked=verification.number_masked, general_taxpayer=None)


def mask_account(number: str) -> str:
    return "*" * max(0, len(number) - 4) + number[-4:]


def bank_account_of(application: FapiaoApplication) -> str:
    """The account number in the clear. Staff callers log the access first (see admin)."""
    return crypto.decrypt(application.bank_account_encrypted) if application.bank_account_encrypted else ""


# --- Applying -----------------------------------------------------------------------------------------


def _clean_special_fields(fields: dict) -> tuple[dict, dict]:
    """专票 buyer details: address, phone, bank and account — all required. Returns (values, errors)."""
    values, errors = {}, {}
    labels = {"registered_address": _("注册地址"), "registered_phone": _("注册电话"), "bank_name": _("开户银行"),
              "bank_account": _("银行账号")}
    for name, label in labels.items():
        value = re.sub(r"\s+", "" if name == "bank_account" else " ", str(fields.get(name) or "")).strip()
        if not value:
            errors[name] = [_("开具专票须填写%(label)s。") % {"label": label}]
        values[name] = value
    if values["bank_account"] and not BANK_ACCOUNT.match(values["bank_account"]):
        errors["bank_account"] = [_("银行账号应为 8 至 30 位数字。")]
    if values["registered_phone"] and not PHONE.match(values["registered_phone"]):
        errors["registered_phone"] = [_("请输入正确的注册电话。")]
    for name, limit in (("registered_address", 200), ("bank_name", 100)):
        if len(values[name]) > limit:
            errors[name] = [_("不能超过 %(n)s 个字。") % {"n": limit}]
    return values, errors


def _validate_application(customer, *, amount_fen, fapiao_type, medium, email, mailing_address, special) -> dict:
    errors: dict[str, list] = {}
    title = title_of(customer)
    if title is None:
        raise ValidationError({"__all__": [_("开具发票需要先完成实名认证，发票抬头与实名认证信息一致。")]})
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        errors["amount"] = [_("请输入大于 0 的开票金额。")]
    if fapiao_type not in FapiaoType.values():
        errors["fapiao_type"] = [_("请选择发票类型。")]
    elif fapiao_type == FapiaoType.SPECIAL and title.kind == TitleKind.INDIVIDUAL:
        errors["fapiao_type"] = [_("个人认证的账户只能开具增值税普通发票。")]
    elif fapiao_type == FapiaoType.SPECIAL and title.general_taxpayer is None:
        errors["fapiao_type"] = [
            _("开具增值税专用发票需先由工作人员确认贵单位为一般纳税人，请提交工单并附一般纳税人证明。")]
    if medium not in FapiaoMedium.values():
        errors["medium"] = [_("请选择发票形式。")]
    email = (email or "").strip() or customer.email
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("请输入正确的电子邮箱。")]
    mailing_address = " ".join((mailing_address or "").split())
    if medium == FapiaoMedium.PAPER and not mailing_address:
        errors["mailing_address"] = [_("纸质发票须填写邮寄地址（收件人、电话、地址）。")]
    elif len(mailing_address) > 300:
        errors["mailing_address"] = [_("不能超过 %(n)s 个字。") % {"n": 300}]
    minimum = settings.WUJI_FAPIAO_PAPER_MIN_FEN if medium == FapiaoMedium.PAPER else settings.WUJI_FAPIAO_MIN_FEN
    if "amount" not in errors and amount_fen < minimum:
        errors["amount"] = [_("单张发票金额不能低于 %(min)s。") % {"min": format_cny(minimum)}]
    extra = {}
    if fapiao_type == FapiaoType.SPECIAL and "fapiao_type" not in errors:
        extra, special_errors = _clean_special_fields(special)
        errors.update(special_errors)
    if errors:
        raise ValidationError(errors)
    return {"title": title, "email": email, "mailing_address": mailing_address, **extra}


def apply_for_fapiao(customer, *, amount_fen: int, fapiao_type: str, medium: str = FapiaoMedium.ELECTRONIC,
                     email: str = "", mailing_address: str = "", registered_address: str = "",
                     registered_phone: str = "", bank_name: str = "", bank_account: str = "",
                     idempotency_key: str, channel: str = "web", ip: str | None = None) -> FapiaoApplication:
    """Apply for a fapiao (发票申请) of `amount_fen` against the invoiceable amount.

    The title is the verified identity; 专票 only for enterprises confirmed as general taxpayers. Refused with a
    ValidationError keyed by field (nothing written) when unverified, below the minimum, above the invoiceable
    amount, or the type is not allowed. The customer's ledger accounts are locked while the amount is checked
    and reserved, so two applications (or an application and a refund) cannot both take the same amount.
    A retry with the same idempotency key returns the first application."""
    existing = applications_of(customer).filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    special = {"registered_address": registered_address, "registered_phone": registered_phone,
               "bank_name": bank_name, "bank_account": bank_account}
    clean = _validate_application(customer, amount_fen=amount_fen, fapiao_type=fapiao_type, medium=medium,
                                  email=email, mailing_address=mailing_address, special=special)
    title: Title = clean["title"]
    try:
        with transaction.atomic():
            ledger.balances(customer, lock=True)
            available = invoiceable_fen(customer)
            if amount_fen > available:
                raise ValidationError({"amount": [_("开票金额超过可开票金额（%(available)s）。") % {
                    "available": format_cny(max(available, 0))}]})
            account = clean.get("bank_account", "")
            application = FapiaoApplication.objects.create(
                customer=customer, fapiao_type=fapiao_type, medium=medium, amount_fen=amount_fen,
                title_kind=title.kind, title_name=title.name, taxpayer_id=title.taxpayer_id,
                registered_address=clean.get("registered_address", ""),
                registered_phone=clean.get("registered_phone", ""), bank_name=clean.get("bank_name", ""),
                bank_account_encrypted=crypto.encrypt(account) if account else "",
                bank_account_masked=mask_account(account) if account else "",
                email=clean["email"], mailing_address=clean["mailing_address"], idempotency_key=idempotency_key,
                applied_at=clock.now(),
            )
            audit.record(actor=customer, owner=customer, channel=channel, action="fapiao.apply", target=application,
                         params={"amount_fen": amount_fen, "type": fapiao_type, "medium": medium,
                                 "title": title.name, "bank_account": application.bank_account_masked}, ip=ip)
            notifications.notify(customer, notices.FAPIAO_APPLIED.code, _context(application))
    except IntegrityError:
        existing = applications_of(customer).filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return application


def _context(application: FapiaoApplication, **extra) -> dict:
    return {"type": FapiaoType.label(application.fapiao_type), "type_en": TYPE_EN[application.fapiao_type],
            "title": application.title_name, "amount": format_cny(application.amount_fen),
            "number": application.fapiao_number or "", **extra}


def _locked(application: FapiaoApplication, *, expected: str) -> FapiaoApplication:
    ledger.balances(application.customer, lock=True)  # the customer's money and fapiao change one at a time
    locked = FapiaoApplication.objects.select_for_update().select_related("customer").get(pk=application.pk)
    if locked.status != expected:
        raise FinanceRefused(_("该发票申请当前状态为“%(status)s”，不能执行此操作。")
                             % {"status": FapiaoStatus.label(locked.status)}, code="wrong_status")
    return locked


def cancel_application(application: FapiaoApplication, customer, *, channel: str = "web",
                       ip: str | None = None) -> FapiaoApplication:
    """The customer withdraws a pending application; its amount is invoiceable again."""
    if application.customer_id != customer.pk:
        raise FinanceRefused(_("发票申请不存在。"), code="not_found")
    with transaction.atomic():
        locked = _locked(application, expected=FapiaoStatus.PENDING)
        FapiaoApplication.objects.filter(pk=locked.pk).update(status=FapiaoStatus.CANCELLED, reviewed_at=clock.now())
        audit.record(actor=customer, owner=customer, channel=channel, action="fapiao.cancel", target=locked,
                     params={"amount_fen": locked.amount_fen}, ip=ip)
        notifications.notify(customer, notices.FAPIAO_CANCELLED.code, _context(locked))
    application.refresh_from_db()
    return application


def _number_in_use(number: str) -> bool:
    return FapiaoApplication.objects.filter(Q(fapiao_number=number) | Q(red_number=number)).exists()


def _check_number(number: str, field: str) -> str:
    number = (number or "").strip()
    if not FAPIAO_NUMBER.match(number):
        raise ValidationError({field: [_("发票号码应为 8 位或 20 位（数电票）数字。")]})
    if _number_in_use(number):
        raise ValidationError({field: [_("发票号码 %(number)s 已被使用。") % {"number": number}]})
    return number


def _check_pdf(pdf, field: str = "pdf") -> bytes | None:
    if pdf is None:
        return None
    data = pdf if isinstance(pdf, bytes) else pdf.read()
    if len(data) > MAX_PDF_BYTES:
        raise ValidationError({field: [_("文件不能超过 10 MB。")]})
    if not data.startswith(b"%PDF-"):
        raise ValidationError({field: [_("只支持 PDF 文件。")]})
    return data


def issue_fapiao(application: FapiaoApplication, staff, *, number: str, issued_on=None, pdf=None,
                 ip: str | None = None) -> FapiaoApplication:
    """Finance staff record the issued fapiao (开具): its number, date and — for 数电票, required — the PDF,
    which the customer downloads. Refused when the application is not pending, the number is malformed or
    used, or issuing would exceed the cash consumed (a refund since the application): reject it instead."""
    number = _check_number(number, "fapiao_number")
    data = _check_pdf(pdf)
    if data is None and application.medium == FapiaoMedium.ELECTRONIC:
        raise ValidationError({"pdf": [_("数电票须上传发票 PDF 文件。")]})
    issued_on = issued_on or clock.local_now().date()
    try:
        with transaction.atomic():
            locked = _locked(application, expected=FapiaoStatus.PENDING)
            state = summary(locked.customer)
            if state.issued_fen + locked.amount_fen > state.consumed_fen:
                raise FinanceRefused(
                    _("开具后已开票金额将超过客户实际消费的现金（%(consumed)s），可能已发生退款，请驳回该申请。")
                    % {"consumed": format_cny(state.consumed_fen)}, code="exceeds_consumption")
            if data is not None:
                locked.pdf.save("fapiao.pdf", ContentFile(data), save=False)
            FapiaoApplication.objects.filter(pk=locked.pk).update(
                status=FapiaoStatus.ISSUED, fapiao_number=number, issued_on=issued_on, pdf=locked.pdf.name or "",
                reviewed_by=staff, reviewed_at=clock.now())
            locked.refresh_from_db()
            audit.record(actor=staff, owner=locked.customer, channel="staff", action="fapiao.issue", target=locked,
                         params={"number": number, "issued_on": issued_on.isoformat(),
                                 "amount_fen": locked.amount_fen, "pdf": data is not None}, ip=ip)
            delivery, delivery_en = _delivery(locked)
            notifications.notify(locked.customer, notices.FAPIAO_ISSUED.code, _context(
                locked, date=issued_on.isoformat(), delivery=delivery, delivery_en=delivery_en))
    except IntegrityError as exc:  # the same number issued concurrently
        raise ValidationError({"fapiao_number": [_("发票号码 %(number)s 已被使用。") % {"number": number}]}) from exc
    application.refresh_from_db()
    return application


def _delivery(application: FapiaoApplication) -> tuple[str, str]:
    if application.medium == FapiaoMedium.PAPER:
        return (_("纸质发票将寄往：%(address)s。") % {"address": application.mailing_address},
                f"The paper fapiao will be posted to: {application.mailing_address}.")
    return (_("电子发票可在“发票与合同”页面下载。"), "Download the electronic fapiao on the Fapiao and contracts page.")


def reject_application(application: FapiaoApplication, staff, reason: str, *,
                       ip: str | None = None) -> FapiaoApplication:
    """Finance staff decline a pending application with a reason the customer sees; the amount is released."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写驳回原因。")]})
    with transaction.atomic():
        locked = _locked(application, expected=FapiaoStatus.PENDING)
        FapiaoApplication.objects.filter(pk=locked.pk).update(
            status=FapiaoStatus.REJECTED, reject_reason=reason[:500], reviewed_by=staff, reviewed_at=clock.now())
        audit.record(actor=staff, owner=locked.customer, channel="staff", action="fapiao.reject", target=locked,
                     params={"reason": reason, "amount_fen": locked.amount_fen}, ip=ip)
        notifications.notify(locked.customer, notices.FAPIAO_REJECTED.code, _context(locked, reason=reason))
    application.refresh_from_db()
    return application


def red_reverse(application: FapiaoApplication, staff, *, red_number: str, reason: str,
                ip: str | None = None) -> FapiaoApplication:
    """红冲: staff record the red fapiao that voids an issued one (after a refund, a wrong title, or a returned
    fapiao). The amount becomes invoiceable again, which also clears the invoice debt it caused."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写红冲原因。")]})
    red_number = _check_number(red_number, "red_number")
    try:
        with transaction.atomic():
            locked = _locked(application, expected=FapiaoStatus.ISSUED)
            FapiaoApplication.objects.filter(pk=locked.pk).update(
                status=FapiaoStatus.REVERSED, red_number=red_number, reverse_reason=reason[:500],
                reversed_by=staff, reversed_at=clock.now())
            audit.record(actor=staff, owner=locked.customer, channel="staff", action="fapiao.red_reverse",
                         target=locked, params={"number": locked.fapiao_number, "red_number": red_number,
                                                "reason": reason, "amount_fen": locked.amount_fen}, ip=ip)
            notifications.notify(locked.customer, notices.FAPIAO_REVERSED.code,
                                 _context(locked, red_number=red_number, reason=reason))
    except IntegrityError as exc:
        raise ValidationError({"red_number": [_("发票号码 %(number)s 已被使用。") % {"number": red_number}]}) from exc
    application.refresh_from_db()
    return application


def fapiao_pdf(application: FapiaoApplication) -> bytes:
    with application.pdf.open("rb") as handle:
        return handle.read()


# --- General taxpayers (一般纳税人) ----------------------------------------------------------------------


def confirm_general_taxpayer(customer, staff, *, evidence: str, ip: str | None = None) -> GeneralTaxpayer:
    """Staff confirm, with evidence (e.g. the 一般纳税人 record from the tax bureau's site, checked on a date),
    that the customer's verified enterprise is a general VAT taxpayer, so it may receive 专票."""
    evidence = (evidence or "").strip()
    errors = {}
    if not evidence:
        errors["evidence"] = [_("请填写一般纳税人资格的证明材料。")]
    verification = identity.status_of(customer).approved
    if verification is None or verification.kind != VerificationKind.ENTERPRISE:
        errors["customer"] = [_("只有完成企业实名认证的客户才能确认为一般纳税人。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = GeneralTaxpayer.objects.select_for_update().filter(customer=customer, revoked_at__isnull=True)
        for old in current:  # confirmed for an earlier enterprise identity: superseded
            if old.number_hash == verification.number_hash:
                raise ValidationError({"customer": [_("该客户已被确认为一般纳税人。")]})
            GeneralTaxpayer.objects.filter(pk=old.pk).update(revoked_at=clock.now(), revoked_by=staff,
                                                             revoke_reason="superseded")
        confirmation = GeneralTaxpayer.objects.create(
            customer=customer, number_hash=verification.number_hash, company_name=verification.name,
            evidence=evidence[:500], confirmed_by=staff, confirmed_at=clock.now())
        audit.record(actor=staff, owner=customer, channel="staff", action="fapiao.confirm_general_taxpayer",
                     target=confirmation, params={"company": verification.name, "evidence": evidence}, ip=ip)
        notifications.notify(customer, notices.GENERAL_TAXPAYER_CONFIRMED.code, {"company": verification.name})
    return confirmation


def revoke_general_taxpayer(confirmation: GeneralTaxpayer, staff, reason: str, *,
                            ip: str | None = None) -> GeneralTaxpayer:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写撤销原因。")]})
    with transaction.atomic():
        updated = GeneralTaxpayer.objects.filter(pk=confirmation.pk, revoked_at__isnull=True).update(
            revoked_at=clock.now(), revoked_by=staff, revoke_reason=reason[:500])
        if not updated:
            raise FinanceRefused(_("该确认已撤销。"), code="wrong_status")
        audit.record(actor=staff, owner=confirmation.customer, channel="staff",
                     action="fapiao.revoke_general_taxpayer", target=confirmation, params={"reason": reason}, ip=ip)
        notifications.notify(confirmation.customer, notices.GENERAL_TAXPAYER_REVOKED.code,
                             {"company": confirmation.company_name, "reason": reason})
    confirmation.refresh_from_db()
    return confirmation


# --- Contracts (合同) -----------------------------------------------------------------------------------


def apply_for_contract(customer, *, order, channel: str = "web", ip: str | None = None) -> Contract:
    """Apply for a contract for one of the customer's orders. One pending or approved contract per order."""
    if order is None or order.customer_id != customer.pk:
        raise ValidationError({"order": [_("订单不存在。")]})
    if identity.status_of(customer).approved is None:
        raise ValidationError({"__all__": [_("申请合同需要先完成实名认证，合同主体与实名认证信息一致。")]})
    try:
        with transaction.atomic():
            if Contract.objects.select_for_update().filter(
                    order=order, status__in=[ContractStatus.PENDING, ContractStatus.APPROVED]).exists():
                raise ValidationError({"order": [_("该订单已有合同申请。")]})
            contract = Contract.objects.create(customer=customer, order=order, applied_at=clock.now())
            audit.record(actor=customer, owner=customer, channel=channel, action="contract.apply", target=contract,
                         params={"order": order.pk}, ip=ip)
            notifications.notify(customer, notices.CONTRACT_APPLIED.code, {"order": order.pk})
    except IntegrityError as exc:
        raise ValidationError({"order": [_("该订单已有合同申请。")]}) from exc
    return contract


def _next_number(name: str) -> int:
    """Take the next value of a counter row, locked until the caller commits (gapless, unique)."""
    try:
        with transaction.atomic():
            NumberSequence.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # created concurrently
    sequence = NumberSequence.objects.select_for_update().get(name=name)
    NumberSequence.objects.filter(pk=sequence.pk).update(last=sequence.last + 1)
    return sequence.last + 1


def allocate_contract_number() -> str:
    year = clock.local_now().year
    serial = _next_number(f"contract:{year}")
    return f"{settings.WUJI_CONTRACT_NUMBER_PREFIX}-{year}-{serial:06d}"


def _party_of(customer) -> tuple[str, str]:
    verification = identity.status_of(customer).approved
    if verification is None:
        raise FinanceRefused(_("客户当前没有有效的实名认证，不能生成合同。"), code="not_verified")
    if verification.kind == VerificationKind.ENTERPRISE:
        return verification.name, identity.number_of(verification)
    return verification.name, verification.number_masked  # an individual's ID number is not printed in full


def accepted_agreement_version(customer) -> str:
    acceptance = customer.acceptances.select_related("version").order_by("-accepted_at").first()
    return acceptance.version.version if acceptance else ""


def approve_contract(contract: Contract, staff, *, ip: str | None = None) -> Contract:
    """Staff approve: a number is allocated and the Chinese contract PDF generated and stored privately."""
    from . import pdf

    with transaction.atomic():
        locked = Contract.objects.select_for_update().select_related(
            "customer", "order", "order__plan", "order__region", "order__server").get(pk=contract.pk)
        if locked.status != ContractStatus.PENDING:
            raise FinanceRefused(_("该合同申请当前状态为“%(status)s”，不能审核。")
                                 % {"status": ContractStatus.label(locked.status)}, code="wrong_status")
        locked.party_name, locked.party_number = _party_of(locked.customer)
        locked.agreement_version = accepted_agreement_version(locked.customer)
        locked.number = allocate_contract_number()
        locked.reviewed_by, locked.reviewed_at = staff, clock.now()
        locked.status = ContractStatus.APPROVED
        data = pdf.render_contract(locked, contract_terms(locked.order))
        locked.pdf.save("contract.pdf", ContentFile(data), save=False)
        Contract.objects.filter(pk=locked.pk).update(
            status=locked.status, number=locked.number, party_name=locked.party_name,
            party_number=locked.party_number, agreement_version=locked.agreement_version,
            reviewed_by=staff, reviewed_at=locked.reviewed_at, pdf=locked.pdf.name)
        audit.record(actor=staff, owner=locked.customer, channel="staff", action="contract.approve", target=locked,
                     params={"number": locked.number, "order": locked.order_id}, ip=ip)
        notifications.notify(locked.customer, notices.CONTRACT_APPROVED.code,
                             {"order": locked.order_id, "number": locked.number})
    contract.refresh_from_db()
    return contract


def reject_contract(contract: Contract, staff, reason: str, *, ip: str | None = None) -> Contract:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写驳回原因。")]})
    with transaction.atomic():
        updated = Contract.objects.filter(pk=contract.pk, status=ContractStatus.PENDING).update(
            status=ContractStatus.REJECTED, reject_reason=reason[:500], reviewed_by=staff, reviewed_at=clock.now())
        if not updated:
            raise FinanceRefused(_("该合同申请已处理。"), code="wrong_status")
        audit.record(actor=staff, owner=contract.customer, channel="staff", action="contract.reject",
                     target=contract, params={"reason": reason, "order": contract.order_id}, ip=ip)
        notifications.notify(contract.customer, notices.CONTRACT_REJECTED.code,
                             {"order": contract.order_id, "reason": reason})
    contract.refresh_from_db()
    return contract


@dataclasses.dataclass(frozen=True)
class ContractTerms:
    plan: str
    spec: str
    region: str
    cycle: str
    server: str
    start: str
    end: str
    amount_fen: int
    paid_on: str


def contract_terms(order) -> ContractTerms:
    """What the contract says about the order: the service, its term and what was paid (business time)."""
    start = timezone.localtime(order.created_at, clock.SHANGHAI)
    end = timezone.localtime(clock.add_months(order.created_at, BillingCycle.MONTHS.get(order.cycle, 1)),
                             clock.SHANGHAI)
    plan = order.plan
    return ContractTerms(
        plan=plan.name_zh, region=order.region.name_zh, cycle=str(BillingCycle.label(order.cycle)),
        spec=f"{plan.vcpus} vCPU / {(Decimal(plan.memory_mib) / 1024).normalize():f} GiB / {plan.disk_gib} GiB / "
             f"{plan.bandwidth_mbps} Mbps",
        server=order.server.name, start=start.strftime("%Y-%m-%d %H:%M"), end=end.strftime("%Y-%m-%d %H:%M"),
        amount_fen=order.amount_fen, paid_on=start.strftime("%Y-%m-%d"),
    )


def contract_pdf(contract: Contract) -> bytes:
    with contract.pdf.open("rb") as handle:
        return handle.read()
