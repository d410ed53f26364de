"""Gift credit (赠送金): promotions and compensation granted by staff. Spendable, never withdrawable or
invoiceable (LEDGER.md: expense:gift −A, cust:gift +A)."""

from django.db import transaction
from django.utils.translation import gettext as _

from wuji.audit import services as audit
from wuji.core import money
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind
from wuji.notifications import services as notifications
from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

MAX_GIFT_FEN = 10_000_00  # 1 万元 per grant; larger amounts are a finance decision outside the console

GIFT_GRANTED = declare(Event(
    code="billing.gift_granted",
    kind=NoticeKind.BILLING,
    subject_zh="您获得了 {{ amount }} 赠送金",
    body_zh="我们向您的账户发放了 {{ amount }} 赠送金（原因：{{ reason }}）。赠送金可用于购买和续费，"
            "不可提现，也不计入可开票金额。",
    subject_en="You have received {{ amount }} of gift credit",
    body_en="We have added {{ amount }} of gift credit to your account (reason: {{ reason }}). Gift credit can "
            "pay for purchases and renewals; it cannot be withdrawn and is not invoiceable.",
))


class GiftRefused(Exception):
    pass


def grant_gift(*, customer, amount_fen: int, reason: str, actor, key: str, ip: str | None = None):
    """Credit gift balance once per `key` (a retry returns the first grant), record it and tell the customer."""
    reason = (reason or "").strip()
    if not reason:
        raise GiftRefused(_("请填写发放原因。"))
    if not 1 <= amount_fen <= MAX_GIFT_FEN:
        raise GiftRefused(_("赠送金额须在 0.01 元至 10,000 元之间。"))
    with transaction.atomic():
        ledger.balances(customer, lock=True)  # one grant per customer at a time, so the replay check holds
        replay = audit.instructions_for(customer).filter(action="wallet.gift", params__key=key).exists()
        txn = ledger.post(
            key=f"gift:{key}", kind=TransactionKind.GIFT, customer=customer, cause=("gift", key),
            legs=[(PlatformAccount.EXPENSE_GIFT, -amount_fen),
                  (ledger.customer_account_code(customer.pk, AccountKind.GIFT), amount_fen)],
            memo=reason[:200],
        )
        if not replay:
            audit.record(actor=actor, owner=customer, channel="staff", action="wallet.gift", target=None,
                         params={"amount_fen": amount_fen, "reason": reason[:200], "key": key}, ip=ip)
            notifications.notify(customer, GIFT_GRANTED.code,
                                 {"amount": money.format_cny(amount_fen), "reason": reason})
    return txn
