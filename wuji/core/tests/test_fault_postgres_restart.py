"""Faults, nothing lost (issue 8): PostgreSQL restarted under load, once cleanly (`pg_ctl restart -m fast`), once
as a crash (`-m immediate`: no shutdown checkpoint, crash recovery at start), and once cleanly while no HTTP
request comes in (every web process then holds a dead persistent connection).

Never the machine's shared PostgreSQL: the test starts a throw-away cluster of its own (initdb into a
temporary directory, a free loopback port, its unix socket in that directory), loads the migrated schema into
it (a dump of the test database, which pytest-django migrated; `migrate` when pg_dump cannot), and runs the
platform on it as production does: gunicorn (2 processes), one `wuji worker`, `wuji scheduler`, and a
client process making service calls. Load, bounded:
- payment notices of the sandbox channel POSTed to gunicorn (each credits a top-up once); like a real
  channel, a notice not answered "success" is sent again later;
- GET /status.json (public, reads the database), continuously;
- withdrawals requested by four customers at once (auto-approved: each enqueues its pay-out, which the
  worker carries out); a call that failed is retried with the same idempotency key.

Afterwards: the worker is the same process and recorded every task it ran (none left running), requests
failing during the outage failed cleanly (5xx, never a hang), every request after the database was back
succeeded (no process stuck on a dead connection), every answered operation is there exactly once and every
unanswered one whole or absent, balances add up, ledger and audit chains verify.

PostgreSQL only (the `postgres` mark, `make test-postgres`); skipped when initdb is not installed.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

import wuji
from wuji.payments import sandbox

REPO = Path(wuji.__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("WUJI_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_WITHIN_SECONDS = 120  # a Django process starting on a loaded two-core machine
LOAD_SECONDS = 12
NOTICE_THREADS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A private PostgreSQL cluster in `root` (owned by the postgres user when the test runs as root)."""

    def __init__(self, root: Path):
        self.root, self.data, self.port = root, root / "data", free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, user="postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def run(self, *args, check=True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_owner, *args], cwd=self.root, capture_output=True, text=True, check=check,
                              timeout=120)

    def init(self) -> None:
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")

    def pg_ctl(self, *args) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=60")
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                 "-t", "60", "-o", options, *args)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)


def load_schema(cluster: Cluster, tmp_path: Path) -> None:
    """The migrated schema: a dump of this run's test database, or `migrate` when it cannot be dumped."""
    cluster.run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "wuji")
    db = connection.settings_dict
    dump = tmp_path / "schema.dump"
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    dumped = subprocess.run([str(PG_BIN / "pg_dump"), "-Fc", "-f", str(dump), "-h", db["HOST"] or "127.0.0.1", "-p",
                             str(db["PORT"] or 5432), "-U", db["USER"], db["NAME"]], env=env, capture_output=True,
                            timeout=120)
    if dumped.returncode == 0:
        subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "-h", "127.0.0.1", "-p", str(cluster.port), "-U",
                        "postgres", "-d", "wuji", str(dump)], check=True, capture_output=True, timeout=120)
    else:
        platform(cluster, "migrate", tmp_path)


def platform_env(cluster: Cluster) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": cluster.url("wuji"), "DJANGO_SETTINGS_MODULE": "wuji.settings",
            "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "WUJI_SANDBOX_PAYMENTS": "1",
            "WUJI_SANDBOX_SECRET": settings.WUJI_SANDBOX_SECRET, "WUJI_WITHDRAWAL_APPROVAL": "auto",
            "WUJI_WITHDRAWAL_COUNT_LIMIT": "1000", "WUJI_CONN_MAX_AGE": "60", "WUJI_DEBUG": "0"}


def platform(cluster: Cluster, command: str, tmp_path: Path, *args: str) -> str:
    if command == "migrate":
        argv = [sys.executable, "-m", "wuji.cli", "migrate", "-v0"]
    else:
        argv = [sys.executable, "-m", "wuji.core.tests.pg_restart_load", command, str(tmp_path), *args]
    done = subprocess.run(argv, env=platform_env(cluster), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def start(argv: list[str], cluster: Cluster, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, env=platform_env(cluster), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def get(url: str, data: dict | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, data=body, timeout=15) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return 0, type(exc).__name__


class Load:
    """The HTTP side: notices (each retried until answered "success") and status reads, every answer logged
    with the time it was asked."""

    def __init__(self, base: str, pending: list[dict]):
        self.base, self.queue, self.lock = base, list(pending), threading.Lock()
        self.answers: list[tuple[float, float, str, int]] = []  # (asked at, took, what, HTTP status or 0)
        self.acknowledged: dict[str, int] = {}  # out_trade_no -> how many "success" answers
        self.stopping, self.quiet, self.idle = threading.Event(), threading.Event(), threading.Semaphore(0)

    def notice(self, item: dict) -> dict:
        params = {"out_trade_no": item["out_trade_no"], "trade_no": item["trade_no"],
                  "amount_fen": str(item["amount_fen"]), "status": "SUCCESS"}
        return {**params, "sign": sandbox.sign(params)}

    def ask(self, what: str, data: dict | None = None) -> tuple[int, str]:
        asked = time.monotonic()
        status, text = get(self.base + what, data)
        with self.lock:
            self.answers.append((asked, time.monotonic() - asked, what, status))
        return status, text

    def run(self) -> None:
        while not self.stopping.is_set():
            if self.quiet.is_set():  # no traffic: the web processes sit idle on their persistent connections
                self.idle.release()
                while self.quiet.is_set():
                    time.sleep(0.05)
            with self.lock:
                item = self.queue.pop(0) if self.queue else None
            if item is not None:
                status, text = self.ask("/payments/notify/sandbox/", self.notice(item))
                if status == 200 and text == "success":
                    with self.lock:
                        self.acknowledged[item["out_trade_no"]] = self.acknowledged.get(item["out_trade_no"], 0) + 1
                else:
                    with self.lock:
                        self.queue.append(item)  # the channel sends it again later
            self.ask("/status.json")
            time.sleep(0.05)


def wait_http(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_WITHIN_SECONDS
    while get(base + "/status.json")[0] != 200:
        assert proc.poll() is None, log.read_text(errors="replace")[-4000:]
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
        time.sleep(0.3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_restarted_under_load_loses_nothing(tmp_path):
    began = time.monotonic()
    phases: dict[str, float] = {}
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries (initdb) are not installed in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="wuji-pg-"))  # not under tmp_path: pytest keeps that private to root
    cluster = Cluster(root)
    procs: list[subprocess.Popen] = []
    try:
        cluster.init()
        cluster.pg_ctl("start")
        load_schema(cluster, tmp_path)
        platform(cluster, "setup", tmp_path)
        pending = json.loads((tmp_path / "setup.json").read_text())["pending"]

        http_port = free_port()
        base = f"http://127.0.0.1:{http_port}"
        web = start([sys.executable, "-m", "gunicorn", "wuji.wsgi:application", "--bind", f"127.0.0.1:{http_port}",
                     "--workers", "2", "--timeout", "60", "--graceful-timeout", "5"], cluster, tmp_path / "web.log")
        worker = start([sys.executable, "-m", "wuji.cli", "worker", "--interval", "0.2"], cluster,
                       tmp_path / "worker.log")
        clients = start([sys.executable, "-m", "wuji.core.tests.pg_restart_load", "withdraw", str(tmp_path),
                         str(LOAD_SECONDS)], cluster, tmp_path / "clients.log")
        scheduler = start([sys.executable, "-m", "wuji.cli", "scheduler", "--poll", "0.5"], cluster,
                          tmp_path / "scheduler.log")
        procs += [web, worker, clients, scheduler]
        phases["cluster and schema"] = time.monotonic() - began
        wait_http(base, web, tmp_path / "web.log")
        phases["platform up"] = time.monotonic() - began

        load = Load(base, pending)
        threads = [threading.Thread(target=load.run, daemon=True) for _ in range(NOTICE_THREADS)]
        (tmp_path / "go").touch()
        for thread in threads:
            thread.start()
        time.sleep(LOAD_SECONDS / 4)
        outages = []
        for mode in ("fast", "immediate"):  # a clean restart, then a crash and crash recovery
            down = time.monotonic()
            cluster.pg_ctl("-m", mode, "restart")
            outages.append((down, time.monotonic()))
            time.sleep(LOAD_SECONDS / 4)
        # A restart while no request comes in (a night's maintenance): the next request of every web process
        # finds its persistent connection dead; it must not fail for it.
        load.quiet.set()
        for _thread in threads:
            assert load.idle.acquire(timeout=30)
        down = time.monotonic()
        cluster.pg_ctl("-m", "fast", "restart")
        outages.append((down, time.monotonic()))
        load.quiet.clear()

        assert clients.wait(timeout=LOAD_SECONDS + 120) == 0, (tmp_path / "clients.log").read_text()[-4000:]
        deadline = time.monotonic() + 60
        while load.queue and time.monotonic() < deadline:  # the channel's resends, database up
            time.sleep(0.2)
        settled_at = time.monotonic()
        time.sleep(2)  # a few more reads with everything settled
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not load.queue, f"notices never answered: {load.queue[:5]} {load.answers[-3:]}"

        # The worker outlived both restarts and runs what was enqueued after them: wait until it is idle.
        deadline = time.monotonic() + 60
        with psycopg.connect(cluster.url("wuji"), autocommit=True) as db:
            busy = f"SELECT count(*) FROM {DBTaskResult._meta.db_table} WHERE status IN ('READY', 'RUNNING')"
            while db.execute(busy).fetchone()[0] and time.monotonic() < deadline:
                time.sleep(0.2)
        facts = json.loads(platform(cluster, "check", tmp_path))
        phases["checked"] = time.monotonic() - began
        assert worker.poll() is None, (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
        assert web.poll() is None, (tmp_path / "web.log").read_text(errors="replace")[-4000:]
        assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text(errors="replace")[-4000:]
    finally:
        for proc in procs:
            stop(proc)
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

    # HTTP: during the outages, failures were clean (5xx or a refused connection, never a hang); once the
    # database was back, every request succeeded: no gunicorn process kept a dead connection.
    assert all(took < 15 for _asked, took, _what, _status in load.answers)
    assert {status for _a, _t, _w, status in load.answers} <= {200, 500, 502, 503, 0}
    # The scheduler (a tick every 0.5 s) failed only while the database was down, not on every tick after it.
    failed_ticks = (tmp_path / "scheduler.log").read_text(errors="replace").count("scheduler tick failed")
    outage_seconds = sum(up - down for down, up in outages)
    assert failed_ticks <= 2 * outage_seconds / 0.5 + 2 * len(outages), (failed_ticks, outage_seconds)
    last_up = outages[-1][1]
    for (_down, up), (next_down, _up) in zip(outages, [*outages[1:], (float("inf"), 0)], strict=True):
        settled = up + (0 if up == last_up else 0.5)  # the last restart had no traffic: no request in flight
        window = [(what, status) for asked, took, what, status in load.answers if settled < asked
                  and asked + took < next_down]  # asked once it was back, answered before the next went down
        assert window and all(status == 200 for _what, status in window), [a for a in window if a[1] != 200][:5]
    failed = sum(1 for *_rest, status in load.answers if status != 200)

    # Every notice answered "success" credited its top-up exactly once; the resends credited nothing more.
    assert set(load.acknowledged) == {item["out_trade_no"] for item in pending}
    for item in pending:
        topup = facts["topups"][item["out_trade_no"]]
        assert (topup["status"], topup["has_credit"], topup["credits"]) == ("paid", True, 1), (item, topup)

    # Withdrawals: each answered request is there once, whole (hold posted, legs paid, instruction with its
    # outcome); none is there twice; there is nothing no client asked for.
    asked = json.loads((tmp_path / "withdraw.json").read_text())
    assert asked and all(result["answered"] for result in asked.values()), [
        (k, r) for k, r in asked.items() if not r["answered"]][:5]
    assert set(facts["withdrawals"]) == set(asked)
    for key, result in asked.items():
        row = facts["withdrawals"][key]
        assert row["id"] == result["answered"]
        assert (row["status"], row["hold"]) == ("completed", True), (key, row)
        assert row["legs"] and set(row["legs"]) == {"succeeded"} and row["paid"] == len(row["legs"]), (key, row)
        assert (row["instructions"], row["outcomes"]) == (1, ["succeeded"]), key
    retried_by_clients = sum(1 for result in asked.values() if result["failures"])

    # Balances: 1000.00 paid in, plus every notice's top-up, less 10.00 a withdrawal.
    for pk, balances in facts["customers"].items():
        credited = sum(item["amount_fen"] for item in pending if str(item["customer"]) == pk)
        withdrawn = 10_00 * sum(1 for result in asked.values() if str(result["customer"]) == pk)
        assert balances == {"cash": 1000_00 + credited - withdrawn, "gift": 0, "frozen": 0}, pk
    assert facts["tasks"].get("RUNNING", 0) == 0 and facts["tasks"].get("READY", 0) == 0, facts["tasks"]
    assert facts["ledger_verify"] == [] and facts["audit_verify"] == []
    print(f"\npg restart: {len(load.answers)} HTTP requests ({failed} failed during the outages), "
          f"{len(asked)} withdrawals ({retried_by_clients} retried by their client), tasks {facts['tasks']} "
          f"(failed: {facts['failed_tasks']}), "
          f"legs resent by the retry job {facts['retried_legs']}, outages "
          f"{[round(up - down, 2) for down, up in outages]} s, settled {round(settled_at - last_up, 1)} s after; "
          f"phases {({k: round(v, 1) for k, v in phases.items()})}, failed scheduler ticks {failed_ticks}")
