"""Top-ups through payment channels. Money is credited only on a verified notice (or a verified query
answer, or a finance confirmation of a bank transfer), exactly once per channel trade number."""

import datetime as dt
import hashlib
import json
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.audit.choices import Channel
from wuji.core import clock, money
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind
from wuji.notifications import services as notifications

from . import gateways, sandbox
from .choices import BankTransferStatus, NoticeOutcome, PaymentChannel, TopUpStatus
from .models import BankTransfer, PaymentNotice, TopUp
from .storage import encrypted_file

log = logging.getLogger(__name__)

MIN_TOPUP_FEN = 100  # 1 元
MAX_TOPUP_FEN = 50_000_000  # 50 万元 per top-up
REVIEW_PERMISSION = "payments.review_banktransfer"
RECEIPT_TYPES = {b"%PDF": "application/pdf", b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}
BANK_TRANSFER_MAX_AGE_DAYS = 90


class PaymentError(Exception):
    """Shown to the customer (or returned to the channel). `field` names the input at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Opening a top-up --------------------------------------------------------------------------------


def online_channels() -> list[str]:
    """The channels a customer can open a top-up with now (bank transfers are declared instead)."""
    return [gateway.channel for gateway in gateways.available() if gateway.channel != PaymentChannel.BANK]


def _new_trade_no(prefix: str = "T") -> str:
    return f"{prefix}{clock.local_now():%Y%m%d%H%M%S}{secrets.token_hex(6).upper()}"


def _check_amount(amount_fen: int, field: str = "amount") -> None:
    if not MIN_TOPUP_FEN <= amount_fen <= MAX_TOPUP_FEN:
        raise PaymentError(_("充值金额须在 1 元至 500,000 元之间。"), field=field)


def create_topup(*, customer, amount_fen: int, channel: str, ip: str | None, via: str = "web") -> TopUp:
    """Open a top-up order on an enabled online channel. The channel call (if any) is a task after commit."""
    if channel not in online_channels():
        raise PaymentError(_("该支付方式未启用。"), field="channel")
    _check_amount(amount_fen)
    now = clock.now()
    with transaction.atomic():
        topup = TopUp.objects.create(
            customer=customer, channel=channel, amount_fen=amount_fen, created_at=now, out_trade_no=_new_trade_no(),
            expires_at=now + dt.timedelta(minutes=settings.WUJI_TOPUP_EXPIRY_MINUTES),
        )
        audit.record(actor=customer, owner=customer, channel=via, action="topup.create", target=topup,
                     params={"amount_fen": amount_fen, "channel": channel}, ip=ip)
        if channel == PaymentChannel.WECHAT:
            from . import tasks

            tasks.request_payment.enqueue(topup_id=topup.pk)
    return topup


def request_payment(topup_id: int) -> str:
    """The task after commit: get the WeChat code_url (a channel call) and keep it on the top-up."""
    topup = TopUp.objects.get(pk=topup_id)
    if topup.status != TopUpStatus.PENDING or topup.code_url:
        return "nothing to do"
    try:
        request = gateways.get(topup.channel).create_payment(topup)
    except gateways.GatewayError as exc:
        log.warning("payment request for %s failed: %s", topup.out_trade_no, exc)
        TopUp.objects.filter(pk=topup.pk, code_url="").update(channel_error=str(exc)[:200])
        return "failed"
    TopUp.objects.filter(pk=topup.pk).update(code_url=request.code_url[:512], channel_error="")
    return "ok"


def payment_request(topup: TopUp) -> gateways.PaymentRequest | None:
    """How to pay a pending top-up now: Alipay's signed page URL (built locally, no channel call), the stored
    WeChat code_url, or the sandbox page. None when it cannot be paid (paid, expired, channel off)."""
    if topup.status != TopUpStatus.PENDING or (topup.expires_at and topup.expires_at <= clock.now()):
        return None
    gateway = gateways.get(topup.channel)
    if not gateway.enabled():
        return None
    if topup.channel == PaymentChannel.WECHAT:
        return gateways.PaymentRequest(code_url=topup.code_url) if topup.code_url else None
    try:
        return gateway.create_payment(topup)
    except gateways.GatewayError:
        log.exception("cannot build the payment request for %s", topup.out_trade_no)
        return None


# --- Crediting ---------------------------------------------------------------------------------------


def _confirm(*, out_trade_no: str, channel_trade_no: str, amount_fen: int, channel: str) -> tuple[TopUp, bool]:
    """Credit the top-up once. Returns (top-up, whether this call credited it)."""
    if not channel_trade_no:
        raise PaymentError("no channel trade number")
    with transaction.atomic():
        topup = TopUp.objects.select_for_update().filter(out_trade_no=out_trade_no, channel=channel).first()
        if topup is None:
            raise PaymentError("unknown trade number")
        if topup.amount_fen != amount_fen:
            raise PaymentError("amount mismatch")
        if topup.status == TopUpStatus.PAID:
            return topup, False  # a repeated notice (or a query after the notice): already credited
        # A pending order, or one we closed as expired that the payer paid anyway (the channel took the money
        # at its edge of the deadline): either way the money arrived, so it is credited (decision 0014).
        customer = topup.customer
        txn = ledger.post(
            key=f"topup:{channel}:{channel_trade_no}",
            kind=TransactionKind.TOPUP,
            legs=[(PlatformAccount.clearing(channel), -amount_fen),
                  (ledger.customer_account_code(customer.pk, AccountKind.CASH), amount_fen)],
            customer=customer,
            cause=("topup", topup.pk),
            memo=_("充值 %(no)s") % {"no": topup.out_trade_no},
        )
        TopUp.objects.filter(pk=topup.pk).update(status=TopUpStatus.PAID, channel_trade_no=channel_trade_no,
                                                 ledger_transaction=txn, paid_at=clock.now())
        topup.refresh_from_db()
    return topup, True


def confirm_topup(*, out_trade_no: str, channel_trade_no: str, amount_fen: int, channel: str) -> TopUp:
    """Credit a top-up whose payment the channel confirmed (verified notice or query). Idempotent per
    channel trade number; refuses an unknown order or another amount, changing nothing."""
    return _confirm(out_trade_no=out_trade_no, channel_trade_no=channel_trade_no, amount_fen=amount_fen,
                    channel=channel)[0]


# --- The sandbox (demo) channel ----------------------------------------------------------------------


def handle_sandbox_notice(params: dict[str, str]) -> TopUp:
    """Verify the sandbox gateway's signed notice and credit the top-up once.

    Refuses a bad signature, an unknown trade number or a wrong amount, and changes nothing then.
    """
    if not sandbox.enabled():
        raise PaymentError("sandbox gateway disabled")
    if not sandbox.verify(params):
        raise PaymentError("bad signature")
    try:
        amount = int(params.get("amount_fen", ""))
    except ValueError as exc:
        raise PaymentError("bad amount") from exc
    channel_trade_no = params.get("trade_no", "")
    if not channel_trade_no or params.get("status") != "SUCCESS":
        raise PaymentError("not a success notice")
    return confirm_topup(out_trade_no=params.get("out_trade_no", ""), channel_trade_no=channel_trade_no,
                         amount_fen=amount, channel=PaymentChannel.SANDBOX)


def sandbox_pay(topup: TopUp) -> dict[str, str]:
    """What the sandbox gateway does when the payer clicks "pay": build its signed success notice."""
    params = {
        "out_trade_no": topup.out_trade_no,
        "trade_no": f"SBX{secrets.token_hex(8).upper()}",
        "amount_fen": str(topup.amount_fen),
        "status": "SUCCESS",
    }
    params["sign"] = sandbox.sign(params)
    return params


# --- Channel notices ---------------------------------------------------------------------------------


def _digest(parts: list[bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big") + part)
    return hasher.hexdigest()


def _storable(value, limit: int) -> str:
    return str(value).replace("\x00", "\ufffd")[:limit]


def _log_notice(channel: str, digest: str, ip: str | None, *, verified: bool, outcome: str, detail: str = "",
                summary: dict | None = None, notice: gateways.VerifiedNotice | None = None,
                topup: TopUp | None = None) -> PaymentNotice:
    # What the sender wrote is kept short: the log must not become a place to store arbitrary payloads. NUL
    # characters are replaced: PostgreSQL stores none in text or JSON, and a forged notice may carry any.
    summary = {_storable(k, 40): (v if isinstance(v, int | None) else _storable(v, 200))
               for k, v in (summary or {}).items()}
    summary = json.loads(json.dumps(dict(list(summary.items())[:20]), default=str))
    with transaction.atomic():
        return PaymentNotice.objects.create(
            channel=channel, received_at=clock.now(), ip=ip or None, digest=digest,
            repeated=PaymentNotice.objects.filter(digest=digest).exists(), verified=verified, outcome=outcome,
            detail=_storable(detail, 300), summary=summary, topup=topup,
            out_trade_no=_storable(notice.out_trade_no if notice else summary.get("out_trade_no", ""), 64),
            channel_trade_no=_storable(notice.channel_trade_no if notice else "", 64),
            amount_fen=notice.amount_fen if notice else None,
        )


def _receive(channel: str, digest: str, ip: str | None, verify) -> bool:
    """Verify, credit, log. True when the channel should be told the notice was handled."""
    gateway = gateways.get(channel)
    if not gateway.enabled():
        _log_notice(channel, digest, ip, verified=False, outcome=NoticeOutcome.REFUSED, detail="channel not enabled")
        return False
    try:
        notice = verify(gateway)
    except gateways.NoticeRejected as exc:
        _log_notice(channel, digest, ip, verified=exc.verified, outcome=NoticeOutcome.REFUSED, detail=str(exc),
                    summary=exc.summary)
        return False
    if not notice.paid:
        _log_notice(channel, digest, ip, verified=True, outcome=NoticeOutcome.IGNORED, detail="not a payment success",
                    summary=notice.summary, notice=notice)
        return True
    try:
        topup, credited = _confirm(out_trade_no=notice.out_trade_no, channel_trade_no=notice.channel_trade_no,
                                   amount_fen=notice.amount_fen, channel=channel)
    except PaymentError as exc:
        log.warning("%s notice for %s refused: %s", channel, notice.out_trade_no, exc)
        _log_notice(channel, digest, ip, verified=True, outcome=NoticeOutcome.REFUSED, detail=str(exc),
                    summary=notice.summary, notice=notice,
                    topup=TopUp.objects.filter(out_trade_no=notice.out_trade_no, channel=channel).first())
        return False
    detail = "" if credited else "already credited"
    if credited and topup.closed_at:
        detail = "paid after the order was closed as expired: credited"
    _log_notice(channel, digest, ip, verified=True,
                outcome=NoticeOutcome.CREDITED if credited else NoticeOutcome.DUPLICATE, detail=detail,
                summary=notice.summary, notice=notice, topup=topup)
    return True


def receive_alipay_notice(params: dict[str, str], *, ip: str | None = None) -> bool:
    """Alipay's asynchronous notice (the POSTed form). True: answer "success"; False: answer "fail"."""
    digest = _digest([f"{key}={params[key]}".encode() for key in sorted(params)])
    return _receive(PaymentChannel.ALIPAY, digest, ip, lambda gateway: gateway.verify_notice(params))


def receive_wechat_notice(headers, body: bytes, *, ip: str | None = None) -> bool:
    """WeChat Pay's callback (headers as received, raw body). True: answer 2xx; False: 4xx with a JSON error."""
    signed = [(headers.get(name) or "").encode() for name in ("Wechatpay-Timestamp", "Wechatpay-Nonce",
                                                              "Wechatpay-Signature", "Wechatpay-Serial")]
    digest = _digest([*signed, body])
    return _receive(PaymentChannel.WECHAT, digest, ip, lambda gateway: gateway.verify_notice(headers, body))


# --- Expiry and reconciliation -----------------------------------------------------------------------


def _deadline(topup: TopUp) -> dt.datetime:
    return topup.expires_at or topup.created_at + dt.timedelta(minutes=settings.WUJI_TOPUP_EXPIRY_MINUTES)


def expire_topup(topup_id: int) -> bool:
    """Close an unpaid top-up whose deadline passed. A notice arriving later still credits it."""
    now = clock.now()
    with transaction.atomic():
        topup = TopUp.objects.select_for_update().filter(pk=topup_id, status=TopUpStatus.PENDING).first()
        if topup is None or _deadline(topup) > now:
            return False
        TopUp.objects.filter(pk=topup.pk).update(status=TopUpStatus.EXPIRED, closed_at=now)
    return True


def reconcile_topups() -> dict[str, int]:
    """Ask each channel about top-ups pending for more than WUJI_TOPUP_QUERY_AFTER_MINUTES: credit the paid
    ones (the same once-only credit as a notice), close the expired unpaid ones. Channel errors leave the
    order pending for the next run. Runs as a task, outside any transaction (channel calls)."""
    now = clock.now()
    counts = {"queried": 0, "credited": 0, "expired": 0, "errors": 0}
    pending = TopUp.objects.filter(status=TopUpStatus.PENDING,
                                   created_at__lte=now - dt.timedelta(minutes=settings.WUJI_TOPUP_QUERY_AFTER_MINUTES))
    for topup in pending.order_by("id").iterator(chunk_size=200):
        gateway = gateways.get(topup.channel)
        state = None
        if gateway.enabled():
            try:
                state = gateway.query(out_trade_no=topup.out_trade_no)
                counts["queried"] += 1
            except gateways.GatewayError as exc:
                log.warning("query of %s failed: %s", topup.out_trade_no, exc)
                counts["errors"] += 1
                continue
        if state is not None and state.paid:
            try:
                _topup, credited = _confirm(out_trade_no=topup.out_trade_no, channel_trade_no=state.channel_trade_no,
                                            amount_fen=state.amount_fen if state.amount_fen is not None
                                            else topup.amount_fen, channel=topup.channel)
            except PaymentError as exc:
                log.error("channel says %s is paid but it cannot be credited: %s", topup.out_trade_no, exc)
                counts["errors"] += 1
                continue
            counts["credited"] += int(credited)
        elif _deadline(topup) <= now and expire_topup(topup.pk):
            counts["expired"] += 1
    return counts


# --- Bank transfers (对公转账) -----------------------------------------------------------------------


def bank_account() -> dict[str, str]:
    return {"name": settings.WUJI_BANK_ACCOUNT_NAME, "number": settings.WUJI_BANK_ACCOUNT_NUMBER,
            "bank": settings.WUJI_BANK_NAME}


def _receipt_type(data: bytes) -> str | None:
    return next((kind for magic, kind in RECEIPT_TYPES.items() if data.startswith(magic)), None)


def declare_bank_transfer(*, customer, amount_fen: int, payer_name: str, payer_bank: str, transfer_date: dt.date,
                          reference: str = "", receipt: bytes | None = None, ip: str | None = None,
                          via: str = "web") -> BankTransfer:
    """Record the customer's declaration of a transfer to our account; finance confirms what arrived."""
    if not gateways.get(PaymentChannel.BANK).enabled():
        raise PaymentError(_("对公转账暂未开放。"), field="channel")
    _check_amount(amount_fen)
    payer_name, payer_bank = (payer_name or "").strip(), (payer_bank or "").strip()
    reference = (reference or "").strip()
    if not payer_name:
        raise PaymentError(_("请填写付款账户名称。"), field="payer_name")
    if not payer_bank:
        raise PaymentError(_("请填写付款银行。"), field="payer_bank")
    today = clock.local_now().date()
    if transfer_date > today:
        raise PaymentError(_("转账日期不能晚于今天。"), field="transfer_date")
    if transfer_date < today - dt.timedelta(days=BANK_TRANSFER_MAX_AGE_DAYS):
        raise PaymentError(_("只能登记 90 天内的转账，更早的请提交工单。"), field="transfer_date")
    content_type = ""
    if receipt:
        if len(receipt) > settings.WUJI_BANK_RECEIPT_MAX_BYTES:
            raise PaymentError(_("回单文件过大。"), field="receipt")
        content_type = _receipt_type(receipt)
        if content_type is None:
            raise PaymentError(_("回单须为 PDF、PNG 或 JPEG 文件。"), field="receipt")
    with transaction.atomic():
        transfer = BankTransfer(customer=customer, amount_fen=amount_fen, payer_name=payer_name[:100],
                                payer_bank=payer_bank[:100], transfer_date=transfer_date, reference=reference[:100],
                                receipt_content_type=content_type, created_at=clock.now())
        if receipt:
            transfer.receipt.save("receipt.bin", encrypted_file(receipt), save=False)
        transfer.save()
        audit.record(actor=customer, owner=customer, channel=via, action="banktransfer.declare", target=transfer,
                     params={"amount_fen": amount_fen, "transfer_date": transfer_date.isoformat(),
                             "payer_bank": payer_bank, "receipt": bool(receipt)}, ip=ip)
    return transfer


def can_review(staff) -> bool:
    return bool(staff and staff.is_active and staff.is_staff and staff.has_perm(REVIEW_PERMISSION))


def _notice_context(transfer: BankTransfer) -> dict:
    return {"number": transfer.number, "transfer_date": transfer.transfer_date.isoformat(),
            "declared": money.format_cny(transfer.amount_fen),
            "received": money.format_cny(transfer.received_fen or 0), "reason": transfer.reason}


def confirm_bank_transfer(transfer: BankTransfer, staff, *, received_fen: int, ip: str | None = None) -> BankTransfer:
    """Finance confirms the amount that actually arrived (it may differ from the declaration) and it is
    credited, through clearing:bank, once: the ledger key is the declaration's."""
    if not can_review(staff):
        raise PaymentError(_("只有财务人员可以确认对公转账。"))
    if not isinstance(received_fen, int) or not 0 < received_fen <= MAX_TOPUP_FEN:
        raise PaymentError(_("到账金额须大于 0 且不超过 500,000 元。"), field="received")
    with transaction.atomic():
        transfer = BankTransfer.objects.select_for_update().select_related("customer").get(pk=transfer.pk)
        if transfer.status != BankTransferStatus.PENDING:
            raise PaymentError(_("该转账登记已处理（%(status)s），不会重复入账。")
                               % {"status": BankTransferStatus.label(transfer.status)})
        now = clock.now()
        topup = TopUp.objects.create(customer=transfer.customer, channel=PaymentChannel.BANK, amount_fen=received_fen,
                                     out_trade_no=_new_trade_no("B"), created_at=now)
        topup, _credited = _confirm(out_trade_no=topup.out_trade_no, channel_trade_no=transfer.number,
                                    amount_fen=received_fen, channel=PaymentChannel.BANK)
        BankTransfer.objects.filter(pk=transfer.pk).update(status=BankTransferStatus.CONFIRMED,
                                                           received_fen=received_fen, reviewed_by=staff,
                                                           reviewed_at=now, topup=topup)
        transfer.refresh_from_db()
        audit.record(actor=staff, owner=transfer.customer, channel=Channel.STAFF, action="banktransfer.confirm",
                     target=transfer, params={"declared_fen": transfer.amount_fen, "received_fen": received_fen},
                     ip=ip)
        notifications.notify(transfer.customer, "payments.bank_transfer_confirmed", _notice_context(transfer))
    return transfer


def reject_bank_transfer(transfer: BankTransfer, staff, *, reason: str, ip: str | None = None) -> BankTransfer:
    """Finance found no such money (or cannot match it): nothing is credited, the customer is told why."""
    if not can_review(staff):
        raise PaymentError(_("只有财务人员可以驳回对公转账。"))
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError(_("请填写驳回原因。"), field="reason")
    with transaction.atomic():
        transfer = BankTransfer.objects.select_for_update().select_related("customer").get(pk=transfer.pk)
        if transfer.status != BankTransferStatus.PENDING:
            raise PaymentError(_("该转账登记已处理（%(status)s）。")
                               % {"status": BankTransferStatus.label(transfer.status)})
        BankTransfer.objects.filter(pk=transfer.pk).update(status=BankTransferStatus.REJECTED, reason=reason[:500],
                                                           reviewed_by=staff, reviewed_at=clock.now())
        transfer.refresh_from_db()
        audit.record(actor=staff, owner=transfer.customer, channel=Channel.STAFF, action="banktransfer.reject",
                     target=transfer, params={"reason": reason[:200]}, ip=ip)
        notifications.notify(transfer.customer, "payments.bank_transfer_rejected", _notice_context(transfer))
    return transfer


# --- Reading -----------------------------------------------------------------------------------------


def topups_of(customer):
    return TopUp.objects.filter(customer=customer)


def bank_transfers_of(customer):
    return BankTransfer.objects.filter(customer=customer)
