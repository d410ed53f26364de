"""`wuji check-deploy`: exit 1 and list what is unsafe when the settings are not fit for production."""

import os

from django.core.management.base import BaseCommand, CommandError

from wuji.core import deploy_checks


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class Command(BaseCommand):
    help = ("Refuse unsafe production settings: debug, development secret or encryption keys, SQLite with "
            "several processes, plain-HTTP cookies, no HSTS, wildcard hosts, the payment sandbox, e-mail or SMS "
            "that deliver nothing, and Django's own deployment warnings.")

    def add_arguments(self, parser):
        parser.add_argument("--web-workers", type=int, default=_int_env("WEB_CONCURRENCY", 2),
                            help="gunicorn workers per web server, all servers together (default: $WEB_CONCURRENCY "
                                 "or 2)")
        parser.add_argument("--task-workers", type=int, default=1, help="`wuji worker` processes (default 1)")
        parser.add_argument("--schedulers", type=int, default=1, help="`wuji scheduler` processes (default 1)")

    def handle(self, *args, web_workers, task_workers, schedulers, **options):
        found = deploy_checks.problems(processes=web_workers + task_workers + schedulers)
        for problem in found:
            self.stderr.write(f"✗ {problem.setting}: {problem.message}")
        if found:
            raise CommandError(f"{len(found)} unsafe setting(s): not fit for production")
        self.stdout.write(self.style.SUCCESS("✓ the settings are fit for production"))
