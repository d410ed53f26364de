"""`wuji simulate --days N`: run the platform clock forward hour by hour over a seeded population and print
what the periodic jobs did each day (charges, reminders, suspensions, releases), then `ledger.verify()`.

Without `--here` it re-runs itself on a throw-away SQLite database (a temporary WUJI_VAR_DIR), so the
configured database is never touched. Every registered periodic job runs, so the prepaid lifecycle and any
other job appear here as they are merged.
"""

import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections import Counter

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db.models import Count, Q, Sum

from wuji.audit.models import Instruction
from wuji.billing import payg
from wuji.billing import services as billing
from wuji.billing.models import Meter
from wuji.catalog.models import Plan
from wuji.core import clock, scheduler, testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Posting, Transaction
from wuji.notifications.models import Notice

HOUR = dt.timedelta(hours=1)


class Command(BaseCommand):
    help = "Simulate N days of billing on a seeded population and print what happened per day."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3)
        parser.add_argument("--customers", type=int, default=12)
        parser.add_argument("--here", action="store_true",
                            help="use the configured database instead of a throw-away SQLite one")

    def handle(self, *args, days, customers, here, **options):
        if not here:
            env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
            env["WUJI_VAR_DIR"] = tempfile.mkdtemp(prefix="wuji-simulate-")
            command = [sys.executable, "-m", "django", "simulate", "--here", "--days", str(days),
                       "--customers", str(customers)]
            env.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
            raise SystemExit(subprocess.call(command, env=env, cwd=settings.BASE_DIR))
        call_command("migrate", interactive=False, verbosity=0)
        catalogue = testing.load_test_catalogue()
        self.seed(catalogue, customers)
        testing.run_tasks()
        self.stdout.write(f"seeded {customers} customers; {days} days from {clock.local_now():%Y-%m-%d %H:%M}")
        for day in range(1, days + 1):
            start = clock.now()
            for _hour in range(24):
                clock.advance(HOUR)
                scheduler.tick(clock.now())
                testing.run_tasks()
            self.stdout.write(f"day {day}: " + self.summary(start, clock.now()))
        problems = ledger.verify()
        self.stdout.write(f"ledger.verify(): {'clean' if not problems else problems}")

    def seed(self, catalogue, customers: int) -> None:
        """Customers with top-ups of different sizes; prepaid servers via place_order, payg servers via
        place_payg_order; the poorest run out of money within a day or two."""
        big = Plan.objects.get(code="s4")  # 0.40 元/h
        for n in range(customers):
            balance = (100_00, 130_00, 500_00)[n % 3]
            customer = testing.make_customer(f"sim{n}-{os.getpid()}@example.com", balance_fen=balance)
            for k in range(2 if n % 3 == 0 else 1):  # the poorest run two: their balance lasts about three days
                payg.place_payg_order(customer=customer, region=catalogue["region"], plan=big,
                                      image=catalogue["image"], name=f"payg{n}-{k}",
                                      idempotency_key=f"sim-payg-{n}-{k}",
                                      channel="system", ip=None)
            if n % 2 == 0:
                billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                                    image=catalogue["image"], cycle="monthly", name=f"pre{n}",
                                    idempotency_key=f"sim-pre-{n}", channel="system", ip=None)

    def summary(self, start, end) -> str:
        txns = Transaction.objects.filter(created_at__gt=start, created_at__lte=end)
        kinds = Counter(dict(txns.values_list("kind").annotate(n=Count("id"))))
        settled = txns.filter(idempotency_key__startswith="settle:").count()
        revenue = Posting.objects.filter(transaction__in=txns, account__code__startswith="revenue:").aggregate(
            total=Sum("amount"))["total"] or 0
        actions = Counter(dict(Instruction.objects.filter(created_at__gt=start, created_at__lte=end,
                                                          result="accepted").values_list("action")
                               .annotate(n=Count("id"))))
        notices = Counter(dict(Notice.objects.filter(created_at__gt=start, created_at__lte=end)
                               .values_list("event").annotate(n=Count("id"))))
        debt = Meter.objects.filter(~Q(debt_fen=0)).aggregate(total=Sum("debt_fen"))["total"] or 0
        parts = [f"charges {kinds.get('charge', 0)} (payg settlements {settled}), revenue ¥{revenue / 100:.2f}",
                 f"unpaid ¥{debt / 100:.2f}",
                 "actions " + (", ".join(f"{a}×{n}" for a, n in sorted(actions.items())) or "none"),
                 "notices " + (", ".join(f"{e}×{n}" for e, n in sorted(notices.items())) or "none")]
        return "; ".join(parts)
