from django.core.management import call_command
from django.core.management.base import BaseCommand

from wuji.compute import hypervisors


class Command(BaseCommand):
    help = "Run a task worker (several may run at once; tasks are claimed with row locks)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument("--interval", type=float, default=0.5)

    def handle(self, *args, batch, interval, **options):
        hypervisors.prepare_demo_hypervisors(log=self.stdout.write)
        call_command("db_worker", batch=batch, interval=interval, queue_name="*", verbosity=options["verbosity"])
