"""Top-ups through payment channels. Money is credited only on a verified notice, exactly once."""

import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import clock
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind

from . import sandbox
from .choices import PaymentChannel, TopUpStatus
from .models import TopUp

MIN_TOPUP_FEN = 100  # 1 元
MAX_TOPUP_FEN = 50_000_000  # 50 万元 per top-up


class PaymentError(Exception):
    """Shown to the customer (or returned to the channel)."""


def create_topup(*, customer, amount_fen: int, channel: str, ip: str | None, via: str = "web") -> TopUp:
    if channel != PaymentChannel.SANDBOX or not sandbox.enabled():
        raise PaymentError(_("该支付方式未启用。"))
    if not MIN_TOPUP_FEN <= amount_fen <= MAX_TOPUP_FEN:
        raise PaymentError(_("充值金额须在 1 元至 500,000 元之间。"))
    with transaction.atomic():
        topup = TopUp.objects.create(
            customer=customer, channel=channel, amount_fen=amount_fen, created_at=clock.now(),
            out_trade_no=f"T{clock.local_now():%Y%m%d%H%M%S}{secrets.token_hex(6).upper()}",
        )
        audit.record(actor=customer, owner=customer, channel=via, action="topup.create", target=topup,
                     params={"amount_fen": amount_fen, "channel": channel}, ip=ip)
    return topup


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


def confirm_topup(*, out_trade_no: str, channel_trade_no: str, amount_fen: int, channel: str) -> TopUp:
    with transaction.atomic():
        topup = TopUp.objects.select_for_update().filter(out_trade_no=out_trade_no, channel=channel).first()
        if topup is None:
            raise PaymentError("unknown trade number")
        if topup.amount_fen != amount_fen:
            raise PaymentError("amount mismatch")
        if topup.status == TopUpStatus.PAID:
            return topup  # a repeated notice: already credited
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
    return topup


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


def topups_of(customer):
    return TopUp.objects.filter(customer=customer)
