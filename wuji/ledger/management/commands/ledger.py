from django.core.management.base import BaseCommand, CommandError

from wuji.ledger import services


class Command(BaseCommand):
    help = "Ledger tools. `wuji ledger verify` checks every invariant and exits non-zero on any violation."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        problems = services.verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"ledger verification failed: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("ledger verified: every transaction balances, every balance matches"))
