"""Ledger write throughput: `ledger.post()` (locks, checks, balance update, postings) against a baseline of
the same rows written with plain SQL in the same run, on the configured database.

    .venv/bin/python bench/ledger.py [--n 2000]            # SQLite (a throw-away file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuji_bench .venv/bin/python bench/ledger.py

Prints transactions/second for both and their ratio.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["WUJI_VAR_DIR"] = tempfile.mkdtemp(prefix="wuji-bench-")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from wuji.core import clock, testing
    from wuji.ledger import services as ledger
    from wuji.ledger.models import Account

    call_command("migrate", verbosity=0)
    testing.load_test_catalogue()
    run = int(time.time())
    customer = testing.make_customer(f"bench-{run}@example.com", balance_fen=args.n * 100)
    cash = ledger.customer_account_code(customer.pk, "cash")

    started = time.perf_counter()
    for i in range(args.n):
        with transaction.atomic():
            ledger.post(key=f"bench:{run}:{i}", kind="charge", legs=[(cash, -1), ("revenue:cash", 1)],
                        customer=customer)
    post_rate = args.n / (time.perf_counter() - started)

    # Baseline: the same rows (transaction, two postings, balance update) with hand-written SQL, no checks.
    account = Account.objects.get(code=cash)
    revenue = Account.objects.get(code="revenue:cash")
    started = time.perf_counter()
    for i in range(args.n):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO ledger_transaction (idempotency_key, kind, customer_id, cause_type, cause_id, memo, "
                "created_at) VALUES (%s, 'charge', %s, '', '', '', %s)",
                [f"base:{run}:{i}", customer.pk, clock.now()],
            )
            cur.execute("SELECT id FROM ledger_transaction WHERE idempotency_key = %s", [f"base:{run}:{i}"])
            txn_id = cur.fetchone()[0]
            cur.execute("UPDATE ledger_account SET balance = balance - 1, version = version + 1 WHERE id = %s",
                        [account.pk])
            cur.execute(
                "INSERT INTO ledger_posting (transaction_id, account_id, amount, balance_after) "
                "VALUES (%s, %s, -1, NULL), (%s, %s, 1, NULL)",
                [txn_id, account.pk, txn_id, revenue.pk],
            )
    base_rate = args.n / (time.perf_counter() - started)

    print(f"database: {connection.vendor}, transactions: {args.n}")
    print(f"ledger.post():      {post_rate:8.0f} transactions/s")
    print(f"plain SQL baseline: {base_rate:8.0f} transactions/s")
    print(f"ratio:              {post_rate / base_rate:8.2f}")


if __name__ == "__main__":
    main()
