"""API throughput and latency: an authenticated `GET /api/v1/servers/` (20 rows) under concurrent clients on
gunicorn, beside a baseline measured in the same run: a bare Django view returning the same 20 rows from the
same table (bench/api_baseline.py), on the same gunicorn settings.

    .venv/bin/python bench/api.py [--clients 16] [--seconds 10] [--workers N]      # SQLite (throw-away file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuji_bench .venv/bin/python bench/api.py

Goal (issue 8): at least 0.6 of the baseline's throughput, p99 under 100 ms. Clients are threads with
keep-alive connections on this machine, so they share its cores with the servers: compare the two rows,
not the absolute figures.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["WUJI_VAR_DIR"] = tempfile.mkdtemp(prefix="wuji-bench-")
os.environ.setdefault("WUJI_ALLOWED_HOSTS", "127.0.0.1")
# The rate limiter is counted (its cost is part of the figure) but never refuses the benchmark's one key.
os.environ.setdefault("WUJI_API_RATE_LIMIT_READ", "1000000000/min")


def populate(rows: int) -> tuple[int, str, str]:
    """A customer with `rows` servers and an API key. Returns (owner id, key id, secret)."""
    from django.contrib.auth import get_user_model

    from wuji.agreements import services as agreements
    from wuji.api import services as api
    from wuji.catalog.models import Image, Plan, Region
    from wuji.compute.models import Node, Server
    from wuji.core import clock

    owner = get_user_model().objects.create(email=f"api-{time.time_ns()}@bench.invalid", password="!")
    node, image = Node.objects.get(name="demo-node-1"), Image.objects.get(code="debian-12")
    region, plan, now = Region.objects.get(code="cn-ganzhou"), Plan.objects.get(code="s1"), clock.now()
    Server.objects.bulk_create([
        Server(owner=owner, name=f"bench-{i}", region=region, plan=plan, image=image, node=node, vcpus=1,
               memory_mib=1024, disk_gib=20, vm_state="active", power_state="running", created_at=now)
        for i in range(rows)])
    version = agreements.current_version()
    if version is not None:  # API keys of an owner who has not accepted the agreement in force are refused
        agreements.accept_current(owner, accepted_version=version.version, ip=None, channel="web")
    key, secret = api.create_key(owner=owner, name="bench", ip=None)
    return owner.pk, key.key_id, secret


def signer(key_id: str, secret: str, path: str):
    """Headers for one signed GET of `path` (a new nonce each time, as a real client sends)."""
    from wuji_sdk import signing

    def headers(port: int) -> dict:
        return signing.sign(key_id=key_id, secret=secret, method="GET", path=path,
                            headers={"host": f"127.0.0.1:{port}"})

    return headers


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


def load(port: int, path: str, headers, *, clients: int, seconds: float) -> tuple[int, list[float], int]:
    """`clients` threads, each with a keep-alive connection, for `seconds`; `headers(port)` gives each request's
    headers. Returns (ok, latencies, errors)."""
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
            if response.status != 200 or b'"results"' not in body:
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


def measure(name: str, app: str, path: str, headers, args, env: dict) -> dict:
    proc, port = start_gunicorn(app, args.workers, env)
    try:
        load(port, path, headers, clients=args.clients, seconds=2)  # warm up: connections, caches, workers
        ok, latencies, errors = load(port, path, headers, clients=args.clients, seconds=args.seconds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {"name": name, "rps": ok / args.seconds, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wuji.core import testing

    call_command("migrate", verbosity=0)
    testing.load_test_catalogue()
    owner_id, key_id, secret = populate(args.rows)
    vendor = connection.vendor
    connection.close()
    env = {**os.environ, "BENCH_OWNER_ID": str(owner_id), "PYTHONPATH": str(ROOT)}

    api = measure("GET /api/v1/servers/ (signed, DRF)", "wuji.wsgi:application", "/api/v1/servers/",
                  signer(key_id, secret, "/api/v1/servers/"), args, env)
    base = measure("baseline: bare Django view", "bench.api_baseline:application", "/baseline/servers/",
                   lambda port: {}, args, env)
    print(f"database: {vendor}, rows: {args.rows}, clients: {args.clients}, gunicorn workers: {args.workers}, "
          f"{args.seconds:.0f} s each")
    for row in (api, base):
        print(f"{row['name']:<40} {row['rps']:8.0f} req/s   p50 {row['p50']:6.1f} ms   p99 {row['p99']:6.1f} ms"
              f"   errors {row['errors']}")
    ratio = api["rps"] / base["rps"] if base["rps"] else 0.0
    print(f"API / baseline throughput: {ratio:.2f} (goal ≥ 0.60); API p99 {api['p99']:.1f} ms (goal < 100 ms)")


if __name__ == "__main__":
    main()
