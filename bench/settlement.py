"""Pay-as-you-go settlement throughput: one `payg.settle()` run over N running meters (spread over N/10
customers) against a baseline measured in the same run: one plain SQL transaction writing the same number of
ledger transactions and postings and the balance updates, with no locks, checks or meter bookkeeping.

    .venv/bin/python bench/settlement.py [--n 100000]               # SQLite (a throw-away file), N=100,000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuji_bench .venv/bin/python bench/settlement.py --n 1000000

The population (users, accounts, top-ups, servers, meters) is written in bulk, not row by row. Prints
servers/second, total time, the longest chunk (how long row locks are held at most) and the ratio.
"""

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["WUJI_VAR_DIR"] = tempfile.mkdtemp(prefix="wuji-bench-")

BATCH = 10_000


def create(model, common: dict, rows: list[dict]) -> list[int]:
    """Insert one row per dict of `rows` (the fields that differ) with the `common` fields; returns the ids in order.
    SQLite: bulk_create. PostgreSQL: the ledger's array INSERT with the common fields prepared once (Django's
    multi-row INSERT has one placeholder per value and the models cost more to build than the rows to write)."""
    from django.db import connection

    from wuji.ledger import services as ledger

    if connection.vendor != "postgresql":
        return [obj.pk for obj in model.objects.bulk_create([model(**common, **row) for row in rows])]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    template_object = model(**common, **rows[0])
    template = [f.get_db_prep_save(f.pre_save(template_object, True), connection) for f in fields]
    slots = [(i, f.attname, f) for i, f in enumerate(fields) if f.attname in rows[0]]
    values = []
    for row in rows:
        values.append(template.copy())
        for i, attname, f in slots:
            values[-1][i] = f.get_db_prep_save(row[attname], connection)
    return [pk for (pk,) in ledger.insert_rows(model, [f.attname for f in fields], values, returning="id")]


def populate(n: int, per_customer: int, t0: dt.datetime) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from wuji.billing.models import Meter
    from wuji.catalog.models import Image, Plan, Region
    from wuji.compute.models import Node, Server
    from wuji.ledger import services as ledger
    from wuji.ledger.models import Account

    user_model = get_user_model()
    region, plan, image = Region.objects.get(code="cn-ganzhou"), Plan.objects.get(code="s1"), Image.objects.first()
    node = Node.objects.first()
    tag = uuid.uuid4().hex[:8]
    customers = max(1, n // per_customer)
    made = 0
    while made < customers:
        size = min(BATCH, customers - made)
        with transaction.atomic():
            users = create(user_model, {"password": "!", "date_joined": t0},
                           [{"email": f"b{tag}-{made + i}@bench.invalid"} for i in range(size)])
            create(Account, {}, [{"code": ledger.customer_account_code(u, kind), "kind": kind, "customer_id": u}
                                 for u in users for kind in ("cash", "gift", "frozen")])
            ledger.post_batch([ledger.BatchEntry(
                key=f"bench-topup:{u}", kind="topup", customer_id=u,
                legs=[ledger.Leg("clearing:bench", -100_00),
                      ledger.Leg(ledger.customer_account_code(u, "cash"), 100_00)],
            ) for u in users])
            owners = [u for u in users for _i in range(per_customer)]
            servers = create(Server, {
                "name": "bench", "region": region, "plan": plan, "image": image, "node": node, "vcpus": 1,
                "memory_mib": 1024, "disk_gib": 20, "vm_state": "active", "power_state": "running", "created_at": t0,
            }, [{"owner_id": u, "uuid": uuid.uuid4()} for u in owners])
            create(Meter, {
                "running_per_hour": "0.06000000", "stopped_per_hour": "0.00500000", "rate": "running",
                "metered_until": t0, "settled_until": t0, "created_at": t0,
            }, [{"customer_id": u, "server_id": s, "idempotency_key": f"bench-{s}"}
                for u, s in zip(owners, servers, strict=True)])
        made += size
        print(f"  populated {made * per_customer} meters", flush=True)


def baseline(n: int, end: dt.datetime) -> float:
    """One plain SQL transaction writing what the settlement wrote: n ledger transactions (keys and memo of the same
    length), 2n postings and the balance updates, with the statements the ledger's bulk writer uses (array INSERTs on
    PostgreSQL, multi-row INSERTs on SQLite) in the largest batches, and no locks, checks, meters or chunk commits."""
    from django.db import connection, transaction
    from django.utils import timezone

    from wuji.billing.models import Meter
    from wuji.core import clock
    from wuji.ledger import services as ledger
    from wuji.ledger.models import Account, Posting, Transaction

    rows = list(Meter.objects.order_by("id").values_list("server_id", "customer_id")[:n])
    cash = dict(Account.objects.filter(kind="cash", customer_id__in={c for _s, c in rows})
                .values_list("customer_id", "id"))
    revenue = Account.objects.get(code="revenue:cash").pk
    now, memo = clock.now(), f"按量付费 {timezone.localtime(end):%Y-%m-%d %H:%M}"
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Foreign keys are checked at commit (deferred) and this transaction rolls back: check them per statement,
            # as the settlement's chunks pay for them at each commit.
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        ids = ledger.insert_rows(
            Transaction, ["idempotency_key", "kind", "customer_id", "cause_type", "cause_id", "memo", "created_at"],
            [(f"sett1e:{s}:{end.isoformat()}", "charge", c, "server", str(s), memo, now) for s, c in rows],
            returning="id, customer_id")
        ledger.insert_rows(Posting, ["transaction_id", "account_id", "amount", "balance_after"],
                           [p for t, c in ids for p in ((t, cash[c], -6, 0), (t, revenue, 6, None))])
        per = {}
        for _s, c in rows:
            per[c] = per.get(c, 0) + 6
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("UPDATE ledger_account SET balance = balance - v.amount, version = version + 1 "
                            "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, amount) WHERE ledger_account.id = v.id",
                            [[cash[c] for c in per], list(per.values())])
            else:
                cur.executemany("UPDATE ledger_account SET balance = balance - %s, version = version + 1 WHERE id = %s",
                                [(amount, cash[c]) for c, amount in per.items()])
        transaction.set_rollback(True)  # leave the ledger as the settlement left it
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000 if "DATABASE_URL" in os.environ else 100_000,
                        help="meters to settle (default: 1,000,000 on PostgreSQL, 100,000 on SQLite)")
    parser.add_argument("--per-customer", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=None)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from wuji.billing import payg
    from wuji.billing.models import Meter
    from wuji.core import clock, testing
    from wuji.ledger import services as ledger

    call_command("migrate", verbosity=0)
    testing.load_test_catalogue()
    Meter.objects.update(settled_until=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))  # earlier runs' meters: not due
    t0 = payg.period_end(clock.now()) + dt.timedelta(hours=1)
    print(f"populating {args.n} meters over {args.n // args.per_customer} customers …", flush=True)
    started = time.perf_counter()
    populate(args.n, args.per_customer, t0)
    print(f"population: {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    run = payg.settle(t0 + dt.timedelta(hours=1, minutes=1), chunk_size=args.chunk)
    settle_seconds = time.perf_counter() - started
    base_seconds = baseline(run.charges, run.period_end)
    chunk = args.chunk or settings.WUJI_PAYG_SETTLEMENT_CHUNK
    print(f"database: {connection.vendor}, meters settled: {run.meters}, charges: {run.charges}, chunk: {chunk}")
    print(f"settlement:         {run.meters / settle_seconds:10.0f} servers/s  {settle_seconds:8.2f} s total, "
          f"{run.chunks} chunks of {min(run.chunk_sizes)}–{max(run.chunk_sizes)} meters, "
          f"longest chunk {run.longest_chunk_seconds:.3f} s")
    print(f"plain SQL baseline: {run.charges / base_seconds:10.0f} servers/s  {base_seconds:8.2f} s (one transaction)")
    print(f"ratio settlement / baseline time: {settle_seconds / base_seconds:.2f}")
    if args.n <= 200_000:
        problems = ledger.verify()
        print(f"ledger.verify(): {len(problems)} problems" + (f", first: {problems[0]}" if problems else ""))


if __name__ == "__main__":
    main()
