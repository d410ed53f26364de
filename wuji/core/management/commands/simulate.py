"""`wuji simulate --days N`: preview the platform's money and lifecycle policy over a seeded population.

By default it runs in a throw-away SQLite database in a temporary directory (a child process with its
own WUJI_VAR_DIR), so it never touches real data; `--here` runs it in the configured database instead,
which must be empty of customers (meant for a scratch PostgreSQL). Policy settings are read from the
environment as usual, so `WUJI_SPENDING_ORDER=cash_first wuji simulate --days 40` previews that change.
"""

import os
import subprocess
import sys
import tempfile

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the platform clock forward over a seeded population and print what happened."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--customers", type=int, default=12)
        parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed, the same run")
        parser.add_argument("--here", action="store_true",
                            help="use the configured database (empty) instead of a throw-away one")

    def handle(self, *args, days, customers, seed, here, **options):
        if not 1 <= days <= 3660:
            raise CommandError("--days must be between 1 and 3660")
        if not 1 <= customers <= 10_000:
            raise CommandError("--customers must be between 1 and 10000")
        if not here:
            self._run_in_scratch_database(days, customers, seed)
            return
        from django.contrib.auth import get_user_model

        from wuji.core import simulation

        call_command("migrate", interactive=False, verbosity=0)
        if get_user_model().objects.filter(is_staff=False).exists():
            raise CommandError("--here needs a database without customers; run without --here for a scratch one")
        ok = simulation.run(days, simulation.Population(customers=customers, seed=seed), self.stdout)
        if not ok:
            raise CommandError("verification failed after the simulation")

    def _run_in_scratch_database(self, days, customers, seed):
        with tempfile.TemporaryDirectory(prefix="wuji-simulate-") as scratch:
            env = {**os.environ, "WUJI_VAR_DIR": scratch, "WUJI_EMAIL_BACKEND":
                   "django.core.mail.backends.locmem.EmailBackend", "WUJI_LOG_LEVEL": "WARNING"}
            env.pop("DATABASE_URL", None)
            self.stdout.write(f"Simulating {days} days for {customers} customers in a scratch database…")
            child = subprocess.run(
                [sys.executable, "-m", "wuji.cli", "simulate", "--here", f"--days={days}",
                 f"--customers={customers}", f"--seed={seed}"], env=env, check=False,
            )
        if child.returncode != 0:
            raise CommandError(f"the simulation failed (exit status {child.returncode})")
