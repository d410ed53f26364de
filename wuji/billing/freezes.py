"""Fund freezes (资金冻结, clause 5.4) and appeals (申诉, 5.4.7).

- Finance or compliance staff freeze part or all of a customer's cash, citing one ground of 5.4 with
  evidence: `cust:cash −F, cust:frozen +F` (key `freeze:<id>`). Frozen money is neither spendable (charges
  draw on gift and cash only) nor withdrawable. The customer is told on every channel, with the deadline.
- The customer may appeal once, before the deadline, with attachments. Another staff member (four-eyes,
  unless WUJI_FREEZE_SAME_STAFF_MAY_DECIDE) upholds it — unfrozen at once, `cust:frozen −F, cust:cash +F`
  (key `unfreeze:<id>`) — or rejects it with a reason.
- A rejection, or no appeal by the deadline (the periodic job), applies the outcome chosen at freezing (or
  at the decision): a long-term freeze, or a refund to the original sources through
  `payments.withdrawals.refund_frozen`. Staff may lift an open freeze at any time, with a reason.
Every step writes an instruction and tells the customer.
"""

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.core import clock, money, roles
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, TransactionKind
from wuji.notifications.services import notify

from . import freeze_notices as notices
from .choices import AppealStatus, FreezeFileKind, FreezeOutcome, FreezeReason, FreezeState
from .models import Appeal, Freeze, FreezeFile
from .storage import decrypted_bytes, encrypted_file

FREEZE_ROLES = roles.roles_with(roles.FREEZE_FUNDS)  # finance, compliance (wuji/core/roles.py)
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TEXT = 5000
FILE_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}


class FreezeRefused(Exception):
    """A refusal for the person who asked; `field` names the input it concerns."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "freeze_refused"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file as the services take it (views adapt Django's UploadedFile with `upload_from`)."""

    name: str
    data: bytes


def upload_from(uploaded) -> Upload:
    if uploaded.size > MAX_FILE_BYTES:
        raise FreezeRefused(_("单个文件不能超过 10 MB。"), field="files", code="file_too_large")
    return Upload(name=(uploaded.name or "file")[-200:], data=uploaded.read())


def can_manage(user) -> bool:
    """Finance or compliance staff (Groups), or a superuser."""
    return roles.can(user, roles.FREEZE_FUNDS)


def _require_staff(staff) -> None:
    if not can_manage(staff):
        raise FreezeRefused(_("只有财务或合规人员可以处理资金冻结。"), code="not_freeze_staff")


def _require_second_pair_of_eyes(freeze: Freeze, staff) -> None:
    if not settings.WUJI_FREEZE_SAME_STAFF_MAY_DECIDE and freeze.created_by_id == staff.pk:
        raise FreezeRefused(_("冻结与解冻（或申诉审核）须由不同的工作人员办理。"), code="four_eyes")


def _checked_files(files, *, limit: int = MAX_FILES) -> list[tuple[Upload, str]]:
    files = list(files or [])
    if len(files) > limit:
        raise FreezeRefused(_("最多上传 %(n)s 个文件。") % {"n": limit}, field="files", code="too_many_files")
    checked = []
    for upload in files:
        if len(upload.data) > MAX_FILE_BYTES:
            raise FreezeRefused(_("单个文件不能超过 10 MB。"), field="files", code="file_too_large")
        content_type = next((t for sig, t in FILE_SIGNATURES.items() if upload.data.startswith(sig)), None)
        if content_type is None:
            raise FreezeRefused(_("只支持 JPEG、PNG 或 PDF 文件。"), field="files", code="file_type")
        checked.append((upload, content_type))
    return checked


def _store_files(freeze: Freeze, kind: str, checked) -> None:
    for upload, content_type in checked:
        row = FreezeFile(freeze=freeze, kind=kind, name=upload.name, content_type=content_type,
                         size=len(upload.data), uploaded_at=clock.now())
        row.file.save("file.bin", encrypted_file(upload.data), save=False)
        row.save()


def file_content(row: FreezeFile) -> bytes:
    return decrypted_bytes(row.file)


def _context(freeze: Freeze) -> dict:
    deadline = timezone.localtime(freeze.appeal_deadline, clock.SHANGHAI)
    return {
        "amount": money.format_cny(freeze.amount_fen),
        "clause": FreezeReason.CLAUSE[freeze.reason],
        "reason": FreezeReason.label(freeze.reason),
        "note": freeze.note,
        "deadline": f"{deadline:%Y-%m-%d %H:%M}",
        "outcome": FreezeOutcome.label(freeze.outcome),
        "link": reverse("portal:freeze", args=[freeze.pk]),
    }


# --- Queries ----------------------------------------------------------------------------------------------


def freezes_of(customer):
    return Freeze.objects.filter(customer=customer).select_related("appeal")


def has_open_freeze(customer) -> bool:
    return Freeze.objects.filter(customer=customer, state__in=FreezeState.OPEN).exists()


def appeal_files_of(freeze: Freeze):
    """What the customer may see of a freeze's files: their own appeal attachments (never staff evidence)."""
    return freeze.files.filter(kind=FreezeFileKind.APPEAL)


def can_appeal(freeze: Freeze) -> bool:
    return freeze.state == FreezeState.FROZEN and clock.now() <= freeze.appeal_deadline and not Appeal.objects.filter(
        freeze=freeze).exists()


# --- Freezing ---------------------------------------------------------------------------------------------


def freeze_funds(*, customer, staff, reason: str, outcome: str, amount_fen: int | None = None, note: str = "",
                 evidence: str = "", files=(), ip: str | None = None) -> Freeze:
    """Freeze `amount_fen` of the customer's cash (None: all of it) on a ground of clause 5.4."""
    _require_staff(staff)
    if reason not in FreezeReason.values():
        raise FreezeRefused(_("请选择协议第 5.4 条规定的冻结原因。"), field="reason", code="invalid")
    if outcome not in FreezeOutcome.values():
        raise FreezeRefused(_("请选择申诉未通过或逾期后的处理方式。"), field="outcome", code="invalid")
    if amount_fen is not None and (not isinstance(amount_fen, int) or amount_fen <= 0):
        raise FreezeRefused(_("冻结金额必须大于 0。"), field="amount", code="invalid")
    evidence = (evidence or "").strip()
    if not evidence:
        raise FreezeRefused(_("请填写冻结依据。"), field="evidence", code="invalid")
    note = (note or "").strip()[:500]
    checked = _checked_files(files, limit=10)
    now = clock.now()
    with transaction.atomic():
        cash = ledger.balances(customer, lock=True)[AccountKind.CASH]
        amount = cash if amount_fen is None else amount_fen
        if amount <= 0:
            raise FreezeRefused(_("该客户没有可冻结的现金余额。"), field="amount", code="nothing_to_freeze")
        if amount > cash:
            raise FreezeRefused(_("冻结金额 %(amount)s 超过客户的现金余额 %(cash)s。") % {
                "amount": money.format_cny(amount), "cash": money.format_cny(cash)}, field="amount",
                code="over_cash")
        freeze = Freeze.objects.create(
            customer=customer, amount_fen=amount, held_fen=amount, reason=reason, note=note, evidence=evidence,
            outcome=outcome, appeal_deadline=now + dt.timedelta(days=settings.WUJI_FREEZE_APPEAL_DAYS),
            created_by=staff, created_at=now,
        )
        freeze.freeze_transaction = ledger.post(
            key=f"freeze:{freeze.pk}", kind=TransactionKind.FREEZE,
            legs=[(ledger.customer_account_code(customer.pk, AccountKind.CASH), -amount),
                  (ledger.customer_account_code(customer.pk, AccountKind.FROZEN), amount)],
            customer=customer, cause=("freeze", freeze.pk),
            memo=_("资金冻结（协议第 %(clause)s 条）") % {"clause": FreezeReason.CLAUSE[reason]},
        )
        freeze.save(update_fields=["freeze_transaction"])
        _store_files(freeze, FreezeFileKind.EVIDENCE, checked)
        audit.record(actor=staff, owner=customer, channel=Channel.STAFF, action="funds.freeze", target=freeze, ip=ip,
                     params={"amount_fen": amount, "reason": reason, "outcome": outcome, "files": len(checked),
                             "appeal_deadline": freeze.appeal_deadline.isoformat()})
        notify(customer, notices.FUNDS_FROZEN.code, _context(freeze))
    return freeze


def _locked(freeze: Freeze, *, money_too: bool = False) -> Freeze:
    """Lock the freeze row and, when money will move, the customer's accounts right after it — always in
    this order (freeze, accounts, then the instruction chain), the order purchases and withdrawals share."""
    freeze = Freeze.objects.select_for_update().select_related("customer").get(pk=freeze.pk)
    if money_too:
        ledger.balances(freeze.customer, lock=True)
    return freeze


# --- Appeals ----------------------------------------------------------------------------------------------


def submit_appeal(*, freeze: Freeze, customer, text: str, files=(), channel: str, ip: str | None = None) -> Appeal:
    """The customer's one appeal, before the deadline (5.4.7)."""
    if freeze.customer_id != customer.pk:
        raise Freeze.DoesNotExist  # not theirs: callers already scoped the lookup; never reveal it
    text = (text or "").strip()
    if not text:
        raise FreezeRefused(_("请填写申诉说明。"), field="text", code="invalid")
    if len(text) > MAX_TEXT:
        raise FreezeRefused(_("申诉说明不能超过 %(n)s 字。") % {"n": MAX_TEXT}, field="text", code="invalid")
    checked = _checked_files(files)
    with transaction.atomic():
        freeze = _locked(freeze)
        if Appeal.objects.filter(freeze=freeze).exists():
            raise FreezeRefused(_("每项冻结只能申诉一次，您已提交过申诉。"), code="already_appealed")
        if freeze.state != FreezeState.FROZEN:
            raise FreezeRefused(_("该冻结已处理完毕，不能再申诉。"), code="not_appealable")
        if clock.now() > freeze.appeal_deadline:
            raise FreezeRefused(_("申诉期限已过，不能再申诉。"), code="deadline_passed")
        appeal = Appeal.objects.create(freeze=freeze, text=text, submitted_at=clock.now())
        _store_files(freeze, FreezeFileKind.APPEAL, checked)
        freeze.state = FreezeState.APPEALED
        freeze.save(update_fields=["state"])
        audit.record(actor=customer, owner=customer, channel=channel, action="funds.appeal", target=freeze, ip=ip,
                     params={"appeal": appeal.pk, "files": len(checked)})
        notify(customer, notices.APPEAL_RECEIVED.code, _context(freeze))
    return appeal


def _release(freeze: Freeze, *, staff, reason: str, action: str, ip: str | None) -> None:
    """Unfreeze what the freeze still holds (frozen → cash); the caller holds the lock."""
    customer = freeze.customer
    if freeze.held_fen:
        freeze.release_transaction = ledger.post(
            key=f"unfreeze:{freeze.pk}", kind=TransactionKind.UNFREEZE,
            legs=[(ledger.customer_account_code(customer.pk, AccountKind.FROZEN), -freeze.held_fen),
                  (ledger.customer_account_code(customer.pk, AccountKind.CASH), freeze.held_fen)],
            customer=customer, cause=("freeze", freeze.pk), memo=_("资金解冻 #%(pk)s") % {"pk": freeze.pk},
        )
    released = freeze.held_fen
    freeze.state, freeze.held_fen = FreezeState.LIFTED, 0
    freeze.closed_at, freeze.closed_by, freeze.close_reason = clock.now(), staff, reason[:500]
    freeze.save(update_fields=["state", "held_fen", "release_transaction", "closed_at", "closed_by", "close_reason"])
    audit.record(actor=staff, owner=customer, channel=Channel.STAFF, action=action, target=freeze, ip=ip,
                 params={"released_fen": released, "reason": reason})
    notify(customer, notices.FUNDS_UNFROZEN.code, {**_context(freeze), "amount": money.format_cny(released),
                                                    "reason": reason or _("申诉已通过")})


def _apply_outcome(freeze: Freeze, outcome: str, *, actor, channel: str, reason: str, ip: str | None) -> None:
    """Long-term freeze, or refund to the original sources; the caller holds the lock."""
    customer = freeze.customer
    appealed = Appeal.objects.filter(freeze=freeze).exists()
    params = {"outcome": outcome, "held_fen": freeze.held_fen, "reason": reason}
    if outcome == FreezeOutcome.REFUND and freeze.held_fen:
        from wuji.payments import withdrawals

        refund = withdrawals.refund_frozen(freeze=freeze, amount_fen=freeze.held_fen)
        params["withdrawal"] = refund.pk
        freeze.state, freeze.held_fen = FreezeState.REFUNDED, 0
        freeze.closed_at, freeze.closed_by = clock.now(), actor
    else:
        freeze.state = FreezeState.LONG_TERM
    freeze.outcome, freeze.close_reason = outcome, reason[:500]
    freeze.save(update_fields=["state", "held_fen", "outcome", "closed_at", "closed_by", "close_reason"])
    audit.record(actor=actor, owner=customer, channel=channel, action="funds.freeze_outcome", target=freeze, ip=ip,
                 params=params)
    notify(customer, notices.FREEZE_OUTCOME.code, {**_context(freeze), "appealed": appealed, "reason": reason})


def uphold_appeal(*, freeze: Freeze, staff, reason: str = "", ip: str | None = None) -> Freeze:
    """The appeal succeeds: the freeze is lifted at once (5.4.7)."""
    _require_staff(staff)
    with transaction.atomic():
        freeze = _locked(freeze, money_too=True)
        _require_second_pair_of_eyes(freeze, staff)
        appeal = Appeal.objects.filter(freeze=freeze, status=AppealStatus.PENDING).first()
        if freeze.state != FreezeState.APPEALED or appeal is None:
            raise FreezeRefused(_("该冻结没有待审核的申诉。"), code="no_pending_appeal")
        Appeal.objects.filter(pk=appeal.pk).update(status=AppealStatus.UPHELD, decided_at=clock.now(),
                                                   decided_by=staff, decision_reason=(reason or "")[:500])
        _release(freeze, staff=staff, reason=(reason or "").strip() or _("申诉已通过"),
                 action="funds.appeal_uphold", ip=ip)
    return freeze


def reject_appeal(*, freeze: Freeze, staff, reason: str, outcome: str | None = None,
                  ip: str | None = None) -> Freeze:
    """The appeal fails: the outcome chosen at freezing (or `outcome`, decided now) applies."""
    _require_staff(staff)
    reason = (reason or "").strip()
    if not reason:
        raise FreezeRefused(_("请填写驳回原因。"), field="reason", code="invalid")
    if outcome is not None and outcome not in FreezeOutcome.values():
        raise FreezeRefused(_("请选择申诉未通过或逾期后的处理方式。"), field="outcome", code="invalid")
    with transaction.atomic():
        freeze = _locked(freeze, money_too=True)
        _require_second_pair_of_eyes(freeze, staff)
        appeal = Appeal.objects.filter(freeze=freeze, status=AppealStatus.PENDING).first()
        if freeze.state != FreezeState.APPEALED or appeal is None:
            raise FreezeRefused(_("该冻结没有待审核的申诉。"), code="no_pending_appeal")
        Appeal.objects.filter(pk=appeal.pk).update(status=AppealStatus.REJECTED, decided_at=clock.now(),
                                                   decided_by=staff, decision_reason=reason[:500])
        audit.record(actor=staff, owner=freeze.customer, channel=Channel.STAFF, action="funds.appeal_reject",
                     target=freeze, params={"reason": reason}, ip=ip)
        _apply_outcome(freeze, outcome or freeze.outcome, actor=staff, channel=Channel.STAFF, reason=reason, ip=ip)
    return freeze


def lift_freeze(*, freeze: Freeze, staff, reason: str, ip: str | None = None) -> Freeze:
    """Staff lift an open freeze at any time (the money returns to cash)."""
    _require_staff(staff)
    reason = (reason or "").strip()
    if not reason:
        raise FreezeRefused(_("请填写解冻原因。"), field="reason", code="invalid")
    with transaction.atomic():
        freeze = _locked(freeze, money_too=True)
        _require_second_pair_of_eyes(freeze, staff)
        if freeze.state not in FreezeState.OPEN:
            raise FreezeRefused(_("该冻结已处理完毕。"), code="not_open")
        Appeal.objects.filter(freeze=freeze, status=AppealStatus.PENDING).update(
            status=AppealStatus.UPHELD, decided_at=clock.now(), decided_by=staff, decision_reason=reason[:500])
        _release(freeze, staff=staff, reason=reason, action="funds.unfreeze", ip=ip)
    return freeze


def refund_long_term(*, freeze: Freeze, staff, reason: str, ip: str | None = None) -> Freeze:
    """Staff send a long-term freeze back to its sources later (5.4.7 leaves them the choice)."""
    _require_staff(staff)
    reason = (reason or "").strip()
    if not reason:
        raise FreezeRefused(_("请填写原因。"), field="reason", code="invalid")
    with transaction.atomic():
        freeze = _locked(freeze, money_too=True)
        if freeze.state != FreezeState.LONG_TERM or not freeze.held_fen:
            raise FreezeRefused(_("只有长期冻结的资金可以原路退回。"), code="not_long_term")
        _apply_outcome(freeze, FreezeOutcome.REFUND, actor=staff, channel=Channel.STAFF, reason=reason, ip=ip)
    return freeze


def apply_due_outcomes(now: dt.datetime | None = None) -> int:
    """The deadline job: each freeze still awaiting an appeal after its deadline gets its outcome. Idempotent."""
    now = now or clock.now()
    due = list(Freeze.objects.filter(state=FreezeState.FROZEN, appeal_deadline__lt=now).values_list("pk", flat=True))
    applied = 0
    for pk in due:
        with transaction.atomic():
            freeze = _locked(Freeze(pk=pk), money_too=True)
            if freeze.state != FreezeState.FROZEN or freeze.appeal_deadline >= now:
                continue
            _apply_outcome(freeze, freeze.outcome, actor=None, channel=Channel.SYSTEM,
                           reason=_("申诉期限内未收到申诉"), ip=None)
            applied += 1
    return applied


def refund_returned(freeze_id: int, amount_fen: int) -> None:
    """A leg of a frozen-funds refund failed and its money went back to the frozen balance: the freeze holds
    it again, as a long-term freeze (staff may lift it or try the refund again). Called inside the caller's
    transaction by payments.withdrawals."""
    freeze = Freeze.objects.select_for_update().get(pk=freeze_id)
    freeze.held_fen += amount_fen
    freeze.state, freeze.closed_at = FreezeState.LONG_TERM, None
    freeze.save(update_fields=["held_fen", "state", "closed_at"])
