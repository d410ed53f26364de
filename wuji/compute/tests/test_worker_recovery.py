"""A real `wuji worker` process is killed (SIGKILL) in the middle of an operation; the reconciler recovers.

The worker is a separate process on the test database, committed data shared with this test: PostgreSQL
(the `make test-postgres` leg). The in-memory SQLite test database cannot be shared with another process,
and a file-based one cannot be flushed after a transactional test (the ledger's append-only triggers refuse
the DELETEs; PostgreSQL truncates), as for the project's other transactional tests.

The fake hypervisor lives inside each process, so the worker cannot be blocked from here: its environment
holds it at the entry of `power_off` (WUJI_FAKE_DRIVER_HOLD, see drivers/fake.py), before it changed
anything on its own fake node. The node the reconciler reads is this process's fake node, where the guest
then shuts down by itself (as if the ACPI request had arrived before the worker died).
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

import wuji
from wuji.compute import tasks
from wuji.compute.choices import Operation, PowerState, TaskState, VmState
from wuji.core import clock, testing

from .test_operations import active_server, fake, operate

REPO = Path(wuji.__file__).resolve().parents[1]
HELD_WITHIN_SECONDS = 120  # Django start-up of a second process on a loaded two-core machine


def shared_database_url() -> str:
    """The PostgreSQL test database as a DATABASE_URL for another process."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(tmp_path: Path, database_url: str, hold_at: str) -> tuple[subprocess.Popen, Path, Path]:
    """`wuji worker` from this checkout on the shared database, held at `hold_at` (its own session)."""
    marker, log = tmp_path / "held", tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "wuji.settings",
           "WUJI_FAKE_DRIVER_HOLD": f"{hold_at}:{marker}", "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wuji.cli", "worker", "--interval", "0.2"], env=env,
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, marker, log


def wait_until_held(proc: subprocess.Popen, marker: Path, log: Path) -> None:
    deadline = time.monotonic() + HELD_WITHIN_SECONDS
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not reach the operation within {HELD_WITHIN_SECONDS} s:\n"
                        f"{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.1)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's own process group (only what this test started)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture
def platform_clock():
    yield clock
    clock.reset()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reconciler_recovers_a_stop_whose_worker_was_killed(tmp_path, platform_clock):
    catalogue = testing.load_test_catalogue()
    server = active_server(testing.make_customer("kill@example.com", balance_fen=10_000), catalogue)
    instruction, _ = operate(server, Operation.STOP)

    proc, marker, log = start_worker(tmp_path, shared_database_url(), hold_at="power_off")
    try:
        wait_until_held(proc, marker, log)
        assert DBTaskResult.objects.get(task_path="wuji.compute.tasks.run_operation").status == "RUNNING"
    finally:
        kill(proc)
    assert proc.returncode == -signal.SIGKILL
    fake().power_off(str(server.uuid), timeout=0)  # the guest went down after the worker died

    # Within the timeout the operation is still in flight: the reconciler leaves it alone.
    assert tasks.reconcile.call()["recovered"] == 0
    server.refresh_from_db()
    assert (server.task_state, server.vm_state) == (TaskState.STOPPING, VmState.ACTIVE)

    platform_clock.advance(dt.timedelta(seconds=settings.WUJI_OPERATION_TIMEOUT_SECONDS + 1))
    assert tasks.reconcile.call()["recovered"] == 1
    server.refresh_from_db()
    assert (server.task_state, server.vm_state, server.power_state) == ("", VmState.STOPPED, PowerState.SHUTDOWN)
    assert "操作超时" in server.last_error
    outcome = instruction.outcomes.get()
    assert outcome.result == "failed" and "reconciler" in outcome.detail

    operate(server, Operation.START)  # a new instruction is accepted and carried out
    assert testing.run_tasks() == 1
    server.refresh_from_db()
    assert (server.task_state, server.vm_state, server.last_error) == ("", VmState.ACTIVE, "")
