"""Money out: withdrawals (提现), frozen funds returned to their source (5.4.7), and the refund legs that pay
them (原路退回), plus the customers' bank accounts (6.3).

Flow (design/LEDGER.md):
- accepting a withdrawal posts `cust:cash −(W+f), payable:refunds +W, income:fees +f` (a frozen refund posts
  `cust:frozen −F, payable:refunds +F`) together with its refund legs, in one transaction with the locked
  balances, so a withdrawal racing a purchase can never overdraw;
- the amount is allocated over the customer's paid top-ups newest first (LIFO), each up to what it has not
  refunded yet and only within its channel's refund window; what no top-up can take back is paid to the
  customer's bank account by finance staff;
- a task asks each channel to refund its leg with the leg's unique `refund_no` (the channel deduplicates on
  it, so retries never pay twice); success posts `payable:refunds −A, clearing:<ch> +A`; a final failure
  returns the leg (`payable:refunds −A, cust:cash|frozen +A`); a pending answer is queried later;
- rejecting or cancelling a withdrawal awaiting approval reverses the whole acceptance transaction.
"""

import datetime as dt
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from wuji.accounts import restrictions
from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.core import clock, crypto, money, roles
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind
from wuji.notifications.services import notify

from . import gateways, notices
from .choices import PaymentChannel, RefundLegStatus, TopUpStatus, WithdrawalKind, WithdrawalStatus
from .models import BankAccount, Refund, TopUp, Withdrawal

BANK_CHANNEL = "bank"  # payouts by bank transfer, made by finance staff by hand
HASH_PURPOSE = "bank-account-number"
FINANCE_ROLES = roles.roles_with(roles.DECIDE_WITHDRAWALS)  # finance (wuji/core/roles.py)
ACCOUNT_NUMBER = re.compile(r"^\d{8,30}$")


class WithdrawalRefused(Exception):
    """A refusal shown to the customer; `field` names the input it concerns, `code` names it for the API."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "withdrawal_refused"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


def is_finance_staff(user) -> bool:
    return roles.can(user, roles.DECIDE_WITHDRAWALS)


def _require_finance(staff) -> None:
    if not is_finance_staff(staff):
        raise WithdrawalRefused(_("只有财务人员可以处理提现和退款。"), code="not_finance_staff")


# --- Bank accounts (6.3) ---------------------------------------------------------------------------------


def number_hash(number: str) -> str:
    return crypto.keyed_hash(number, HASH_PURPOSE)


def bank_accounts_of(customer):
    return BankAccount.objects.filter(customer=customer, removed_at__isnull=True)


def bank_details(account: BankAccount) -> dict[str, str]:
    """The account in the clear: for its owner, or for staff after `audit.record_data_access`."""
    return {"holder": crypto.decrypt(account.holder_encrypted), "bank": crypto.decrypt(account.bank_encrypted),
            "branch": crypto.decrypt(account.branch_encrypted), "number": crypto.decrypt(account.number_encrypted)}


def add_bank_account(*, customer, holder: str, bank: str, branch: str, number: str, channel: str,
                     ip: str | None) -> BankAccount:
    """Register a payout account. The holder must be the account's verified real name (实名), so money only
    ever leaves to the customer themselves."""
    from wuji.identity import services as identity

    holder, bank, branch = (holder or "").strip(), (bank or "").strip(), (branch or "").strip()
    number = re.sub(r"[\s-]", "", number or "")
    if not holder or len(holder) > 100:
        raise WithdrawalRefused(_("请填写开户名（不超过 100 个字）。"), field="holder", code="invalid")
    if not bank or len(bank) > 50:
        raise WithdrawalRefused(_("请填写开户银行（不超过 50 个字）。"), field="bank", code="invalid")
    if not branch or len(branch) > 100:
        raise WithdrawalRefused(_("请填写开户支行（不超过 100 个字）。"), field="branch", code="invalid")
    if not ACCOUNT_NUMBER.match(number):
        raise WithdrawalRefused(_("银行账号应为 8 至 30 位数字。"), field="number", code="invalid")
    approved = identity.status_of(customer).approved
    if approved is None:
        raise WithdrawalRefused(_("添加银行账户前请先完成实名认证。"), field="holder", code="real_name_required")
    if holder != approved.name:
        raise WithdrawalRefused(_("开户名须与实名认证的姓名或企业名称一致。"), field="holder", code="holder_mismatch")
    digest = number_hash(number)
    if bank_accounts_of(customer).filter(number_hash=digest).exists():
        raise WithdrawalRefused(_("该银行账户已添加。"), field="number", code="duplicate")
    try:
        with transaction.atomic():
            account = BankAccount.objects.create(
                customer=customer, holder_encrypted=crypto.encrypt(holder), bank_encrypted=crypto.encrypt(bank),
                branch_encrypted=crypto.encrypt(branch), number_encrypted=crypto.encrypt(number),
                number_hash=digest, number_last4=number[-4:], created_at=clock.now(),
            )
            audit.record(actor=customer, owner=customer, channel=channel, action="bank_account.add", target=account,
                         params={"bank": bank, "number": account.masked}, ip=ip)
    except IntegrityError:
        raise WithdrawalRefused(_("该银行账户已添加。"), field="number", code="duplicate") from None
    return account


def remove_bank_account(account: BankAccount, *, actor, channel: str, ip: str | None) -> None:
    in_use = Refund.objects.filter(bank_account=account, status=RefundLegStatus.PENDING).exists() or (
        account.withdrawals.filter(status__in=WithdrawalStatus.OPEN).exists())
    if in_use:
        raise WithdrawalRefused(_("该银行账户有处理中的提现，暂不能删除。"), code="bank_account_in_use")
    with transaction.atomic():
        BankAccount.objects.filter(pk=account.pk, removed_at__isnull=True).update(removed_at=clock.now())
        audit.record(actor=actor, owner=account.customer, channel=channel, action="bank_account.remove",
                     target=account, params={"number": account.masked}, ip=ip)


# --- Rules ------------------------------------------------------------------------------------------------


def fee_for(amount_fen: int) -> int:
    """The withdrawal fee: a fixed part plus basis points of the amount, rounded half up to the fen."""
    return settings.WUJI_WITHDRAWAL_FEE_FIXED_FEN + (amount_fen * settings.WUJI_WITHDRAWAL_FEE_BPS + 5000) // 10000


def rules() -> dict:
    return {
        "min_fen": settings.WUJI_WITHDRAWAL_MIN_FEN,
        "max_fen": settings.WUJI_WITHDRAWAL_MAX_FEN,
        "count_limit": settings.WUJI_WITHDRAWAL_COUNT_LIMIT,
        "period_days": settings.WUJI_WITHDRAWAL_PERIOD_DAYS,
        "fee_fixed_fen": settings.WUJI_WITHDRAWAL_FEE_FIXED_FEN,
        "fee_bps": settings.WUJI_WITHDRAWAL_FEE_BPS,
        "approval": settings.WUJI_WITHDRAWAL_APPROVAL,
        "auto_max_fen": settings.WUJI_WITHDRAWAL_AUTO_MAX_FEN,
    }


def withdrawable_fen(customer) -> int:
    """Cash only: gift credit is never withdrawable, frozen money is apart (LEDGER.md)."""
    return ledger.balances(customer)[AccountKind.CASH]


def _recent_count(customer) -> int:
    since = clock.now() - dt.timedelta(days=settings.WUJI_WITHDRAWAL_PERIOD_DAYS)
    return Withdrawal.objects.filter(customer=customer, kind=WithdrawalKind.WITHDRAWAL, created_at__gte=since).exclude(
        status__in=(WithdrawalStatus.REJECTED, WithdrawalStatus.CANCELLED)).count()


def check_withdrawal(customer, amount_fen: int, balances: dict[str, int]) -> int:
    """Every rule a withdrawal of `amount_fen` must pass, on the (locked) balances; returns the fee.
    Raises WithdrawalRefused naming the rule."""
    from wuji.billing import freezes
    from wuji.finance import services as finance
    from wuji.identity import services as identity

    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise WithdrawalRefused(_("请输入正确的提现金额。"), field="amount", code="invalid")
    if amount_fen < settings.WUJI_WITHDRAWAL_MIN_FEN:
        raise WithdrawalRefused(_("单笔提现金额不能低于 %(min)s。") % {
            "min": money.format_cny(settings.WUJI_WITHDRAWAL_MIN_FEN)}, field="amount", code="below_minimum")
    if amount_fen > settings.WUJI_WITHDRAWAL_MAX_FEN:
        raise WithdrawalRefused(_("单笔提现金额不能超过 %(max)s。") % {
            "max": money.format_cny(settings.WUJI_WITHDRAWAL_MAX_FEN)}, field="amount", code="above_maximum")
    if balances[AccountKind.FROZEN] > 0 or freezes.has_open_freeze(customer):
        raise WithdrawalRefused(_("您的账户有被冻结的资金（协议第 5.4 条），冻结处理完毕前不能提现。"),
                                code="funds_frozen")
    if identity.is_restricted(customer) or getattr(customer, "locked_at", None) or not customer.is_active:
        raise WithdrawalRefused(_("您的账户当前受限，不能提现。"), code="account_restricted")
    restrictions.require(customer, restrictions.RestrictedFunction.WITHDRAWAL, refuse=WithdrawalRefused)  # 4.5.2.2
    debt = finance.invoice_debt_fen(customer)
    if debt > 0:  # 欠票: fapiao issued for money since refunded must be settled before more money leaves
        raise WithdrawalRefused(
            _("您有 %(debt)s 的欠票（已开发票金额超过实际消费），请先红冲发票或继续消费抵扣后再提现。")
            % {"debt": money.format_cny(debt)}, code="invoice_debt")
    if _recent_count(customer) >= settings.WUJI_WITHDRAWAL_COUNT_LIMIT:
        raise WithdrawalRefused(_("%(days)s 天内最多提现 %(n)s 次，已达上限。") % {
            "days": settings.WUJI_WITHDRAWAL_PERIOD_DAYS, "n": settings.WUJI_WITHDRAWAL_COUNT_LIMIT},
            code="count_exceeded")
    fee = fee_for(amount_fen)
    cash = balances[AccountKind.CASH]
    if amount_fen + fee > cash:
        raise WithdrawalRefused(
            _("可提现金额不足：现金余额 %(cash)s，本次提现 %(amount)s（手续费 %(fee)s）。赠送金不可提现。") % {
                "cash": money.format_cny(cash), "amount": money.format_cny(amount_fen),
                "fee": money.format_cny(fee)}, field="amount", code="insufficient_balance")
    return fee


# --- Allocation over top-ups (原路退回, LIFO) ----------------------------------------------------------------


def refund_window_open(channel: str, paid_at, now) -> bool:
    """Whether the channel still refunds a payment made at `paid_at` (a setting per channel; -1 = always)."""
    days = settings.WUJI_REFUND_WINDOW_DAYS.get(channel)
    if days is None:
        return False
    try:
        gateway = gateways.get(channel)
    except gateways.GatewayError:
        return False
    if not gateway.supports_refund:
        return False
    return days < 0 or paid_at + dt.timedelta(days=days) >= now


def refundable_topups(customer) -> list[tuple[TopUp, int]]:
    """The customer's paid top-ups that can still take money back, newest first, with how much each can."""
    now = clock.now()
    taken = Sum("refunds__amount_fen", filter=Q(refunds__status__in=(RefundLegStatus.PENDING,
                                                                      RefundLegStatus.SUCCEEDED)))
    rows = (TopUp.objects.filter(customer=customer, status=TopUpStatus.PAID).annotate(taken=taken)
            .order_by("-paid_at", "-id"))
    result = []
    for topup in rows:
        left = topup.amount_fen - (topup.taken or 0)
        if left > 0 and refund_window_open(topup.channel, topup.paid_at, now):
            result.append((topup, left))
    return result


def allocate(customer, amount_fen: int) -> tuple[list[tuple[TopUp, int]], int]:
    """Split `amount_fen` over refundable top-ups newest first; returns (legs, remainder for a bank payout)."""
    legs, left = [], amount_fen
    for topup, available in refundable_topups(customer):
        if left == 0:
            break
        part = min(left, available)
        legs.append((topup, part))
        left -= part
    return legs, left


def _refund_no() -> str:
    return f"R{clock.local_now():%Y%m%d%H%M%S}{secrets.token_hex(6).upper()}"


def _create_legs(withdrawal: Withdrawal, bank_account: BankAccount | None) -> list[Refund]:
    legs, remainder = allocate(withdrawal.customer, withdrawal.amount_fen)
    now = clock.now()
    rows = [Refund(refund_no=_refund_no(), withdrawal=withdrawal, customer=withdrawal.customer, topup=topup,
                   channel=topup.channel, amount_fen=part, created_at=now, updated_at=now) for topup, part in legs]
    if remainder:
        rows.append(Refund(refund_no=_refund_no(), withdrawal=withdrawal, customer=withdrawal.customer,
                           bank_account=bank_account, channel=BANK_CHANNEL, amount_fen=remainder, created_at=now,
                           updated_at=now))
    return Refund.objects.bulk_create(rows)


def _enqueue_payout(withdrawal: Withdrawal) -> None:
    from . import tasks

    tasks.pay_out_withdrawal.enqueue(withdrawal_id=withdrawal.pk)


# --- Withdrawals ----------------------------------------------------------------------------------------


def withdrawals_of(customer):
    return Withdrawal.objects.filter(customer=customer, kind=WithdrawalKind.WITHDRAWAL)


def request_withdrawal(*, customer, amount_fen: int, idempotency_key: str, factor: str, channel: str,
                       ip: str | None, bank_account: BankAccount | None = None) -> Withdrawal:
    """Withdraw cash (提现). Takes the money off the balance at once (with the fee) and allocates it over the
    top-ups; finance approves it, unless automatic approval applies. A retry with the same key returns the
    first withdrawal. `factor` is the step-up verification the caller checked (clause 3.1.2)."""
    existing = withdrawals_of(customer).filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    if bank_account is not None and (bank_account.customer_id != customer.pk or bank_account.removed_at):
        raise WithdrawalRefused(_("请选择您自己的银行账户。"), field="bank_account", code="invalid")
    now = clock.now()
    try:
        with transaction.atomic():
            locked = ledger.balances(customer, lock=True)  # the same lock a purchase takes: they serialise
            fee = check_withdrawal(customer, amount_fen, locked)
            legs, remainder = allocate(customer, amount_fen)
            if remainder and bank_account is None:
                raise WithdrawalRefused(
                    _("%(amount)s 无法原路退回（例如银行转账充值，或已超过渠道退款期限），请选择收款银行账户。")
                    % {"amount": money.format_cny(remainder)}, field="bank_account", code="bank_account_required")
            cash = ledger.customer_account_code(customer.pk, AccountKind.CASH)
            txn = ledger.post(
                key=f"withdrawal:{customer.pk}:{idempotency_key}", kind=TransactionKind.WITHDRAWAL,
                legs=[(cash, -(amount_fen + fee)), (PlatformAccount.PAYABLE_REFUNDS, amount_fen),
                      (PlatformAccount.INCOME_FEES, fee)],
                customer=customer, cause=("withdrawal", idempotency_key),
                memo=_("提现 %(amount)s") % {"amount": money.format_cny(amount_fen)},
            )
            auto = (settings.WUJI_WITHDRAWAL_APPROVAL == "auto" and amount_fen <= settings.WUJI_WITHDRAWAL_AUTO_MAX_FEN)
            withdrawal = Withdrawal.objects.create(
                customer=customer, kind=WithdrawalKind.WITHDRAWAL, amount_fen=amount_fen, fee_fen=fee,
                status=WithdrawalStatus.PROCESSING if auto else WithdrawalStatus.AWAITING_APPROVAL,
                bank_account=bank_account if remainder else None, idempotency_key=idempotency_key, factor=factor,
                created_at=now, decided_at=now if auto else None, hold_transaction=txn,
            )
            _create_legs(withdrawal, withdrawal.bank_account)
            audit.record(actor=customer, owner=customer, channel=channel, action="withdrawal.request",
                         target=withdrawal, ip=ip,
                         params={"amount_fen": amount_fen, "fee_fen": fee, "factor": factor, "auto_approved": auto,
                                 "bank_account": bank_account.masked if bank_account and remainder else ""})
            if auto:
                _enqueue_payout(withdrawal)
    except ledger.InsufficientFunds as exc:
        raise WithdrawalRefused(_("可提现金额不足。"), field="amount", code="insufficient_balance") from exc
    except IntegrityError:
        existing = withdrawals_of(customer).filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return withdrawal


def _locked(withdrawal: Withdrawal) -> Withdrawal:
    return Withdrawal.objects.select_for_update().select_related("customer").get(pk=withdrawal.pk)


def approve_withdrawal(withdrawal: Withdrawal, *, staff, ip: str | None = None) -> Withdrawal:
    _require_finance(staff)
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        if withdrawal.status != WithdrawalStatus.AWAITING_APPROVAL:
            raise WithdrawalRefused(_("只有待审核的提现可以通过。"), code="not_awaiting_approval")
        withdrawal.status, withdrawal.decided_at, withdrawal.decided_by = (
            WithdrawalStatus.PROCESSING, clock.now(), staff)
        withdrawal.save(update_fields=["status", "decided_at", "decided_by"])
        audit.record(actor=staff, owner=withdrawal.customer, channel=Channel.STAFF, action="withdrawal.approve",
                     target=withdrawal, params={"amount_fen": withdrawal.amount_fen}, ip=ip)
        _enqueue_payout(withdrawal)
    return withdrawal


def _undo(withdrawal: Withdrawal, status: str, reason: str, actor) -> None:
    """Reverse the acceptance transaction (money and fee back) and cancel the legs; caller holds the lock."""
    reversal = ledger.reverse(withdrawal.hold_transaction, memo=_("提现撤回 #%(pk)s") % {"pk": withdrawal.pk})
    Refund.objects.filter(withdrawal=withdrawal, status=RefundLegStatus.PENDING).update(
        status=RefundLegStatus.CANCELLED, updated_at=clock.now())
    withdrawal.status, withdrawal.reversal_transaction = status, reversal
    withdrawal.decided_at, withdrawal.decision_reason = clock.now(), reason[:500]
    withdrawal.decided_by = actor if actor is not None and actor.pk != withdrawal.customer_id else None
    withdrawal.save(update_fields=["status", "reversal_transaction", "decided_at", "decision_reason", "decided_by"])
    _record_outcome(withdrawal, succeeded=False, detail=reason or status)


def reject_withdrawal(withdrawal: Withdrawal, *, staff, reason: str, ip: str | None = None) -> Withdrawal:
    _require_finance(staff)
    reason = (reason or "").strip()
    if not reason:
        raise WithdrawalRefused(_("请填写驳回原因。"), field="reason", code="invalid")
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        if withdrawal.status != WithdrawalStatus.AWAITING_APPROVAL:
            raise WithdrawalRefused(_("只有待审核的提现可以驳回。"), code="not_awaiting_approval")
        _undo(withdrawal, WithdrawalStatus.REJECTED, reason, staff)
        audit.record(actor=staff, owner=withdrawal.customer, channel=Channel.STAFF, action="withdrawal.reject",
                     target=withdrawal, params={"reason": reason}, ip=ip)
        notify(withdrawal.customer, notices.WITHDRAWAL_REJECTED.code,
               {"amount": money.format_cny(withdrawal.amount_fen), "reason": reason})
    return withdrawal


def cancel_withdrawal(withdrawal: Withdrawal, *, actor, channel: str, ip: str | None = None) -> Withdrawal:
    """The customer takes back a withdrawal still awaiting approval."""
    with transaction.atomic():
        withdrawal = _locked(withdrawal)
        if withdrawal.kind != WithdrawalKind.WITHDRAWAL or withdrawal.status != WithdrawalStatus.AWAITING_APPROVAL:
            raise WithdrawalRefused(_("只有待审核的提现可以取消。"), code="not_awaiting_approval")
        _undo(withdrawal, WithdrawalStatus.CANCELLED, "", actor)
        audit.record(actor=actor, owner=withdrawal.customer, channel=channel, action="withdrawal.cancel",
                     target=withdrawal, params={}, ip=ip)
    return withdrawal


# --- Frozen funds returned to their source (5.4.7) -----------------------------------------------------------


def refund_frozen(*, freeze, amount_fen: int) -> Withdrawal:
    """Return `amount_fen` of a freeze's frozen money to the customer's payment sources: posts
    `cust:frozen −F, payable:refunds +F` with the legs, approved at once (staff decided under 5.4.7).
    Called by billing.freezes inside its transaction, which records the instruction."""
    customer = freeze.customer
    number = Withdrawal.objects.filter(freeze=freeze).count() + 1
    key = f"freeze:{freeze.pk}:{number}"
    with transaction.atomic():
        ledger.balances(customer, lock=True)
        txn = ledger.post(
            key=f"freeze-refund:{freeze.pk}:{number}", kind=TransactionKind.REFUND,
            legs=[(ledger.customer_account_code(customer.pk, AccountKind.FROZEN), -amount_fen),
                  (PlatformAccount.PAYABLE_REFUNDS, amount_fen)],
            customer=customer, cause=("freeze", freeze.pk),
            memo=_("冻结资金原路退回 %(amount)s") % {"amount": money.format_cny(amount_fen)},
        )
        bank_account = bank_accounts_of(customer).first()
        now = clock.now()
        withdrawal = Withdrawal.objects.create(
            customer=customer, kind=WithdrawalKind.FROZEN_REFUND, amount_fen=amount_fen,
            status=WithdrawalStatus.PROCESSING, freeze=freeze, idempotency_key=key, created_at=now, decided_at=now,
            hold_transaction=txn,
        )
        legs = _create_legs(withdrawal, bank_account)
        if any(leg.is_bank_payout for leg in legs) and bank_account is not None:
            Withdrawal.objects.filter(pk=withdrawal.pk).update(bank_account=bank_account)
        _enqueue_payout(withdrawal)
    return withdrawal


# --- Paying the legs ----------------------------------------------------------------------------------------


def _kind_of(withdrawal: Withdrawal) -> str:
    return TransactionKind.WITHDRAWAL if withdrawal.kind == WithdrawalKind.WITHDRAWAL else TransactionKind.REFUND


def _balance_of(withdrawal: Withdrawal) -> str:
    return AccountKind.CASH if withdrawal.kind == WithdrawalKind.WITHDRAWAL else AccountKind.FROZEN


def pay_out(withdrawal_id: int) -> None:
    """Send every pending channel leg of a withdrawal being processed (the task's body; safe to run twice)."""
    ids = Refund.objects.filter(withdrawal_id=withdrawal_id, status=RefundLegStatus.PENDING,
                                withdrawal__status=WithdrawalStatus.PROCESSING).exclude(
        channel=BANK_CHANNEL).values_list("pk", flat=True)
    for refund_id in list(ids):
        send_refund(refund_id)


def send_refund(refund_id: int) -> str:
    """Ask the channel to refund one leg, outside any transaction, then record what it said. A channel that
    already accepted the leg is queried instead. Returns the leg's status afterwards."""
    refund = Refund.objects.select_related("topup", "withdrawal").get(pk=refund_id)
    if (refund.status != RefundLegStatus.PENDING or refund.is_bank_payout
            or refund.withdrawal.status != WithdrawalStatus.PROCESSING):
        return refund.status
    topup = refund.topup
    try:
        gateway = gateways.get(refund.channel)
        if refund.accepted:
            result = gateway.query_refund(out_trade_no=topup.out_trade_no, refund_no=refund.refund_no)
        else:
            result = gateway.refund(out_trade_no=topup.out_trade_no, channel_trade_no=topup.channel_trade_no,
                                    refund_no=refund.refund_no, amount_fen=refund.amount_fen,
                                    total_fen=topup.amount_fen, reason=str(_("余额退款")))
    except gateways.GatewayError as exc:
        Refund.objects.filter(pk=refund.pk, status=RefundLegStatus.PENDING).update(
            attempts=refund.attempts + 1, last_error=str(exc)[:500], updated_at=clock.now())
        return RefundLegStatus.PENDING
    return apply_refund_result(refund.pk, result)


def apply_refund_result(refund_id: int, result: gateways.RefundResult) -> str:
    """Record a channel's answer for one leg; idempotent (a final leg is never changed again)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("withdrawal").get(pk=refund_id)
        if refund.status != RefundLegStatus.PENDING:
            return refund.status
        refund.attempts += 1
        refund.updated_at = clock.now()
        refund.channel_refund_no = result.channel_refund_no or refund.channel_refund_no
        if result.status == gateways.RefundStatus.SUCCEEDED:
            _succeed(refund)
        elif result.status == gateways.RefundStatus.FAILED:
            _fail(refund, result.message or str(_("支付渠道拒绝退款")))
        else:
            refund.accepted, refund.last_error = True, ""
            refund.save(update_fields=["attempts", "updated_at", "channel_refund_no", "accepted", "last_error"])
    return refund.status


def _succeed(refund: Refund, *, staff=None) -> None:
    withdrawal = refund.withdrawal
    txn = ledger.post(
        key=f"refund-paid:{refund.refund_no}", kind=_kind_of(withdrawal),
        legs=[(PlatformAccount.PAYABLE_REFUNDS, -refund.amount_fen),
              (PlatformAccount.clearing(refund.channel), refund.amount_fen)],
        customer=refund.customer, cause=("refund", refund.refund_no),
        memo=_("退款 %(no)s 已退回") % {"no": refund.refund_no},
    )
    refund.status, refund.ledger_transaction, refund.completed_at = RefundLegStatus.SUCCEEDED, txn, clock.now()
    refund.last_error, refund.paid_by = "", staff
    refund.save()
    _settle(withdrawal)


def _fail(refund: Refund, error: str) -> None:
    """A final refusal: the leg's money goes back where it came from (cash, or frozen for a frozen refund)."""
    withdrawal = refund.withdrawal
    balance = _balance_of(withdrawal)
    txn = ledger.post(
        key=f"refund-failed:{refund.refund_no}", kind=TransactionKind.CORRECTION,
        legs=[(PlatformAccount.PAYABLE_REFUNDS, -refund.amount_fen),
              (ledger.customer_account_code(refund.customer_id, balance), refund.amount_fen)],
        customer=refund.customer, cause=("refund", refund.refund_no),
        memo=_("退款 %(no)s 失败，款项退回余额") % {"no": refund.refund_no},
    )
    refund.status, refund.return_transaction, refund.completed_at = RefundLegStatus.FAILED, txn, clock.now()
    refund.last_error = error[:500]
    refund.save()
    audit.record(actor=None, owner=refund.customer, channel=Channel.SYSTEM, action="refund.failed", target=refund,
                 params={"amount_fen": refund.amount_fen, "channel": refund.channel, "error": error[:200]})
    if withdrawal.freeze_id:
        from wuji.billing import freezes

        freezes.refund_returned(withdrawal.freeze_id, refund.amount_fen)
    channel_label = PaymentChannel.label(refund.channel) if refund.channel in PaymentChannel.values() else (
        _("银行账户") if refund.channel == BANK_CHANNEL else refund.channel)
    notify(refund.customer, notices.REFUND_FAILED.code, {
        "amount": money.format_cny(refund.amount_fen), "refund_no": refund.refund_no, "error": error[:200],
        "channel": channel_label, "kind": WithdrawalKind.label(withdrawal.kind),
        "balance": AccountKind.label(balance),
    })
    _settle(withdrawal)


def _settle(withdrawal: Withdrawal) -> None:
    """When no leg is pending any more, close the withdrawal; if nothing was paid out, return the fee too."""
    legs = list(Refund.objects.filter(withdrawal=withdrawal).values_list("status", "amount_fen"))
    if any(status == RefundLegStatus.PENDING for status, _amount in legs):
        return
    paid = sum(amount for status, amount in legs if status == RefundLegStatus.SUCCEEDED)
    returned = sum(amount for status, amount in legs if status == RefundLegStatus.FAILED)
    withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
    if withdrawal.status != WithdrawalStatus.PROCESSING:
        return
    if paid == 0:
        withdrawal.status = WithdrawalStatus.FAILED
        if withdrawal.fee_fen:
            ledger.post(
                key=f"withdrawal-fee-back:{withdrawal.pk}", kind=TransactionKind.CORRECTION,
                legs=[(PlatformAccount.INCOME_FEES, -withdrawal.fee_fen),
                      (ledger.customer_account_code(withdrawal.customer_id, AccountKind.CASH), withdrawal.fee_fen)],
                customer=withdrawal.customer, cause=("withdrawal", withdrawal.pk), memo=_("提现失败，退回手续费"),
            )
    else:
        withdrawal.status = WithdrawalStatus.PARTIAL if returned else WithdrawalStatus.COMPLETED
    withdrawal.completed_at = clock.now()
    withdrawal.save(update_fields=["status", "completed_at"])
    _record_outcome(withdrawal, succeeded=paid > 0, detail="" if withdrawal.status == WithdrawalStatus.COMPLETED else (
        f"{withdrawal.status}: paid {paid} fen, returned {returned} fen"))
    notify(withdrawal.customer, notices.WITHDRAWAL_FINISHED.code, {
        "kind": WithdrawalKind.label(withdrawal.kind), "amount": money.format_cny(withdrawal.amount_fen),
        "paid": money.format_cny(paid), "returned": money.format_cny(returned) if returned else "",
    })


def _instruction_of(withdrawal: Withdrawal):
    """The accepted instruction a withdrawal carries out: the customer's request, or for a frozen refund the
    decision that applied the freeze's refund outcome (billing.freezes)."""
    from wuji.audit.models import Instruction

    if withdrawal.kind == WithdrawalKind.WITHDRAWAL:
        found = Instruction.objects.filter(action="withdrawal.request", target_type="withdrawal",
                                           target_id=str(withdrawal.pk), refers_to__isnull=True)
    else:
        found = Instruction.objects.filter(action="funds.freeze_outcome", target_type="freeze",
                                           target_id=str(withdrawal.freeze_id), refers_to__isnull=True,
                                           params__withdrawal=withdrawal.pk)
    return found.order_by("seq").first()


def _record_outcome(withdrawal: Withdrawal, *, succeeded: bool, detail: str) -> None:
    """Close the withdrawal's instruction with its outcome (once: the caller holds the withdrawal's lock and
    moves it out of an open status in the same transaction)."""
    instruction = _instruction_of(withdrawal)
    if instruction is not None and not instruction.outcomes.exists():
        audit.record_outcome(instruction, succeeded=succeeded, detail=detail)


def mark_bank_payout_paid(refund: Refund, *, staff, reference: str, ip: str | None = None) -> Refund:
    """Finance confirms they transferred a bank payout leg by hand (with the bank's reference)."""
    _require_finance(staff)
    reference = (reference or "").strip()
    if not reference:
        raise WithdrawalRefused(_("请填写银行转账流水号。"), field="reference", code="invalid")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("withdrawal").get(pk=refund.pk)
        if not refund.is_bank_payout or refund.status != RefundLegStatus.PENDING:
            raise WithdrawalRefused(_("只有待打款的银行转账退款可以标记为已打款。"), code="not_pending_bank_payout")
        if refund.withdrawal.status != WithdrawalStatus.PROCESSING:
            raise WithdrawalRefused(_("该提现尚未审核通过。"), code="not_approved")
        refund.channel_refund_no, refund.attempts, refund.updated_at = reference[:64], refund.attempts + 1, clock.now()
        audit.record(actor=staff, owner=refund.customer, channel=Channel.STAFF, action="refund.mark_paid",
                     target=refund, params={"amount_fen": refund.amount_fen, "reference": reference[:64]}, ip=ip)
        _succeed(refund, staff=staff)
    return refund


def fail_refund(refund: Refund, *, staff, reason: str, ip: str | None = None) -> Refund:
    """Staff give up on a pending leg (a bank transfer bounced, a channel will never pay): its money goes back."""
    _require_finance(staff)
    reason = (reason or "").strip()
    if not reason:
        raise WithdrawalRefused(_("请填写原因。"), field="reason", code="invalid")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("withdrawal").get(pk=refund.pk)
        if refund.status != RefundLegStatus.PENDING or refund.withdrawal.status != WithdrawalStatus.PROCESSING:
            raise WithdrawalRefused(_("只有处理中的退款可以标记为失败。"), code="not_pending")
        _fail(refund, reason)  # moves money first: accounts are locked before the instruction chain
        audit.record(actor=staff, owner=refund.customer, channel=Channel.STAFF, action="refund.mark_failed",
                     target=refund, params={"reason": reason}, ip=ip)
    return refund


def retry_refund(refund: Refund, *, staff, ip: str | None = None) -> None:
    """Send a pending channel leg again now (same refund_no: the channel pays it at most once)."""
    from . import tasks

    _require_finance(staff)
    if refund.status != RefundLegStatus.PENDING or refund.is_bank_payout:
        raise WithdrawalRefused(_("只有处理中的渠道退款可以重试。"), code="not_pending")
    with transaction.atomic():
        audit.record(actor=staff, owner=refund.customer, channel=Channel.STAFF, action="refund.retry",
                     target=refund, params={"refund_no": refund.refund_no}, ip=ip)
        tasks.send_refund.enqueue(refund_id=refund.pk)


def retry_pending_refunds() -> int:
    """The periodic job: query accepted legs, resend legs whose call failed (below the attempt limit)."""
    ids = list(Refund.objects.filter(status=RefundLegStatus.PENDING, withdrawal__status=WithdrawalStatus.PROCESSING,
                                     attempts__lt=settings.WUJI_REFUND_MAX_ATTEMPTS).exclude(
        channel=BANK_CHANNEL).values_list("pk", flat=True))
    for refund_id in ids:
        send_refund(refund_id)
    return len(ids)
