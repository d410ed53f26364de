import logging
import time

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker

from wuji.compute import hypervisors

logger = logging.getLogger("wuji.worker")

DATABASE_GONE = (OperationalError, InterfaceError)
RECONNECT_DELAYS = (0.5, 1, 2, 4, 5)  # seconds between attempts while the database is away; the last repeats


def _reconnect_pause(attempt: int) -> None:
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except DATABASE_GONE:  # closing a connection the server already dropped
            pass
    time.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])


class Worker(db_worker.Worker):
    """django-tasks-db's worker, made to outlive a database restart (decision 0052).

    Its loop re-raises any error but SQLite's "database is locked" from the query that claims the next task,
    and a task's result row is written with three quick retries on the same, dead, connection: a PostgreSQL
    restart (or fail-over) ended the process, and a task finishing during the outage stayed RUNNING for ever.
    Here a lost connection is closed and the loop waits for the database to come back; a task's result is
    written once it is back (the task itself ran to its end, or failed on the outage and is recorded failed:
    the reconcilers and retry jobs finish what it left, as for a killed worker)."""

    def run(self) -> None:
        attempt = 0
        while self.running:
            try:
                return super().run()
            except DATABASE_GONE as exc:
                if not self.running:
                    raise
                logger.warning("the database is unavailable (%s); the worker waits for it", exc)
                _reconnect_pause(attempt)
                attempt += 1

    def run_task(self, db_task_result) -> None:
        for name in ("set_successful", "set_failed"):
            setattr(db_task_result, name, self._until_recorded(getattr(db_task_result, name)))
        super().run_task(db_task_result)

    def _until_recorded(self, record):
        def wrapper(*args, **kwargs):
            attempt = 0
            while True:
                try:
                    return record(*args, **kwargs)
                except DATABASE_GONE as exc:
                    if not self.running:
                        raise
                    logger.warning("cannot record the task's result (%s); retrying when the database is back", exc)
                    _reconnect_pause(attempt)
                    attempt += 1
                    close_old_connections()
        return wrapper


class Command(BaseCommand):
    help = "Run a task worker (several may run at once; tasks are claimed with row locks)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument("--interval", type=float, default=0.5)

    def handle(self, *args, batch, interval, **options):
        hypervisors.prepare_demo_hypervisors(log=self.stdout.write)
        db_worker.Command(stdout=self.stdout, stderr=self.stderr).configure_logging(options["verbosity"])
        worker = Worker(queue_names=["*"], interval=interval, batch=batch,
                        backend_name=db_worker.DEFAULT_TASK_BACKEND_ALIAS, startup_delay=True, max_tasks=None,
                        worker_id=get_random_string(32), excluded_queue_names=[])
        worker.configure_signals()
        worker.run()
