"""Periodic jobs: each job is enqueued at most once per time slot, whoever ticks.

A slot is `floor(epoch / interval) * interval`. `tick()` inserts (job, slot) into ScheduledRun and
enqueues the job's task in the same transaction; a duplicate insert (another replica got there first)
rolls back that job only. Several schedulers can therefore run side by side.

`settings.WUJI_SCHEDULER_SLOT_SECONDS` gives every job the same, short slot instead of its own interval (the
scale-out test; `wuji check-deploy` refuses it in production).
"""

import dataclasses
import datetime as dt
import logging
import signal
import threading

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction

from . import clock
from .models import ScheduledRun

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: dt.timedelta
    task: object  # a django_tasks Task taking no arguments


_registry: dict[str, PeriodicJob] = {}


def periodic(name: str, *, every: dt.timedelta):
    """Decorator for a django_tasks Task: run it once per `every`."""

    def register(task):
        _registry[name] = PeriodicJob(name=name, interval=every, task=task)
        return task

    return register


def registered_jobs() -> list[PeriodicJob]:
    return sorted(_registry.values(), key=lambda job: job.name)


def interval_of(job: PeriodicJob) -> dt.timedelta:
    """The job's slot length: its own interval unless WUJI_SCHEDULER_SLOT_SECONDS overrides every job's."""
    override = getattr(settings, "WUJI_SCHEDULER_SLOT_SECONDS", 0)
    return dt.timedelta(seconds=override) if override else job.interval


def slot_start(moment: dt.datetime, interval: dt.timedelta) -> dt.datetime:
    seconds = int(interval.total_seconds())
    epoch = int(moment.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)


def tick(moment: dt.datetime | None = None, jobs: list[PeriodicJob] | None = None) -> list[str]:
    """Enqueue every due job for the slot containing `moment`. Returns the names enqueued by this call."""
    moment = moment or clock.now()
    enqueued = []
    for job in jobs if jobs is not None else registered_jobs():
        slot = slot_start(moment, interval_of(job))
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot, enqueued_at=clock.now())
                result = job.task.enqueue()
                run.task_result_id = str(result.id)
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # this slot was already taken by another tick
        log.info("enqueued %s", job.name)  # each as it is committed: the log accounts for every claimed slot
        enqueued.append(job.name)
    return enqueued


def run_forever(poll_seconds: float = 5.0) -> None:
    """Tick every `poll_seconds` until SIGTERM or SIGINT, which end the loop after the tick under way: a stop
    (systemd, a deploy) never cuts a tick between a slot's claim and its log line."""
    stopping = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stopping.set()) for signum in (signal.SIGTERM,
                                                                                        signal.SIGINT)}
    log.info("scheduler started with jobs: %s", ", ".join(j.name for j in registered_jobs()))
    try:
        while not stopping.is_set():
            close_old_connections()  # drop a connection the database lost (a restart): the next tick reconnects
            try:
                tick()
            except Exception:
                log.exception("scheduler tick failed; retrying")
            stopping.wait(poll_seconds)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("scheduler stopped")
