"""Billing: the wallet (spending order) and orders (5.1, 5.3)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wuji.accounts import contacts, restrictions
from wuji.audit import services as audit
from wuji.catalog import services as catalog
from wuji.catalog.choices import BillingCycle
from wuji.compute import services as compute
from wuji.core import clock, money
from wuji.identity import services as identity
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, PlatformAccount, TransactionKind

from . import renewals
from .models import Order


class PurchaseRefused(Exception):
    """The message is shown to the customer; `link` is where they can fix it, `code` names it for the API."""

    def __init__(self, message: str = "", *, link: str | None = None, code: str = "purchase_refused"):
        super().__init__(message)
        self.link, self.code = link, code


class InsufficientBalance(PurchaseRefused):
    """The balance does not cover the price (余额不足)."""


def spending_legs(customer, amount: int, balances: dict[str, int]) -> list[ledger.Leg]:
    """Split a charge over gift and cash by the configured spending order (default: gift first)."""
    if settings.WUJI_SPENDING_ORDER == "cash_first":
        cash = min(amount, balances[AccountKind.CASH])
        gift = amount - cash
    else:
        gift = min(amount, balances[AccountKind.GIFT])
        cash = amount - gift
    cust = customer.pk
    return [
        ledger.Leg(ledger.customer_account_code(cust, AccountKind.GIFT), -gift),
        ledger.Leg(PlatformAccount.REVENUE_GIFT, gift),
        ledger.Leg(ledger.customer_account_code(cust, AccountKind.CASH), -cash),
        ledger.Leg(PlatformAccount.REVENUE_CASH, cash),
    ]


def charge(customer, *, amount: int, key: str, cause: tuple[str, object], memo: str = ""):
    """Deduct `amount` fen from the customer's balance (自动扣费, 5.3). Raises ledger.InsufficientFunds."""
    if amount <= 0:
        raise ValueError("a charge is positive")
    # Lock the customer's accounts first so the split is computed on the balances we will update.
    locked = ledger.balances(customer, lock=True)
    legs = spending_legs(customer, amount, locked)
    return ledger.post(key=key, kind=TransactionKind.CHARGE, legs=legs, customer=customer, cause=cause, memo=memo)


def quote(*, region, plan, cycle: str) -> int:
    """The price in fen the customer would pay now."""
    return catalog.price_in_force(plan=plan, region=region, cycle=cycle).amount_fen


def place_order(*, customer, region, plan, image, cycle: str, name: str, idempotency_key: str,
                channel: str, ip: str | None, expected_amount: int | None = None) -> tuple[Order, str | None]:
    """Buy one server: charge the price in force, create the order and the server, enqueue provisioning —
    all in one transaction. A retry with the same idempotency key returns the first order.

    Returns (order, root password shown once — None when this was a replay).
    `expected_amount` is the price the customer confirmed; if the price changed meanwhile, refuse.
    """
    existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, None
    try:
        identity.require_verified_for_region(customer, region)  # 实名认证 (2.1.2) and restrictions (2.1.3)
        contacts.require_valid_contacts(customer)  # contacts not fixed by their deadline (4.5.1)
        restrictions.require(customer, restrictions.RestrictedFunction.PURCHASE)  # restricted by staff (4.5.2.2)
    except (identity.RealNameRequired, contacts.ContactInvalid, restrictions.FunctionRestricted) as exc:
        raise PurchaseRefused(exc.message, link=exc.link, code=exc.code) from exc
    if cycle not in BillingCycle.values():
        raise PurchaseRefused(_("不支持的计费周期。"))
    if not (region.is_active and plan.is_active and image.is_active):
        raise PurchaseRefused(_("所选地域、配置或镜像已下架。"))
    try:
        price = catalog.price_in_force(plan=plan, region=region, cycle=cycle)
    except catalog.NotOnSale as exc:
        raise PurchaseRefused(str(exc)) from exc
    if expected_amount is not None and expected_amount != price.amount_fen:
        raise PurchaseRefused(_("价格已变更，请确认新价格后重新下单。"))
    name = (name or "").strip()[:64] or f"{plan.code}-{clock.local_now():%m%d%H%M}"
    now = clock.now()
    try:
        with transaction.atomic():
            txn = charge(customer, amount=price.amount_fen, key=f"order:{customer.pk}:{idempotency_key}",
                         cause=("order", idempotency_key), memo=f"{plan.name_zh} {BillingCycle.label(cycle)}")
            instruction = audit.record(
                actor=customer, owner=customer, channel=channel, action="order.place", target=None,
                params={"region": region.code, "plan": plan.code, "image": image.code, "cycle": cycle,
                        "amount_fen": price.amount_fen, "name": name}, ip=ip,
            )
            server, password = compute.create_server(
                owner=customer, region=region, plan=plan, image=image, name=name,
                expires_at=clock.add_months(now, BillingCycle.MONTHS[cycle]), instruction=instruction,
            )
            order = Order.objects.create(
                customer=customer, region=region, plan=plan, image=image, cycle=cycle, price=price,
                amount_fen=price.amount_fen, idempotency_key=idempotency_key, ledger_transaction=txn,
                server=server, created_at=now,
            )
            renewals.open_subscription(order, at=now)  # a prepaid server's term (包年包月)
    except ledger.InsufficientFunds as exc:
        shortfall = money.fen_to_yuan(exc.shortfall)
        raise InsufficientBalance(_("余额不足：还需 %(yuan)s 元，请先充值。") % {"yuan": shortfall}) from exc
    except compute.NoCapacity as exc:
        raise PurchaseRefused(str(exc)) from exc
    except IntegrityError:
        existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, None
    return order, password


def orders_of(customer):
    return Order.objects.filter(customer=customer).select_related("region", "plan", "image", "server")
