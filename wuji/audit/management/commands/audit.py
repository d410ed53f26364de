from django.core.management.base import BaseCommand, CommandError

from wuji.audit import services


class Command(BaseCommand):
    help = "Instruction log tools. `wuji audit verify` walks the hash chain and exits non-zero if it is broken."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        problems = services.verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"instruction chain verification failed: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("instruction chain verified"))
