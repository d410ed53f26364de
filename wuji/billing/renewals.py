"""Prepaid subscriptions (包年包月): renewal, plan changes with proration, refunds, and the expiry lifecycle
(3.5, 4.5.2.1, 5.1, 5.3). See docs/decisions/0015-subscriptions-renewals.md.

Exactly one renewal per period: every renewal names the period end its caller saw; the subscription row is
locked and compared; the renewal row is unique per (subscription, period end before) and the ledger key is
`renew:<subscription>:<period end>`. A second caller for the same period gets the first renewal back (same
number of cycles) or a clear "已续费" refusal.
"""

import dataclasses
import datetime as dt
import logging
from fractions import Fraction

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext as _

from wuji.accounts import restrictions
from wuji.audit import services as audit
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.compute import services as compute
from wuji.compute.choices import SuspensionReason, VmState
from wuji.core import clock, money
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind
from wuji.notifications import services as notifications

from . import notices
from .models import Subscription, SubscriptionCharge, SubscriptionNotice
from .subscription_choices import ChargeKind, SubscriptionState

log = logging.getLogger(__name__)
SYSTEM = "system"


class RenewalRefused(Exception):
    """Shown to the customer; `code` names it for the API."""

    def __init__(self, message: str, *, code: str = "renewal_refused"):
        super().__init__(message)
        self.code = code


class AlreadyRenewed(RenewalRefused):
    def __init__(self, message: str):
        super().__init__(message, code="already_renewed")


class InsufficientBalance(RenewalRefused):
    def __init__(self, message: str):
        super().__init__(message, code="insufficient_balance")


class ChangeRefused(RenewalRefused):
    def __init__(self, message: str, *, code: str = "change_refused"):
        super().__init__(message, code=code)


def subscriptions_of(customer):
    """Every subscription a customer can reach (owner boundary), newest first."""
    return Subscription.objects.filter(customer=customer).select_related("server", "plan", "region")


def _local(moment: dt.datetime) -> str:
    return formats.date_format(moment.astimezone(clock.SHANGHAI), "Y-m-d H:i")


def _yuan(fen: int) -> str:
    return str(money.fen_to_yuan(fen))


def _months(cycle: str) -> int:
    return BillingCycle.MONTHS[cycle]


def _split(txn) -> tuple[int, int]:
    """(cash, gift) of a charge or refund, read from its revenue postings (positive for a charge)."""
    amounts = dict(txn.postings.filter(account__code__in=[PlatformAccount.REVENUE_CASH, PlatformAccount.REVENUE_GIFT])
                   .values_list("account__code", "amount"))
    return amounts.get(PlatformAccount.REVENUE_CASH, 0), amounts.get(PlatformAccount.REVENUE_GIFT, 0)


def _charge(customer, *, amount: int, key: str, cause, memo: str):
    from . import services as billing

    try:
        return billing.charge(customer, amount=amount, key=key, cause=cause, memo=memo)
    except ledger.InsufficientFunds as exc:
        raise InsufficientBalance(_("余额不足：还需 %(yuan)s 元，请先充值。") % {"yuan": _yuan(exc.shortfall)}) from exc


def _refund(sub: Subscription, *, amount: int, key: str, memo: str) -> tuple[object | None, int, int]:
    """Give back `amount` fen of this subscription's unused prepaid time, split over cash and gift in the
    proportion it was paid (LEDGER.md "Refund of an unused prepaid period"). The gift part is rounded down,
    so any odd fen goes back as cash."""
    paid = sub.paid_cash_fen + sub.paid_gift_fen
    amount = min(amount, paid)
    if amount <= 0:
        return None, 0, 0
    r_gift = amount * sub.paid_gift_fen // paid
    r_cash = amount - r_gift
    cust = sub.customer_id
    txn = ledger.post(key=key, kind=TransactionKind.REFUND, customer=sub.customer, cause=("subscription", sub.pk),
                      memo=memo, legs=[
                          ledger.Leg(PlatformAccount.REVENUE_CASH, -r_cash),
                          ledger.Leg(ledger.customer_account_code(cust, AccountKind.CASH), r_cash),
                          ledger.Leg(PlatformAccount.REVENUE_GIFT, -r_gift),
                          ledger.Leg(ledger.customer_account_code(cust, AccountKind.GIFT), r_gift),
                      ])
    return txn, r_cash, r_gift


# --- Creation (called by place_order in its transaction) ---------------------------------------------------


def open_subscription(order, *, at: dt.datetime) -> Subscription:
    """The subscription of a newly ordered prepaid server, paid by the order's charge."""
    cash, gift = _split(order.ledger_transaction)
    months = _months(order.cycle)
    end = clock.add_months(at, months)
    sub = Subscription.objects.create(
        customer=order.customer, server=order.server, order=order, region=order.region, plan=order.plan,
        cycle=order.cycle, price=order.price, price_fen=order.amount_fen, started_at=at, term_months=months,
        period_start=at, period_end=end, paid_cash_fen=cash, paid_gift_fen=gift, created_at=at,
    )
    SubscriptionCharge.objects.create(
        subscription=sub, kind=ChargeKind.ORDER, cycles=1, amount_fen=order.amount_fen, cash_fen=cash, gift_fen=gift,
        period_end_before=at, period_end_after=end, plan_before=order.plan, plan_after=order.plan,
        ledger_transaction=order.ledger_transaction, created_at=at,
    )
    return sub


# --- Renewal -----------------------------------------------------------------------------------------------


def renewal_price(sub: Subscription):
    """(price row, fen per cycle) a renewal charges: the recorded price, or the price in force if that is
    lower (a price cut reaches existing customers at their next renewal; a rise does not)."""
    try:
        current = catalog.price_in_force(plan=sub.plan, region=sub.region, cycle=sub.cycle)
    except catalog.NotOnSale:
        return sub.price, sub.price_fen
    if current.amount_fen < sub.price_fen:
        return current, current.amount_fen
    return sub.price, sub.price_fen


@dataclasses.dataclass(frozen=True)
class Renewal:
    charge: SubscriptionCharge
    replayed: bool


def renew(sub: Subscription, *, cycles: int, expected_period_end: dt.datetime, actor, channel: str,
          ip: str | None = None, request_key: str = "") -> Renewal:
    """Extend `sub` by `cycles` cycles from the period end the caller saw (`expected_period_end`), charging
    the renewal price from the balance; an expired subscription extends from its old expiry and its server
    is resumed. Exactly once per period: see the module docstring."""
    if isinstance(cycles, bool) or not isinstance(cycles, int) or not 1 <= cycles <= settings.WUJI_RENEW_MAX_CYCLES:
        raise RenewalRefused(_("续费周期数须为 1 至 %(max)s 之间的整数。") % {"max": settings.WUJI_RENEW_MAX_CYCLES},
                             code="cycles_invalid")
    if not isinstance(expected_period_end, dt.datetime) or expected_period_end.tzinfo is None:
        raise RenewalRefused(_("请提供带时区的当前到期时间。"), code="expected_period_end_invalid")
    if request_key:
        first = SubscriptionCharge.objects.filter(subscription=sub, request_key=request_key).first()
        if first is not None:
            return Renewal(first, replayed=True)
    try:
        with transaction.atomic():
            return _renew_locked(sub.pk, cycles=cycles, expected=expected_period_end, actor=actor, channel=channel,
                                 ip=ip, request_key=request_key, customer_id=sub.customer_id)
    except IntegrityError:
        # A concurrent caller (SQLite without row locks) renewed this period first.
        first = SubscriptionCharge.objects.filter(subscription_id=sub.pk, kind=ChargeKind.RENEWAL,
                                                  period_end_before=expected_period_end).first()
        if first is None:
            raise
        return _same_or_refuse(first, cycles)


def _same_customer(sub: Subscription, customer_id: int) -> None:
    """The subscription still belongs to the customer the caller loaded it for: a server pushed to another
    account meanwhile (issue 5: push) is never renewed or changed at the new owner's expense by the old one."""
    if sub.customer_id != customer_id:
        raise RenewalRefused(_("该服务器已转让给其他账户。"), code="owner_changed")


def _same_or_refuse(first: SubscriptionCharge, cycles: int) -> Renewal:
    if first.cycles == cycles:
        return Renewal(first, replayed=True)
    raise AlreadyRenewed(_("该服务器本期已续费，当前到期时间为 %(end)s；如需继续续费，请刷新后重试。") % {
        "end": _local(first.period_end_after)})


def _lock(subscriptions, *related) -> Subscription | None:
    """Lock the subscription row, then read it with its related rows. The lock is taken without joins on
    purpose: on PostgreSQL a FOR UPDATE over a join re-checks the join against the row's new version, so a
    subscription whose customer changed meanwhile (a server push) would silently match nothing. Read after
    the lock, the row and its relations are the latest committed ones."""
    pk = subscriptions.select_for_update().values_list("pk", flat=True).first()
    return None if pk is None else Subscription.objects.select_related(*related).get(pk=pk)


def _renew_locked(sub_id: int, *, cycles: int, expected, actor, channel: str, ip, request_key: str,
                  customer_id: int) -> Renewal:
    sub = _lock(Subscription.objects.filter(pk=sub_id), "customer", "server", "plan")
    if sub is None:
        raise Subscription.DoesNotExist
    _same_customer(sub, customer_id)
    if sub.period_end != expected:
        first = SubscriptionCharge.objects.filter(subscription=sub, kind=ChargeKind.RENEWAL,
                                                  period_end_before=expected).first()
        if first is not None:
            return _same_or_refuse(first, cycles)
        raise AlreadyRenewed(_("到期时间已变更为 %(end)s，请刷新后确认续费。") % {"end": _local(sub.period_end)})
    if sub.state not in SubscriptionState.LIVE:
        raise RenewalRefused(_("该服务器已释放，无法续费。"), code="released")
    # Restricted by staff (4.5.2.2): automatic renewals pass here too and are refused the same way.
    restrictions.require(sub.customer, restrictions.RestrictedFunction.RENEWAL, refuse=RenewalRefused)
    now = clock.now()
    price, per_cycle = renewal_price(sub)
    amount = per_cycle * cycles
    old_end = sub.period_end
    term = sub.term_months + _months(sub.cycle) * cycles
    new_end = clock.add_months(sub.started_at, term)
    txn = _charge(sub.customer, amount=amount, key=f"renew:{sub.pk}:{old_end.isoformat()}",
                  cause=("subscription", sub.pk), memo=_("续费 %(name)s %(cycles)s 个周期") % {
                      "name": sub.server.name, "cycles": cycles})
    cash, gift = _split(txn)
    charge = SubscriptionCharge.objects.create(
        subscription=sub, kind=ChargeKind.RENEWAL, cycles=cycles, amount_fen=amount, cash_fen=cash, gift_fen=gift,
        period_end_before=old_end, period_end_after=new_end, plan_before=sub.plan, plan_after=sub.plan,
        ledger_transaction=txn, request_key=request_key, channel=channel, created_at=now,
    )
    was_expired = sub.state == SubscriptionState.EXPIRED
    sub.term_months, sub.period_start, sub.period_end = term, old_end, new_end
    sub.price, sub.price_fen = price, per_cycle
    sub.paid_cash_fen += cash
    sub.paid_gift_fen += gift
    sub.state, sub.expired_at = SubscriptionState.ACTIVE, None
    sub.save(update_fields=["term_months", "period_start", "period_end", "price", "price_fen", "paid_cash_fen",
                            "paid_gift_fen", "state", "expired_at"])
    compute.set_expiry(sub.server, new_end)
    audit.record(actor=actor, owner=sub.customer, channel=channel, action="subscription.renew", target=sub.server,
                 params={"subscription": sub.pk, "cycles": cycles, "amount_fen": amount,
                         "period_end": new_end.isoformat()}, ip=ip)
    if was_expired or sub.server.suspension_reason == SuspensionReason.EXPIRY:
        # Lift the expiry suspension now; if an operation is in flight the lifecycle job retries.
        compute.resume(sub.server, reasons=[SuspensionReason.EXPIRY], actor=actor, channel=channel, ip=ip)
    notifications.notify(sub.customer, notices.RENEWED.code, {
        "name": sub.server.name, "cycles": cycles, "amount": _yuan(amount), "period_end": _local(new_end)})
    return Renewal(charge, replayed=False)


def set_auto_renew(sub: Subscription, *, enabled: bool, actor, channel: str, ip: str | None = None) -> Subscription:
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=sub.pk)
        if sub.state not in SubscriptionState.LIVE:
            raise RenewalRefused(_("该服务器已释放，无法设置自动续费。"), code="released")
        if sub.auto_renew != enabled:
            sub.auto_renew = enabled
            sub.save(update_fields=["auto_renew"])
            audit.record(actor=actor, owner=sub.customer, channel=channel, action="subscription.auto_renew",
                         target=sub.server, params={"subscription": sub.pk, "enabled": enabled}, ip=ip)
    return sub


def _try_auto_renew(sub: Subscription, *, notify_failure: bool) -> str:
    try:
        result = renew(sub, cycles=1, expected_period_end=sub.period_end, actor=None, channel=SYSTEM)
    except AlreadyRenewed:
        return "already"
    except InsufficientBalance:
        if notify_failure:
            days_left = max(0, -(-(sub.period_end - clock.now()) // dt.timedelta(days=1)))
            _notice_once(sub, f"renew_failed_{days_left}", notices.AUTO_RENEW_FAILED.code, {
                "name": sub.server.name, "period_end": _local(sub.period_end),
                "amount": _yuan(renewal_price(sub)[1])})
        return "failed"
    except RenewalRefused:
        return "refused"
    return "replayed" if result.replayed else "renewed"


def _auto_renew_due(customer=None):
    horizon = clock.now() + dt.timedelta(days=settings.WUJI_AUTO_RENEW_DAYS_BEFORE)
    due = Subscription.objects.filter(auto_renew=True, state__in=SubscriptionState.LIVE, period_end__lte=horizon)
    if customer is not None:
        due = due.filter(customer=customer)
    return due.select_related("server", "customer").order_by("period_end")


def auto_renew_due() -> dict:
    """Renew every auto-renew subscription within its renewal window (or expired, not yet released) by one
    cycle. Insufficient balance: the customer is told once a day; the next run tries again."""
    counts: dict[str, int] = {}
    for sub in _auto_renew_due():
        outcome = _try_auto_renew(sub, notify_failure=True)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def waiting_for_money(customer_id: int) -> bool:
    """Does a credit to this customer have anything to pay for now (one indexed query)?"""
    return _auto_renew_due().filter(customer_id=customer_id).exists()


def after_balance_credited(customer) -> dict:
    """A top-up (or any credit) arrived: retry the customer's due auto-renewals now, so an expired auto-renew
    server renews and starts again at once. Best called after the credit commits (`transaction.on_commit`);
    it never raises for a renewal that fails."""
    counts: dict[str, int] = {}
    for sub in _auto_renew_due(customer):
        try:
            outcome = _try_auto_renew(sub, notify_failure=False)
        except Exception:  # a credit must never fail because a renewal did; the lifecycle job retries
            log.exception("auto-renewal of subscription %s after a credit failed", sub.pk)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- Plan changes with proration ---------------------------------------------------------------------------


def remaining_cycles(sub: Subscription, at: dt.datetime) -> Fraction:
    """How many cycles of the paid term are still unused at `at`, exactly: whole cycles counted back from the
    period end, plus the unused fraction of the cycle `at` falls in (by its own length in microseconds, so
    February's days weigh more than March's)."""
    if at >= sub.period_end:
        return Fraction(0)
    step = _months(sub.cycle)
    total = sub.term_months // step
    boundaries = [clock.add_months(sub.started_at, i * step) for i in range(total + 1)]
    if at <= boundaries[0]:
        return Fraction(total)
    micro = dt.timedelta(microseconds=1)
    for index in range(total):
        start, end = boundaries[index], boundaries[index + 1]
        if start <= at < end:
            return (total - index - 1) + Fraction((end - at) // micro, (end - start) // micro)
    return Fraction(0)


@dataclasses.dataclass(frozen=True)
class ChangeQuote:
    """A plan change priced at `at`. `amount_fen` > 0 is charged (upgrade), < 0 refunded (downgrade).

    Rounding: the exact prorated amount is rounded DOWN to the fen in both directions (抹零, as for hourly
    charges): an upgrade charges at most the exact amount, a downgrade refunds at most the exact amount."""

    subscription: Subscription
    plan: object
    price: object
    old_price_fen: int
    new_price_fen: int
    remaining: Fraction
    amount_fen: int
    at: dt.datetime

    @property
    def kind(self) -> str:
        return ChargeKind.UPGRADE if self.new_price_fen >= self.old_price_fen else ChargeKind.DOWNGRADE


def prorate(diff_per_cycle: int, remaining: Fraction) -> int:
    """|diff| × remaining cycles rounded down to the fen, with diff's sign."""
    exact = abs(diff_per_cycle) * remaining
    amount = exact.numerator // exact.denominator
    return amount if diff_per_cycle >= 0 else -amount


def quote_change(sub: Subscription, plan, *, at: dt.datetime | None = None) -> ChangeQuote:
    at = at or clock.now()
    if sub.state != SubscriptionState.ACTIVE:
        raise ChangeRefused(_("只有有效期内的服务器可以变更配置，请先续费。"), code="not_active")
    if plan.pk == sub.plan_id:
        raise ChangeRefused(_("新配置与当前配置相同。"), code="same_plan")
    if not plan.is_active:
        raise ChangeRefused(_("所选配置已下架。"), code="plan")
    try:
        compute.check_resize(sub.server, disk_gib=plan.disk_gib)
    except compute.OperationRefused as exc:
        raise ChangeRefused(str(exc), code="disk_shrink") from exc
    try:
        price = catalog.price_in_force(plan=plan, region=sub.region, cycle=sub.cycle, at=at)
    except catalog.NotOnSale as exc:
        raise ChangeRefused(str(exc), code="plan") from exc
    remaining = remaining_cycles(sub, at)
    amount = prorate(price.amount_fen - sub.price_fen, remaining)
    return ChangeQuote(subscription=sub, plan=plan, price=price, old_price_fen=sub.price_fen,
                       new_price_fen=price.amount_fen, remaining=remaining, amount_fen=amount, at=at)


def change_plan(sub: Subscription, plan, *, actor, channel: str, request_key: str, ip: str | None = None,
                expected_amount: int | None = None) -> tuple[SubscriptionCharge, bool]:
    """Move a stopped server to another plan for the rest of its paid term: an upgrade charges the prorated
    difference, a downgrade refunds it (cash/gift in the proportion paid). Renewals then charge the new
    plan's price. `expected_amount` is the quoted amount the customer confirmed: an upgrade is never charged
    more than that (the prorated amount only falls as time passes). Returns (charge record, replayed)."""
    if not request_key:
        raise ValueError("a plan change needs an idempotency key")
    first = SubscriptionCharge.objects.filter(subscription=sub, request_key=request_key).first()
    if first is not None:
        return first, True
    try:
        with transaction.atomic():
            return _change_locked(sub.pk, plan, actor=actor, channel=channel, request_key=request_key, ip=ip,
                                  expected_amount=expected_amount, customer_id=sub.customer_id), False
    except IntegrityError:
        first = SubscriptionCharge.objects.filter(subscription=sub, request_key=request_key).first()
        if first is None:
            raise
        return first, True


def _change_locked(sub_id: int, plan, *, actor, channel, request_key, ip, expected_amount,
                   customer_id: int) -> SubscriptionCharge:
    sub = _lock(Subscription.objects.filter(pk=sub_id), "customer", "server", "plan", "region")
    if sub is None:
        raise Subscription.DoesNotExist
    _same_customer(sub, customer_id)
    if sub.server.vm_state != VmState.STOPPED or sub.server.task_state:
        raise ChangeRefused(_("请先关机，再变更配置。"), code="server_not_stopped")
    quote = quote_change(sub, plan)
    if expected_amount is not None and quote.amount_fen > expected_amount:
        raise ChangeRefused(_("价格已变更：现需支付 %(yuan)s 元，请重新确认。") % {"yuan": _yuan(quote.amount_fen)},
                            code="price_changed")
    old_plan = sub.plan
    key = f"plan:{sub.pk}:{request_key}"
    memo = _("变更配置 %(old)s → %(new)s") % {"old": old_plan.code, "new": plan.code}
    txn, cash, gift = None, 0, 0
    if quote.amount_fen > 0:
        txn = _charge(sub.customer, amount=quote.amount_fen, key=key, cause=("subscription", sub.pk), memo=memo)
        cash, gift = _split(txn)
    elif quote.amount_fen < 0:
        txn, r_cash, r_gift = _refund(sub, amount=-quote.amount_fen, key=key, memo=memo)
        cash, gift = -r_cash, -r_gift
    charge = SubscriptionCharge.objects.create(
        subscription=sub, kind=quote.kind, amount_fen=cash + gift, cash_fen=cash, gift_fen=gift,
        period_end_before=sub.period_end, period_end_after=sub.period_end, plan_before=old_plan, plan_after=plan,
        ledger_transaction=txn, request_key=request_key, channel=channel, created_at=quote.at,
    )
    sub.plan, sub.price, sub.price_fen = plan, quote.price, quote.new_price_fen
    sub.paid_cash_fen += cash
    sub.paid_gift_fen += gift
    sub.save(update_fields=["plan", "price", "price_fen", "paid_cash_fen", "paid_gift_fen"])
    audit.record(actor=actor, owner=sub.customer, channel=channel, action="subscription.change_plan",
                 target=sub.server, params={"subscription": sub.pk, "from": old_plan.code, "to": plan.code,
                                            "amount_fen": charge.amount_fen}, ip=ip)
    try:  # records the new size and enqueues the resize of the stopped instance, or refuses (all rolls back)
        compute.apply_plan(sub.server, plan=plan, actor=actor, channel=channel, ip=ip)
    except compute.OperationRefused as exc:
        raise ChangeRefused(str(exc), code="server_not_stopped") from exc
    if charge.amount_fen > 0:
        money_text = _("已扣费 %(yuan)s 元") % {"yuan": _yuan(charge.amount_fen)}
    elif charge.amount_fen < 0:
        money_text = _("已退还 %(yuan)s 元") % {"yuan": _yuan(-charge.amount_fen)}
    else:
        money_text = _("无需补差价")
    notifications.notify(sub.customer, notices.PLAN_CHANGED.code, {
        "name": sub.server.name, "old_plan": old_plan.name_zh, "new_plan": plan.name_zh, "money": money_text,
        "price": _yuan(sub.price_fen)})
    return charge


# --- Failed provisioning -----------------------------------------------------------------------------------


def refund_failed_provisioning(server_id: int) -> SubscriptionCharge | None:
    """The server of a prepaid order could not be created: refund everything paid into its subscription
    (cash and gift as paid), tell the customer, release the server. Idempotent."""
    with transaction.atomic():
        sub = _lock(Subscription.objects.filter(server_id=server_id), "customer", "server", "plan")
        if sub is None or sub.state == SubscriptionState.REFUNDED:
            return None
        if sub.server.vm_state != VmState.ERROR:
            return None  # recovered meanwhile (a retried spawn succeeded): nothing to refund
        now = clock.now()
        txn, r_cash, r_gift = _refund(sub, amount=sub.paid_cash_fen + sub.paid_gift_fen,
                                      key=f"provision-refund:{sub.pk}", memo=_("开通失败退款"))
        charge = SubscriptionCharge.objects.create(
            subscription=sub, kind=ChargeKind.PROVISIONING_REFUND, amount_fen=-(r_cash + r_gift), cash_fen=-r_cash,
            gift_fen=-r_gift, period_end_before=sub.period_end, period_end_after=now, plan_before=sub.plan,
            plan_after=sub.plan, ledger_transaction=txn, channel=SYSTEM, created_at=now,
        )
        sub.paid_cash_fen -= r_cash
        sub.paid_gift_fen -= r_gift
        sub.state, sub.period_end, sub.auto_renew = SubscriptionState.REFUNDED, now, False
        sub.save(update_fields=["paid_cash_fen", "paid_gift_fen", "state", "period_end", "auto_renew"])
        audit.record(actor=None, owner=sub.customer, channel=SYSTEM, action="subscription.provisioning_refund",
                     target=sub.server, params={"subscription": sub.pk, "cash_fen": r_cash, "gift_fen": r_gift})
        compute.release(sub.server, actor=None, channel=SYSTEM, reason="provisioning failed")
        notifications.notify(sub.customer, notices.PROVISIONING_REFUNDED.code, {
            "name": sub.server.name, "amount": _yuan(r_cash + r_gift), "cash": _yuan(r_cash),
            "gift": _yuan(r_gift)})
    return charge


# --- Expiry lifecycle (4.5.2.1) ----------------------------------------------------------------------------


def _notice_once(sub: Subscription, kind: str, event: str, context: dict) -> bool:
    """Send `event` for this subscription's current period once, whoever runs the job."""
    try:
        with transaction.atomic():
            SubscriptionNotice.objects.create(subscription=sub, period_end=sub.period_end, kind=kind,
                                              created_at=clock.now())
            notifications.notify(sub.customer, event, context)
    except IntegrityError:
        return False
    return True


def send_reminders() -> int:
    """T−7/T−3/T−1 (settings): for each active subscription inside the widest window, the tightest threshold
    it has reached is sent once per period (a job that was down sends only the most urgent one)."""
    days = sorted(settings.WUJI_EXPIRY_REMINDER_DAYS)
    if not days:
        return 0
    now = clock.now()
    subs = list(Subscription.objects.filter(state=SubscriptionState.ACTIVE, period_end__gt=now,
                                            period_end__lte=now + dt.timedelta(days=days[-1]))
                .select_related("server", "customer"))
    sent_rows = set(SubscriptionNotice.objects.filter(subscription__in=subs, kind__startswith="remind_")
                    .values_list("subscription_id", "period_end", "kind"))
    sent = 0
    for sub in subs:
        tightest = next(d for d in days if sub.period_end - now <= dt.timedelta(days=d))
        kind = f"remind_{tightest}"
        if (sub.pk, sub.period_end, kind) in sent_rows:
            continue
        sent += _notice_once(sub, kind, notices.EXPIRY_REMINDER.code, {
            "name": sub.server.name, "days": tightest, "period_end": _local(sub.period_end),
            "amount": _yuan(renewal_price(sub)[1]), "retention": settings.WUJI_EXPIRED_RETENTION_DAYS})
    return sent


def release_at(sub: Subscription) -> dt.datetime:
    return sub.period_end + dt.timedelta(days=settings.WUJI_EXPIRED_RETENTION_DAYS)


def expire_due() -> int:
    """Suspend (reason expiry) every server whose paid period has ended; the subscription becomes expired and
    the customer is told. A server with an operation in flight is retried by the next run."""
    expired = 0
    for sub in Subscription.objects.filter(state=SubscriptionState.ACTIVE, period_end__lte=clock.now()).select_related(
            "server", "customer"):
        with transaction.atomic():
            locked = Subscription.objects.select_for_update().get(pk=sub.pk)
            if locked.state != SubscriptionState.ACTIVE or locked.period_end != sub.period_end:
                continue  # renewed meanwhile
            suspended = compute.suspend(sub.server, reason=SuspensionReason.EXPIRY, actor=None, channel=SYSTEM,
                                        detail=f"subscription {sub.pk} expired")
            sub.server.refresh_from_db(fields=["vm_state", "task_state"])
            if not suspended and sub.server.vm_state not in (VmState.SUSPENDED, VmState.RELEASED):
                continue  # an operation is in flight: next run
            locked.state, locked.expired_at = SubscriptionState.EXPIRED, clock.now()
            locked.save(update_fields=["state", "expired_at"])
            audit.record(actor=None, owner=sub.customer, channel=SYSTEM, action="subscription.expire",
                         target=sub.server, params={"subscription": sub.pk, "period_end": sub.period_end.isoformat()})
            _notice_once(sub, "expired", notices.EXPIRED.code, {
                "name": sub.server.name, "period_end": _local(sub.period_end), "release_at": _local(release_at(sub))})
            expired += 1
    return expired


def lift_renewed() -> int:
    """Active (renewed) subscriptions whose server is still suspended for expiry: resume it (a renewal whose
    resume met an operation in flight)."""
    lifted = 0
    for sub in Subscription.objects.filter(state=SubscriptionState.ACTIVE, period_end__gt=clock.now(),
                                           server__vm_state=VmState.SUSPENDED,
                                           server__suspension_reason=SuspensionReason.EXPIRY).select_related("server"):
        lifted += compute.resume(sub.server, reasons=[SuspensionReason.EXPIRY], actor=None, channel=SYSTEM)
    return lifted


def send_release_notices() -> int:
    notice_before = dt.timedelta(days=settings.WUJI_EXPIRED_RETENTION_DAYS - settings.WUJI_RELEASE_NOTICE_DAYS)
    sent = 0
    for sub in Subscription.objects.filter(state=SubscriptionState.EXPIRED,
                                           period_end__lte=clock.now() - notice_before).exclude(
            notices__kind="release_notice").select_related("server", "customer"):
        sent += _notice_once(sub, "release_notice", notices.RELEASE_NOTICE.code, {
            "name": sub.server.name, "release_at": _local(release_at(sub))})
    return sent


def release_due() -> int:
    """Release the servers of subscriptions expired for the whole retention period."""
    released = 0
    cutoff = clock.now() - dt.timedelta(days=settings.WUJI_EXPIRED_RETENTION_DAYS)
    for sub in Subscription.objects.filter(state=SubscriptionState.EXPIRED, period_end__lte=cutoff).select_related(
            "server", "customer"):
        with transaction.atomic():
            locked = Subscription.objects.select_for_update().get(pk=sub.pk)
            if locked.state != SubscriptionState.EXPIRED:
                continue
            started = compute.release(sub.server, actor=None, channel=SYSTEM, reason="expiry retention ended")
            sub.server.refresh_from_db(fields=["vm_state", "task_state"])
            if not started and sub.server.vm_state != VmState.RELEASED:
                continue  # an operation in flight: next run
            locked.state, locked.released_at, locked.auto_renew = SubscriptionState.RELEASED, clock.now(), False
            locked.save(update_fields=["state", "released_at", "auto_renew"])
            audit.record(actor=None, owner=sub.customer, channel=SYSTEM, action="subscription.release",
                         target=sub.server, params={"subscription": sub.pk})
            _notice_once(sub, "released", notices.RELEASED.code, {"name": sub.server.name})
            released += 1
    return released


def run_lifecycle() -> dict:
    """One pass of the prepaid lifecycle, in order: auto-renew first (so a renewable server is never
    suspended), then reminders, expiry, lifting renewed servers, release notices, releases."""
    return {
        "auto_renew": auto_renew_due(),
        "reminders": send_reminders(),
        "expired": expire_due(),
        "lifted": lift_renewed(),
        "release_notices": send_release_notices(),
        "released": release_due(),
    }


def key_reused_message(charge: SubscriptionCharge) -> str:
    return _("该幂等键已用于另一项操作（%(kind)s #%(id)s），请为新操作使用新的幂等键。") % {
        "kind": ChargeKind.label(charge.kind), "id": charge.pk}
