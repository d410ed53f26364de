"""Snapshot charges (快照费用, decision 0028): per second while a snapshot exists, at the catalogue's price
per GiB-hour × the server's disk, settled by the hourly pay-as-you-go settlement job through the same bulk
ledger writer, one ledger transaction per snapshot and period (`snapshot:<id>:<period_end>`).

Compute never writes billing: these functions follow its signals `snapshot_requested` (refuse what cannot be
charged) and `snapshot_written` (start or stop the meter).
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuji.catalog import services as catalog
from wuji.compute.choices import SnapshotState
from wuji.compute.models import Snapshot
from wuji.compute.services import OperationRefused
from wuji.core import clock, money
from wuji.ledger import services as ledger
from wuji.ledger.choices import TransactionKind

from .models import SnapshotMeter
from .models.payg import UNITS_PER_FEN, price_units
from .payg import available_fen, pay_from_held, period_end

MIN_BALANCE_HOURS = 24  # a new snapshot needs a balance that covers its first day


def per_hour_for(server, at: dt.datetime):
    """元 per hour for a snapshot of `server` taken at `at`; NotOnSale when its region sells none."""
    return catalog.snapshot_price_in_force(region=server.region, at=at).per_gib_hour * server.disk_gib


def check_snapshot_allowed(sender, *, server, **kwargs) -> None:
    """Refuse a snapshot billing cannot charge for: not sold in the region, unpaid snapshot charges, or a
    balance that does not cover its first day."""
    try:
        per_hour = per_hour_for(server, clock.now())
    except catalog.NotOnSale as exc:
        raise OperationRefused(str(exc)) from exc
    customer = server.owner
    if SnapshotMeter.objects.filter(customer=customer, debt_fen__gt=0).exists():
        raise OperationRefused(_("您有未结清的快照费用，请先充值。"))
    needed = -(-price_units(per_hour) * MIN_BALANCE_HOURS * 3600 // UNITS_PER_FEN)  # rounded up to the fen
    if available_fen(customer) < needed:
        raise OperationRefused(_("创建快照要求可用余额不少于 %(yuan)s 元（约 %(hours)s 小时的快照费用），请先充值。")
                               % {"yuan": money.fen_to_yuan(needed), "hours": MIN_BALANCE_HOURS})


def follow_snapshot(sender, *, snapshot_id: int, state: str, at: dt.datetime, **kwargs) -> None:
    """Start the meter when the snapshot exists, stop it when it is deleted (inside compute's transaction)."""
    if state == SnapshotState.AVAILABLE:
        snapshot = Snapshot.objects.select_related("server__region").get(pk=snapshot_id)
        SnapshotMeter.objects.get_or_create(snapshot=snapshot, defaults={
            "customer_id": snapshot.server.owner_id, "per_hour": per_hour_for(snapshot.server, at),
            "started_at": at, "settled_until": at})
    elif state == SnapshotState.DELETED:
        SnapshotMeter.objects.filter(snapshot_id=snapshot_id, ended_at__isnull=True).update(ended_at=at)


def settle(now: dt.datetime | None = None) -> dict[str, int]:
    """Charge every snapshot meter up to the last settlement boundary, in chunks of meters by id (one
    transaction each: customer accounts locked first, as the pay-as-you-go settlement does). Idempotent."""
    end = period_end(now or clock.now())
    due = SnapshotMeter.objects.filter(settled_until__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=F("settled_until")) | Q(debt_fen__gt=0))
    totals = {"meters": 0, "charges": 0, "charged_fen": 0}
    last_id = 0
    while True:
        rows = list(due.filter(id__gt=last_id).order_by("id").values_list("id", "customer_id")[
            :settings.WUJI_PAYG_SETTLEMENT_CHUNK])
        if not rows:
            return totals
        last_id = rows[-1][0]
        with transaction.atomic():
            _settle_chunk([r[0] for r in rows], {r[1] for r in rows}, end, totals)


def _settle_chunk(meter_ids, customer_ids, end: dt.datetime, totals: dict[str, int]) -> None:
    held = ledger.lock_customer_balances(customer_ids)
    meters = list(SnapshotMeter.objects.select_for_update().filter(id__in=meter_ids, settled_until__lt=end)
                  .order_by("id"))
    memo = f"快照 {timezone.localtime(end):%Y-%m-%d %H:%M}"
    entries = []
    for meter in meters:
        until = min(end, meter.ended_at or end)
        seconds = max(0, int((until - meter.settled_until).total_seconds()))
        exact = price_units(meter.per_hour) * seconds + meter.carried
        fen = exact // UNITS_PER_FEN
        meter.carried = exact - fen * UNITS_PER_FEN
        meter.charged_fen += fen
        due = meter.debt_fen + fen
        pay, legs = pay_from_held(held[meter.customer_id], meter.customer_id, due)
        if pay:
            entries.append(ledger.BatchEntry(
                key=f"snapshot:{meter.snapshot_id}:{end.isoformat()}", kind=TransactionKind.CHARGE, legs=legs,
                customer_id=meter.customer_id, cause=("snapshot", meter.snapshot_id), memo=memo))
            totals["charges"] += 1
            totals["charged_fen"] += pay
        meter.debt_fen = due - pay
        meter.settled_until = end
    ledger.post_batch(entries, locked=held.accounts)
    SnapshotMeter.objects.bulk_update(meters, ["carried", "charged_fen", "debt_fen", "settled_until"])
    totals["meters"] += len(meters)


def meters_of(customer):
    return SnapshotMeter.objects.filter(customer=customer)
