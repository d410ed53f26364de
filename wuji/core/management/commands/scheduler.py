from django.core.management.base import BaseCommand

from wuji.core import scheduler


class Command(BaseCommand):
    help = "Run the periodic-job scheduler (safe to run on several machines: one enqueue per job and slot)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=5.0, help="seconds between ticks")
        parser.add_argument("--once", action="store_true", help="tick once and exit")

    def handle(self, *args, poll, once, **options):
        if once:
            self.stdout.write(", ".join(scheduler.tick()) or "nothing due")
            return
        scheduler.run_forever(poll_seconds=poll)
