"""Metrics ingestion throughput: samples/second stored by the collector's storage path (`metrics.sample_row` +
`metrics.store`: COPY on PostgreSQL, bulk INSERT on SQLite, into the indexed ServerSample table) beside a
baseline measured in the same run: the same rows written raw into a plain table with no index (psycopg COPY
on PostgreSQL, sqlite3 executemany on SQLite). Also times whole collector runs (`metrics.collect()` over the
fake hypervisor: server query, bulk stats call, rows, write).

    .venv/bin/python bench/metrics.py [--servers 10000] [--runs 10]        # SQLite (a throw-away file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuji_bench .venv/bin/python bench/metrics.py

Each run writes one sample per server in its own transaction, as the collector does once a minute.
"""

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["WUJI_VAR_DIR"] = tempfile.mkdtemp(prefix="wuji-bench-")

PLAIN = "bench_metrics_plain"


def populate(n: int) -> list:
    """n running servers on the demo node, each with an instance on the fake hypervisor."""
    from django.contrib.auth import get_user_model

    from wuji.catalog.models import Image, Plan, Region
    from wuji.compute.drivers import ImageRef, InstanceSpec
    from wuji.compute.models import Node, Server
    from wuji.compute.tasks import driver_for
    from wuji.core import clock

    owner = get_user_model().objects.create(email=f"metrics-{time.time_ns()}@bench.invalid", password="!")
    node, image = Node.objects.get(name="demo-node-1"), Image.objects.get(code="debian-12")
    region, plan, now = Region.objects.get(code="cn-ganzhou"), Plan.objects.get(code="s1"), clock.now()
    servers = Server.objects.bulk_create([
        Server(owner=owner, name="bench", region=region, plan=plan, image=image, node=node, vcpus=1, memory_mib=1024,
               disk_gib=20, vm_state="active", power_state="running", created_at=now) for _ in range(n)],
        batch_size=2000)
    driver = driver_for(node)
    for server in servers:
        driver.spawn(InstanceSpec(uuid=str(server.uuid), name="bench", vcpus=1, memory_mib=1024, disk_gib=20,
                                  image=ImageRef(image.volume)))
        driver.add_usage(str(server.uuid), net_rx_bytes=server.pk * 1500, net_tx_packets=server.pk)
    return servers


def make_plain_table(vendor: str) -> None:
    from django.db import connection

    from wuji.compute import metrics

    bigint = "bigint" if vendor == "postgresql" else "integer"
    when = "timestamptz" if vendor == "postgresql" else "text"
    columns = ", ".join(f"{c} {when if c == 'at' else bigint}" for c in metrics.COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        cursor.execute(f"CREATE TABLE {PLAIN} ({columns})")


def time_storage_path(servers, stats, runs: int, t0: dt.datetime) -> float:
    from wuji.compute import metrics

    ids = {str(s.uuid): s.pk for s in servers}
    started = time.perf_counter()
    for run in range(runs):
        at = t0 + dt.timedelta(minutes=run)
        metrics.store([metrics.sample_row(ids[s.uuid], at, s) for s in stats])
    return time.perf_counter() - started


def time_baseline(rows_per_run: list[tuple], runs: int, t0: dt.datetime, vendor: str) -> float:
    from django.db import connection, transaction

    from wuji.compute import metrics

    columns = ", ".join(metrics.COLUMNS)
    started = time.perf_counter()
    for run in range(runs):
        at = t0 + dt.timedelta(minutes=run)
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {PLAIN} ({columns}) FROM STDIN") as copy:
                    for server_id, *counters in rows_per_run:
                        copy.write_row((server_id, at, *counters))
            else:
                when = at.isoformat(sep=" ")
                marks = ", ".join("?" * len(metrics.COLUMNS))
                cursor.cursor.executemany(f"INSERT INTO {PLAIN} ({columns}) VALUES ({marks})",
                                          [(server_id, when, *counters) for server_id, *counters in rows_per_run])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=10_000, help="running servers (samples per run)")
    parser.add_argument("--runs", type=int, default=10, help="collector runs to store")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wuji.compute import metrics
    from wuji.compute.models import ServerSample
    from wuji.compute.tasks import driver_for
    from wuji.core import clock, testing

    call_command("migrate", verbosity=0)
    testing.load_test_catalogue()
    vendor = connection.vendor
    print(f"populating {args.servers} running servers …", flush=True)
    servers = populate(args.servers)
    driver = driver_for(servers[0].node)
    stats = driver.get_instance_stats([str(s.uuid) for s in servers])  # one bulk call, as the collector makes
    samples = args.servers * args.runs
    t0 = clock.now() - dt.timedelta(days=1)

    make_plain_table(vendor)
    store_seconds = time_storage_path(servers, stats, args.runs, t0)
    rows = [(s.pk, *metrics.sample_row(s.pk, t0, st)[2:]) for s, st in zip(servers, stats, strict=True)]
    base_seconds = time_baseline(rows, args.runs, t0, vendor)
    started = time.perf_counter()
    collected = sum(metrics.collect().samples for _ in range(args.runs))
    collect_seconds = time.perf_counter() - started

    raw = "psycopg COPY" if vendor == "postgresql" else "sqlite3 executemany"
    print(f"database: {vendor}, servers: {args.servers}, runs: {args.runs}, samples per path: {samples}")
    print(f"storage path (rows + {'COPY' if vendor == 'postgresql' else 'bulk INSERT'}, indexed table): "
          f"{samples / store_seconds:10.0f} samples/s  {store_seconds:7.2f} s")
    print(f"baseline ({raw}, plain table, no index):     {samples / base_seconds:10.0f} samples/s  "
          f"{base_seconds:7.2f} s")
    print(f"ratio storage path / baseline time: {store_seconds / base_seconds:.2f}")
    print(f"whole collector runs (query + bulk stats + write): {collected / collect_seconds:10.0f} samples/s  "
          f"{collect_seconds / args.runs:.3f} s per run of {args.servers} servers")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PLAIN}")
    ServerSample.objects.filter(server_id__in=[s.pk for s in servers]).delete()


if __name__ == "__main__":
    main()
