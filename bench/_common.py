"""What bench/api.py and bench/portal.py share: the environment, the population, gunicorn, the load and the table.

Importing this module prepares the environment (a throw-away SQLite file unless DATABASE_URL is set), so import
it before Django. The scripts run as `python bench/<name>.py`, so bench/ is on sys.path and they `import _common`.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["WUJI_VAR_DIR"] = tempfile.mkdtemp(prefix="wuji-bench-")
os.environ.setdefault("WUJI_ALLOWED_HOSTS", "127.0.0.1")
# The rate limiter is counted (its cost is part of the figure) but never refuses the benchmark's one key.
os.environ.setdefault("WUJI_API_RATE_LIMIT_READ", "1000000000/min")


def arguments() -> argparse.Namespace:
    """The options every benchmark takes: concurrent clients, seconds per measurement, gunicorn workers, rows."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    parser.add_argument("--rows", type=int, default=20)
    return parser.parse_args()


def prepare_database() -> str:
    """Set Django up, migrate and load the catalogue. Returns the database vendor."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wuji.core import testing

    call_command("migrate", verbosity=0)
    testing.load_test_catalogue()
    return connection.vendor


def populate_owner(rows: int):
    """A customer with `rows` running servers who has accepted the agreement in force (without it the API
    refuses their keys and the portal sends them to the acceptance page). Returns the user."""
    from django.contrib.auth import get_user_model

    from wuji.agreements import services as agreements
    from wuji.catalog.models import Image, Plan, Region
    from wuji.compute.models import Node, Server
    from wuji.core import clock

    owner = get_user_model().objects.create(email=f"bench-{time.time_ns()}@bench.invalid", password="!")
    node, image = Node.objects.get(name="demo-node-1"), Image.objects.get(code="debian-12")
    region, plan, now = Region.objects.get(code="cn-ganzhou"), Plan.objects.get(code="s1"), clock.now()
    Server.objects.bulk_create([
        Server(owner=owner, name=f"bench-{i}", region=region, plan=plan, image=image, node=node, vcpus=1,
               memory_mib=1024, disk_gib=20, vm_state="active", power_state="running", created_at=now)
        for i in range(rows)])
    version = agreements.current_version()
    if version is not None:
        agreements.accept_current(owner, accepted_version=version.version, ip=None, channel="web")
    return owner


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, workers: int, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers",
                             str(workers), "--worker-class", "sync", "--keep-alive", "30", "--log-level", "warning"],
                            env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"gunicorn ({app}) did not start")


def load(port: int, path: str, headers, *, clients: int, seconds: float,
         check: Callable[[bytes], bool]) -> tuple[int, list[float], int]:
    """`clients` threads, each with a keep-alive connection, for `seconds`; `headers(port)` gives each request's
    headers. A response counts when it is a 200 whose body passes `check`. Returns (ok, latencies, errors)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers(port))
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if response.status != 200 or not check(body):
                errors[i] += 1
                continue
            latencies[i].append(time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = [value for per_client in latencies for value in per_client]
    return len(flat), flat, sum(errors)


def measure(name: str, app: str, path: str, headers, args, env: dict,
            check: Callable[[bytes], bool]) -> dict:
    """One row of the table: a fresh gunicorn serving `app`, warmed up, then loaded for `args.seconds`."""
    proc, port = start_gunicorn(app, args.workers, env)
    try:
        load(port, path, headers, clients=args.clients, seconds=2, check=check)  # warm up: connections, caches
        ok, latencies, errors = load(port, path, headers, clients=args.clients, seconds=args.seconds, check=check)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {"name": name, "rps": ok / args.seconds, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "errors": errors}


def print_row(row: dict, baseline: dict | None = None) -> None:
    """One line of the table; beside a baseline, the throughput ratio to it."""
    ratio = ""
    if baseline is not None:
        ratio = f"   ×{row['rps'] / baseline['rps']:.2f} of baseline" if baseline["rps"] else "   × n/a"
    print(f"{row['name']:<44} {row['rps']:8.0f} req/s   p50 {row['p50']:6.1f} ms   p99 {row['p99']:6.1f} ms"
          f"   errors {row['errors']}{ratio}")
