"""Pay-as-you-go (按量付费, clause 5.3 automatic deduction; 4.5.2 / 4.5.2.1 arrears).

- Metering: every vm_state write checkpoints the server's meter in the same transaction (per second).
- Settlement (`settle`): set-based, in chunks of meters by id; one ledger transaction per meter and period
  (`settle:<server>:<period_end>`), gift first, rounded down to the fen with the remainder carried. What the
  balance cannot cover becomes the meter's unpaid debt, never a negative balance.
- Arrears (`check_arrears`): grace → suspension (reason arrears) → release notice → release after retention.
- `after_balance_credited(customer)`: top-ups collect unpaid debt at once and lift arrears suspensions.
See docs/decisions/0016-pay-as-you-go-settlement.md.
"""

import dataclasses
import datetime as dt
import time
import types
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.accounts import contacts, restrictions
from wuji.audit import services as audit
from wuji.catalog import services as catalog
from wuji.compute import services as compute
from wuji.compute.choices import SuspensionReason, VmState
from wuji.core import clock, money
from wuji.core.scheduler import slot_start
from wuji.identity import services as identity
from wuji.ledger import services as ledger
from wuji.ledger.choices import AccountKind, TransactionKind
from wuji.notifications import services as notifications

from . import payg_notices as notices
from .models import LowBalanceWarning, Meter
from .models.payg import UNITS_PER_FEN, price_units
from .payg_choices import MeterRate
from .services import InsufficientBalance, PurchaseRefused, spending_legs

RATE_OF_STATE = {VmState.ACTIVE: MeterRate.RUNNING, VmState.STOPPED: MeterRate.STOPPED}
MIN_CHUNK = 50
METER_FIELDS = ["rate", "metered_until", "settled_until", "accrued", "carried", "charged_fen", "debt_fen",
                "arrears_since", "grace_notice_at"]


def rate_for(vm_state: str) -> str:
    """Running servers pay the running price, stopped ones the stopped-charge setting (disk only, all or none);
    building, failed, suspended and released servers are not charged (decision 0016)."""
    return RATE_OF_STATE.get(vm_state, MeterRate.NONE)


def period_end(moment: dt.datetime) -> dt.datetime:
    return slot_start(moment, dt.timedelta(minutes=settings.WUJI_PAYG_SETTLEMENT_MINUTES))


def accrue(meter: Meter, until: dt.datetime) -> None:
    """Add the exact usage at the current rate up to `until` (whole seconds; the fraction waits)."""
    if until <= meter.metered_until:
        return
    seconds = int((until - meter.metered_until).total_seconds())
    meter.accrued += price_units(meter.price_for(meter.rate)) * seconds
    meter.metered_until += dt.timedelta(seconds=seconds)


def checkpoint(*, server_id: int, vm_state: str, at: dt.datetime) -> None:
    """Accrue at the old rate up to `at` and switch to the rate of `vm_state`. Runs inside the caller's transaction."""
    meter = Meter.objects.select_for_update().filter(server_id=server_id).first()
    if meter is None:
        return  # a prepaid server
    accrue(meter, at)
    meter.rate = rate_for(vm_state)
    fields = ["accrued", "metered_until", "rate"]
    if vm_state == VmState.RELEASED and meter.released_at is None:
        meter.released_at = at
        fields.append("released_at")
    meter.save(update_fields=fields)


def on_vm_state_written(sender, *, server_id, vm_state, power_state=None, at=None, **kwargs):
    checkpoint(server_id=server_id, vm_state=vm_state, at=at or clock.now())


# --- Purchase ---------------------------------------------------------------------------------------------


def available_fen(customer) -> int:
    held = ledger.balances(customer)
    return held[AccountKind.CASH] + held[AccountKind.GIFT]


def place_payg_order(*, customer, region, plan, image, name: str, idempotency_key: str, channel: str,
                     ip: str | None) -> tuple[Meter, str | None]:
    """Create a pay-as-you-go server and its meter in one transaction; nothing is charged up front. The
    customer needs real-name verification and valid contacts (as for `place_order`), the plan on sale with
    hourly prices, no unpaid pay-as-you-go debt and an available balance of WUJI_PAYG_MIN_BALANCE_FEN.
    Returns (meter, root password shown once — None on a replay of the same key)."""
    existing = Meter.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, None
    try:
        identity.require_verified_for_region(customer, region)
        contacts.require_valid_contacts(customer)
        restrictions.require(customer, restrictions.RestrictedFunction.PURCHASE)
    except (identity.RealNameRequired, contacts.ContactInvalid, restrictions.FunctionRestricted) as exc:
        raise PurchaseRefused(exc.message, link=exc.link, code=exc.code) from exc
    if not (region.is_active and plan.is_active and image.is_active):
        raise PurchaseRefused(_("所选地域、配置或镜像已下架。"))
    try:
        price = catalog.hourly_price_in_force(plan=plan, region=region)
    except catalog.NotOnSale as exc:
        raise PurchaseRefused(str(exc)) from exc
    if Meter.objects.filter(customer=customer, debt_fen__gt=0).exists():
        raise InsufficientBalance(_("您有未结清的按量付费欠费，请先充值。"), code="payg_arrears")
    minimum = settings.WUJI_PAYG_MIN_BALANCE_FEN
    if available_fen(customer) < minimum:
        raise InsufficientBalance(_("按量付费要求可用余额不少于 %(yuan)s 元，请先充值。")
                                  % {"yuan": money.fen_to_yuan(minimum)}, code="insufficient_balance")
    name = (name or "").strip()[:64] or f"{plan.code}-{clock.local_now():%m%d%H%M}"
    now = clock.now()
    try:
        with transaction.atomic():
            instruction = audit.record(
                actor=customer, owner=customer, channel=channel, action="order.place_payg", target=None,
                params={"region": region.code, "plan": plan.code, "image": image.code, "name": name,
                        "running_per_hour": str(price.running_per_hour),
                        "stopped_per_hour": str(price.stopped_per_hour)}, ip=ip,
            )
            server, password = compute.create_server(owner=customer, region=region, plan=plan, image=image,
                                                     name=name, expires_at=None, instruction=instruction)
            meter = Meter.objects.create(
                customer=customer, server=server, idempotency_key=idempotency_key,
                running_per_hour=price.running_per_hour, stopped_per_hour=price.stopped_per_hour,
                rate=rate_for(server.vm_state), metered_until=now, settled_until=now, created_at=now,
            )
    except compute.NoCapacity as exc:
        raise PurchaseRefused(str(exc)) from exc
    except IntegrityError:
        existing = Meter.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, None
    return meter, password


def meters_of(customer):
    return Meter.objects.filter(customer=customer).select_related("server")


def meter_of(customer, server_id: int) -> Meter | None:
    return meters_of(customer).filter(server_id=server_id).first()


def pending_fen(meter: Meter, now: dt.datetime | None = None) -> int:
    """What the meter would charge for usage so far if settled now (display only)."""
    now = now or clock.now()
    seconds = max(0, int((now - meter.metered_until).total_seconds()))
    exact = meter.accrued + meter.carried + price_units(meter.price_for(meter.rate)) * seconds
    return exact // UNITS_PER_FEN


# --- Settlement -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SettlementRun:
    period_end: dt.datetime
    meters: int = 0
    charges: int = 0
    charged_fen: int = 0
    new_debt_fen: int = 0
    chunks: int = 0
    longest_chunk_seconds: float = 0.0
    chunk_sizes: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class _CustomerRef:
    pk: int


def settle(now: dt.datetime | None = None, *, chunk_size: int | None = None) -> SettlementRun:
    """Settle every meter not yet settled for the period ending at the last settlement boundary.

    Chunked by meter id: each chunk is one database transaction (customer accounts locked in id order,
    meters locked, one bulk ledger write), so locks are held only for a chunk. A re-run (also after a crash
    mid-run) settles only the meters left; ledger keys make a replayed chunk a no-op."""
    end = period_end(now or clock.now())
    chunk_size = chunk_size or settings.WUJI_PAYG_SETTLEMENT_CHUNK
    run = SettlementRun(period_end=end)
    due = Meter.objects.filter(settled_until__lt=end).filter(
        Q(released_at__isnull=True) | Q(released_at__gt=F("settled_until")) | Q(debt_fen__gt=0))
    target = settings.WUJI_PAYG_CHUNK_TARGET_SECONDS
    size, last_id = chunk_size, 0
    while True:
        rows = list(due.filter(id__gt=last_id).order_by("id").values_list("id", "customer_id")[:size])
        if not rows:
            break
        last_id = rows[-1][0]
        started = time.monotonic()
        with transaction.atomic():
            _settle_chunk([r[0] for r in rows], {r[1] for r in rows}, end, run)
        elapsed = time.monotonic() - started
        run.chunks += 1
        run.chunk_sizes.append(len(rows))
        run.longest_chunk_seconds = max(run.longest_chunk_seconds, elapsed)
        # Keep lock time near the target on a busy database: halve the next chunk when this one was slow,
        # grow back (up to chunk_size) when it was fast.
        if elapsed > target:
            size = max(MIN_CHUNK, size // 2)
        elif elapsed < target / 2:
            size = min(chunk_size, size * 2)
    return run


class _MeterRow(types.SimpleNamespace):
    """A meter as the settlement reads it: the columns only."""

    price_for = Meter.price_for


def run_settlement(*, actor, channel: str, ip: str | None = None) -> SettlementRun:
    """A settlement started by staff (console): the same run as the hourly job, recorded in the audit log."""
    run = settle()
    audit.record(actor=actor, owner=None, channel=channel, action="payg.settle", target=None, ip=ip,
                 params={"period_end": run.period_end.isoformat(), "meters": run.meters, "charges": run.charges,
                         "charged_fen": run.charged_fen})
    return run


def _save_meters(meters: list[_MeterRow]) -> None:
    """Write the settled fields of a chunk's meters in one statement."""
    fields = [Meter._meta.get_field(name) for name in METER_FIELDS if name != "rate"]  # accrual keeps the rate
    cache: dict = {}

    def prep(field, value):
        if value is None:
            return None
        key = (field.attname, value)
        if key not in cache:
            cache[key] = field.get_db_prep_save(value, connection)
        return cache[key]

    rows = [[meter.id] + [prep(field, getattr(meter, field.attname)) for field in fields] for meter in meters]
    ledger.update_rows(Meter._meta.db_table, [("id", "bigint")] + [(f.column, f.db_type(connection)) for f in fields],
                       rows)


def pay_from_held(balances: dict[str, int], customer_id: int, due: int) -> tuple[int, list]:
    """What a settlement can collect of `due` fen from a customer's locked balances, and the spending legs;
    `balances` is updated so the next meter of the same customer in the chunk sees what is left."""
    pay = min(due, balances[AccountKind.CASH] + balances[AccountKind.GIFT])
    if pay <= 0:
        return 0, []
    legs = spending_legs(_CustomerRef(customer_id), pay, balances)
    for leg in legs:
        if leg.account.startswith("cust:"):
            balances[leg.account.rsplit(":", 1)[1]] += leg.amount
    return pay, legs


def _settle_chunk(meter_ids, customer_ids, end, run: SettlementRun) -> None:
    held = ledger.lock_customer_balances(customer_ids)  # accounts first (as post() and top-ups), then meters
    columns = ["id", "server_id", "customer_id", "running_per_hour", "stopped_per_hour", *METER_FIELDS]
    rows = (Meter.objects.select_for_update().filter(ledger.AnyOf(F("id"), meter_ids), settled_until__lt=end)
            .order_by("id").values_list(*columns))
    meters = [_MeterRow(**dict(zip(columns, row, strict=True))) for row in rows]  # plain rows: no model overhead
    entries, now = [], clock.now()
    memo = f"按量付费 {timezone.localtime(end):%Y-%m-%d %H:%M}"
    for meter in meters:
        accrue(meter, end)
        exact = meter.accrued + meter.carried
        fen = exact // UNITS_PER_FEN
        meter.carried, meter.accrued = exact - fen * UNITS_PER_FEN, 0
        meter.charged_fen += fen
        due = meter.debt_fen + fen
        pay, legs = pay_from_held(held[meter.customer_id], meter.customer_id, due)
        if pay > 0:
            entries.append(ledger.BatchEntry(
                key=f"settle:{meter.server_id}:{end.isoformat()}", kind=TransactionKind.CHARGE, legs=legs,
                customer_id=meter.customer_id, cause=("server", meter.server_id),
                memo=memo))
            run.charges += 1
            run.charged_fen += pay
        run.new_debt_fen += max(0, due - pay - meter.debt_fen)
        meter.debt_fen = due - pay
        if meter.debt_fen and meter.arrears_since is None:
            meter.arrears_since = now
        elif not meter.debt_fen:
            meter.arrears_since = meter.grace_notice_at = None
        meter.settled_until = end
    ledger.post_batch(entries, locked=held.accounts)
    _save_meters(meters)
    run.meters += len(meters)


# --- Debt collection on top-up ----------------------------------------------------------------------------


def waiting_for_money(customer_id: int) -> bool:
    """Unpaid usage, or a server suspended for arrears: a credit to this customer has work to do."""
    return Meter.objects.filter(customer_id=customer_id, released_at__isnull=True).filter(
        Q(debt_fen__gt=0) | Q(suspended_at__isnull=False)).exists()


def after_balance_credited(customer, *, channel: str = "system") -> int:
    """Called after money reaches the customer's balance (top-up, gift) — best after that transaction commits
    (`transaction.on_commit`): collect unpaid pay-as-you-go debt now, oldest meter first, and lift arrears
    suspensions whose debt is paid. Returns the fen collected."""
    collected = 0
    with transaction.atomic():
        held = ledger.balances(customer, lock=True)
        available = held[AccountKind.CASH] + held[AccountKind.GIFT]
        meters = list(Meter.objects.select_for_update().filter(customer=customer, debt_fen__gt=0).order_by("id"))
        for meter in meters:
            pay = min(meter.debt_fen, available)
            if pay <= 0:
                break
            from .services import charge

            charge(customer, amount=pay, key=f"debt:{meter.server_id}:{meter.charged_fen - meter.debt_fen}",
                   cause=("server", meter.server_id), memo=_("按量付费欠费补扣"))
            available -= pay
            collected += pay
            meter.debt_fen -= pay
            if not meter.debt_fen:
                meter.arrears_since = meter.grace_notice_at = None
            meter.save(update_fields=["debt_fen", "arrears_since", "grace_notice_at"])
    # Resumed in a transaction of its own, after the meter locks are released: compute writes the server row
    # and then checkpoints the meter, so holding a meter while waiting for a server could deadlock.
    with transaction.atomic():
        _resume_paid(Meter.objects.filter(customer=customer), channel=channel)
    return collected


def _resume_paid(meters, *, channel: str) -> int:
    resumed = 0
    for meter in meters.filter(debt_fen=0, suspended_at__isnull=False, released_at__isnull=True).select_related(
            "server"):
        server = meter.server
        if compute.resume(server, reasons=[SuspensionReason.ARREARS], actor=None, channel=channel):
            resumed += 1
        elif server.vm_state == VmState.SUSPENDED and server.suspension_reason == SuspensionReason.ARREARS:
            continue  # an operation in flight: the arrears job tries again
        Meter.objects.filter(pk=meter.pk).update(suspended_at=None, release_notice_at=None)
    return resumed


# --- Arrears lifecycle and warnings (periodic) ------------------------------------------------------------


def _context(meter: Meter, **extra) -> dict:
    return {"name": meter.server.name, "debt": money.fen_to_yuan(meter.debt_fen), **extra}


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def check_arrears(now: dt.datetime | None = None) -> dict[str, int]:
    """Advance every meter in arrears along grace → suspension → release notice → release, and resume
    servers whose debt was paid. Each step is its own transaction with its audit record and notice."""
    now = now or clock.now()
    grace = dt.timedelta(hours=settings.WUJI_PAYG_GRACE_HOURS)
    retention = dt.timedelta(days=settings.WUJI_PAYG_RETENTION_DAYS)
    notice_lead = dt.timedelta(hours=settings.WUJI_PAYG_RELEASE_NOTICE_HOURS)
    counts = dict.fromkeys(["arrears_notices", "suspended", "release_notices", "released", "resumed"], 0)
    in_arrears = Meter.objects.filter(debt_fen__gt=0, released_at__isnull=True).select_related("server", "customer")
    for meter in in_arrears:
        with transaction.atomic():
            # Not locked: compute locks the server and then checkpoints this meter; this job is the only writer
            # of the arrears timestamps and runs once per slot.
            meter = Meter.objects.select_related("server", "customer").get(pk=meter.pk)
            if not meter.debt_fen or meter.released_at:
                continue
            since = meter.arrears_since or now
            if meter.grace_notice_at is None:
                notifications.notify(meter.customer, notices.ARREARS.code,
                                     _context(meter, suspend_at=_local(since + grace)))
                Meter.objects.filter(pk=meter.pk).update(grace_notice_at=now, arrears_since=since)
                counts["arrears_notices"] += 1
            if meter.suspended_at is None:
                if now >= since + grace and compute.suspend(meter.server, reason=SuspensionReason.ARREARS, actor=None,
                                                            channel="system", detail=f"debt {meter.debt_fen} fen"):
                    Meter.objects.filter(pk=meter.pk).update(suspended_at=now)
                    notifications.notify(meter.customer, notices.SUSPENDED.code,
                                         _context(meter, release_at=_local(now + retention)))
                    counts["suspended"] += 1
                continue
            release_at = meter.suspended_at + retention
            if meter.release_notice_at is None and now >= release_at - notice_lead:
                notifications.notify(meter.customer, notices.RELEASE_SOON.code,
                                     _context(meter, release_at=_local(release_at)))
                Meter.objects.filter(pk=meter.pk).update(release_notice_at=now)
                counts["release_notices"] += 1
            if now >= release_at and compute.release(meter.server, actor=None, channel="system",
                                                     reason="arrears retention ended"):
                notifications.notify(meter.customer, notices.RELEASED.code, _context(meter))
                counts["released"] += 1
    with transaction.atomic():
        counts["resumed"] = _resume_paid(Meter.objects.all(), channel="system")
    return counts


def hourly_spend_by_customer() -> dict[int, Decimal]:
    """{customer id: 元 per hour at the current rates of their live meters}."""
    spend: dict[int, Decimal] = {}
    rows = Meter.objects.filter(released_at__isnull=True).exclude(rate=MeterRate.NONE).values_list(
        "customer_id", "rate", "running_per_hour", "stopped_per_hour")
    for customer_id, rate, running, stopped in rows:
        spend[customer_id] = spend.get(customer_id, Decimal(0)) + (running if rate == MeterRate.RUNNING else stopped)
    return spend


def check_low_balance() -> int:
    """Warn customers whose balance covers fewer than 72 h / 24 h (settings) of their current hourly spend,
    each threshold once per episode; an episode ends when the balance covers the largest threshold again."""
    from django.contrib.auth import get_user_model

    thresholds = sorted(settings.WUJI_PAYG_WARN_HOURS, reverse=True)
    sent = 0
    spend = hourly_spend_by_customer()
    watched = set(spend) | set(LowBalanceWarning.objects.filter(warned_below_hours__isnull=False)
                               .values_list("customer_id", flat=True))
    in_debt = set(Meter.objects.filter(debt_fen__gt=0).values_list("customer_id", flat=True))
    for customer in get_user_model().objects.filter(pk__in=watched):
        per_hour = spend.get(customer.pk, Decimal(0))
        balance = available_fen(customer)
        crossed = [h for h in thresholds if per_hour and balance < per_hour * h * 100]
        with transaction.atomic():
            state, _created = LowBalanceWarning.objects.select_for_update().get_or_create(customer=customer)
            if not crossed:
                if state.warned_below_hours is not None:
                    state.warned_below_hours = None
                    state.save(update_fields=["warned_below_hours"])
                continue
            lowest = min(crossed)
            if customer.pk in in_debt or (state.warned_below_hours is not None and state.warned_below_hours <= lowest):
                continue
            notifications.notify(customer, notices.LOW_BALANCE.code, {
                "hours": lowest, "balance": money.fen_to_yuan(balance), "spend": per_hour.quantize(Decimal("0.01"))})
            state.warned_below_hours, state.warned_at = lowest, clock.now()
            state.save(update_fields=["warned_below_hours", "warned_at"])
            sent += 1
    return sent
