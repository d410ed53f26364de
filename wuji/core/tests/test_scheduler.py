import datetime as dt
import signal
import threading

import pytest
from django.db import connection
from django.test import override_settings
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from wuji.core import scheduler
from wuji.core.models import ScheduledRun


@task()
def heartbeat() -> str:
    return "beat"


JOB = scheduler.PeriodicJob(name="test.heartbeat", interval=dt.timedelta(minutes=5), task=heartbeat)
T0 = dt.datetime(2026, 11, 27, 3, 0, 30, tzinfo=dt.UTC)


def test_slot_start_floors_to_the_interval():
    assert scheduler.slot_start(T0, dt.timedelta(minutes=5)) == dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    assert scheduler.slot_start(T0 + dt.timedelta(minutes=4, seconds=29), dt.timedelta(minutes=5)).minute == 0


@pytest.mark.django_db
def test_a_job_is_enqueued_once_per_slot_however_often_it_ticks():
    assert scheduler.tick(T0, jobs=[JOB]) == ["test.heartbeat"]
    assert scheduler.tick(T0 + dt.timedelta(seconds=10), jobs=[JOB]) == []
    assert scheduler.tick(T0 + dt.timedelta(minutes=4), jobs=[JOB]) == []
    assert ScheduledRun.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="heartbeat").count() == 1


@pytest.mark.django_db
def test_the_next_slot_enqueues_again():
    scheduler.tick(T0, jobs=[JOB])
    assert scheduler.tick(T0 + dt.timedelta(minutes=5), jobs=[JOB]) == ["test.heartbeat"]
    assert ScheduledRun.objects.count() == 2


@pytest.mark.django_db
def test_a_test_slot_length_replaces_every_jobs_interval():
    """WUJI_SCHEDULER_SLOT_SECONDS (the scale-out test): a 5-minute job gets a slot every 10 s, still once each."""
    with override_settings(WUJI_SCHEDULER_SLOT_SECONDS=10):
        assert scheduler.interval_of(JOB) == dt.timedelta(seconds=10)
        assert scheduler.tick(T0, jobs=[JOB]) == ["test.heartbeat"]
        assert scheduler.tick(T0 + dt.timedelta(seconds=9), jobs=[JOB]) == []  # 03:00:30–03:00:40
        assert scheduler.tick(T0 + dt.timedelta(seconds=10), jobs=[JOB]) == ["test.heartbeat"]
    assert scheduler.interval_of(JOB) == dt.timedelta(minutes=5)
    assert scheduler.tick(T0 + dt.timedelta(seconds=20), jobs=[JOB]) == ["test.heartbeat"]  # the 03:00 slot
    assert scheduler.tick(T0 + dt.timedelta(seconds=30), jobs=[JOB]) == []
    assert sorted(ScheduledRun.objects.values_list("slot", flat=True)) == [
        dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC), T0, T0 + dt.timedelta(seconds=10)]


def test_platform_jobs_are_registered():
    assert "compute.reconcile" in {job.name for job in scheduler.registered_jobs()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_enqueue_a_slot_once():
    barrier = threading.Barrier(6)
    results = []

    def replica():
        try:
            barrier.wait()
            results.extend(scheduler.tick(T0, jobs=[JOB]))
        finally:
            connection.close()

    threads = [threading.Thread(target=replica) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["test.heartbeat"]
    assert ScheduledRun.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="heartbeat").count() == 1


@pytest.mark.django_db
def test_each_enqueued_job_is_logged_as_its_slot_is_claimed(caplog):
    caplog.set_level("INFO", logger="wuji.core.scheduler")
    scheduler.tick(T0, jobs=[JOB])
    scheduler.tick(T0, jobs=[JOB])  # the slot is taken: nothing enqueued, nothing logged
    assert [r.getMessage() for r in caplog.records] == ["enqueued test.heartbeat"]


def test_sigterm_ends_the_loop_after_the_tick_under_way(monkeypatch, caplog):
    """The scale-out test found schedulers stopped mid-tick: slots claimed whose log lines never came."""
    caplog.set_level("INFO", logger="wuji.core.scheduler")
    ticks = []

    def tick():
        ticks.append("started")
        signal.raise_signal(signal.SIGTERM)  # arrives while the tick is under way
        ticks.append("finished")
        return []

    monkeypatch.setattr(scheduler, "tick", tick)
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)
    handler = signal.getsignal(signal.SIGTERM)
    scheduler.run_forever(poll_seconds=600)  # returns at once: the stop does not wait out the poll
    assert ticks == ["started", "finished"]
    assert caplog.records[-1].getMessage() == "scheduler stopped"
    assert signal.getsignal(signal.SIGTERM) is handler
