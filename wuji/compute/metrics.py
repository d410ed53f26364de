"""Server metrics for the owner's charts and for abuse detection (滥用检测).

The collector (`collect`, a periodic task every WUJI_METRICS_INTERVAL_SECONDS) asks each node once for the
counters of all its running servers (`get_instance_stats`, libvirt's bulk `getAllDomainStats`) and stores
them as ServerSample rows in one bulk write: COPY on PostgreSQL, a prepared INSERT executed for every row
elsewhere. Counters are stored cumulative, as the hypervisor reports them; rates are computed when read
(`series`, `series_for`), which handles counter resets (the guest's emulator restarted) and missed runs.
`purge` enforces WUJI_METRICS_RETENTION_HOURS in bounded batches. See decision 0026.
"""

import datetime as dt
import functools
import itertools
import logging
import operator
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from wuji.core import clock

from .choices import VmState
from .drivers import DriverError, InstanceStats, get_driver
from .models import Server, ServerSample

log = logging.getLogger(__name__)

# The counters of a sample, in ServerSample's column order (after server_id and at).
COUNTERS = ("cpu_time_ns", "net_rx_bytes", "net_tx_bytes", "net_rx_packets", "net_tx_packets", "disk_read_bytes",
            "disk_write_bytes")
COLUMNS = ("server_id", "at", *COUNTERS)
STEP = dt.timedelta(minutes=1)  # the resolution of a series
PURGE_MAX_BATCHES = 100  # per purge run: with the default batch, a million rows


# --- Collecting ---------------------------------------------------------------------------------------------


@dataclass
class CollectRun:
    nodes: int = 0
    samples: int = 0
    failed_nodes: int = 0


def collect() -> CollectRun:
    """Read every running server's counters, one bulk call per node, and store them in one bulk write.

    The database work does not grow with the number of servers: one query for the servers and their nodes,
    one write. A node that cannot be reached is skipped (its servers get no sample this run)."""
    by_node: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(dict)
    for pk, uuid, *node in Server.objects.filter(vm_state=VmState.ACTIVE, node__isnull=False).values_list(
            "pk", "uuid", "node__uri", "node__virt_type", "node__storage_pool", "node__console_address"):
        by_node[tuple(node)][str(uuid)] = pk
    run, rows = CollectRun(nodes=len(by_node)), []
    for (uri, virt_type, pool, console_address), servers in by_node.items():
        try:
            driver = get_driver(uri, virt_type=virt_type, pool=pool, console_address=console_address)
            stats = driver.get_instance_stats(list(servers))
        except DriverError as exc:
            log.warning("metrics: node %s unreachable: %s", uri, getattr(exc, "detail", None) or exc)
            run.failed_nodes += 1
            continue
        at = clock.now()
        rows.extend(sample_row(servers[s.uuid], at, s) for s in stats)
    store(rows)
    run.samples = len(rows)
    return run


_counters = operator.attrgetter(*COUNTERS)


def sample_row(server_id: int, at: dt.datetime, stats: InstanceStats) -> tuple:
    return (server_id, at, *_counters(stats))


def store(rows: list[tuple]) -> None:
    """Write sample rows (tuples in COLUMNS order) in one statement and transaction: COPY on PostgreSQL, one
    prepared INSERT executed for every row elsewhere (`bulk_create` measured about 7 times slower on
    SQLite; decision 0026)."""
    if not rows:
        return
    table, columns = ServerSample._meta.db_table, ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # psycopg 3's cursor
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = functools.cache(connection.ops.adapt_datetimefield_value)  # a run has one instant per node
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                               [(row[0], adapt(row[1]), *row[2:]) for row in rows])


def purge(*, now: dt.datetime | None = None, batch: int | None = None,
          max_batches: int = PURGE_MAX_BATCHES) -> int:
    """Delete samples older than the retention, oldest first, `batch` rows per transaction so no lock is
    held long; at most `max_batches` per run (the next run goes on). Returns how many were deleted.

    Ids grow with time, so the oldest rows are found by walking the primary key from its start."""
    cutoff = (now or clock.now()) - dt.timedelta(hours=settings.WUJI_METRICS_RETENTION_HOURS)
    batch = batch or settings.WUJI_METRICS_PURGE_BATCH
    deleted = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(ServerSample.objects.filter(at__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch])
            if ids:
                ServerSample.objects.filter(id__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            break
    return deleted


# --- Reading: rates per minute ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatePoint:
    """Average rates over one minute starting at `at`; `None` where the hypervisor reports no such counter.

    CPU is a percentage of the server's vCPUs (100 = every vCPU busy all the minute); network is from the
    guest's side (in = received by the server)."""

    at: dt.datetime
    cpu_percent: float
    net_in_bps: float | None  # bits per second
    net_out_bps: float | None
    packets_in_ps: float | None  # packets per second
    packets_out_ps: float | None
    disk_read_bps: float | None  # bytes per second
    disk_write_bps: float | None


def series(server: Server, *, hours: int = 24, now: dt.datetime | None = None) -> list[RatePoint]:
    """The last `hours` of one server's rates, one point per minute that has samples, oldest first."""
    until = now or clock.now()
    return series_for([server], since=until - dt.timedelta(hours=hours), until=until)[server.pk]


def series_for(servers, *, since: dt.datetime, until: dt.datetime) -> dict[int, list[RatePoint]]:
    """Rates per minute of several servers between `since` and `until`, read in one query (for abuse rules
    that scan many servers). Every server given has a key, with an empty list when it has no samples."""
    vcpus = {s.pk: s.vcpus for s in servers}
    rows = (ServerSample.objects.filter(server_id__in=list(vcpus), at__gte=since - STEP, at__lte=until)
            .order_by("server_id", "at").values_list(*COLUMNS))
    result: dict[int, list[RatePoint]] = {pk: [] for pk in vcpus}
    for server_id, samples in itertools.groupby(rows.iterator(), key=lambda row: row[0]):
        points = rates(list(samples), vcpus=vcpus[server_id])
        result[server_id] = [p for p in points if p.at > since - STEP]
    return result


def rates(samples: list[tuple], *, vcpus: int) -> list[RatePoint]:
    """Turn consecutive samples (tuples in COLUMNS order, oldest first) into per-minute rates.

    Each interval between two samples is credited to the minute in which it ends; a minute's rate is the
    counters' increase over the seconds credited to it. A counter lower than before was reset (the guest's
    emulator restarted): its increase is then its new value, counted from zero."""
    step = int(STEP.total_seconds())
    minutes: dict[int, list] = {}
    for before, after in itertools.pairwise(samples):
        seconds = (after[1] - before[1]).total_seconds()
        if seconds <= 0:
            continue
        minute = minutes.setdefault(int(after[1].timestamp()) // step, [0.0] + [0] * len(COUNTERS))
        minute[0] += seconds
        for i, (old, new) in enumerate(zip(before[2:], after[2:], strict=True), start=1):
            minute[i] = None if old is None or new is None or minute[i] is None else minute[i] + increase(old, new)
    return [_point(key * step, totals, vcpus) for key, totals in sorted(minutes.items())]


def increase(old: int, new: int) -> int:
    return new - old if new >= old else new


def _point(start: int, totals: list, vcpus: int) -> RatePoint:
    seconds, cpu_ns, rx, tx, rx_pkts, tx_pkts, disk_r, disk_w = totals

    def per_second(amount, factor=1):
        return None if amount is None else amount * factor / seconds

    return RatePoint(
        at=dt.datetime.fromtimestamp(start, tz=dt.UTC),
        cpu_percent=cpu_ns / (seconds * 1e9 * max(vcpus, 1)) * 100,
        net_in_bps=per_second(rx, 8), net_out_bps=per_second(tx, 8),
        packets_in_ps=per_second(rx_pkts), packets_out_ps=per_second(tx_pkts),
        disk_read_bps=per_second(disk_r), disk_write_bps=per_second(disk_w),
    )
