"""Server metrics: the collector (one bulk call per node, one bulk write), rates on read, retention."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuji.catalog.models import Region
from wuji.compute import hypervisors, metrics
from wuji.compute.choices import VmState
from wuji.compute.drivers import get_driver
from wuji.compute.models import Node, ServerSample
from wuji.core import clock

from .test_operations import active_server, fake

START = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def samples_of(server):
    return list(ServerSample.objects.filter(server_id=server.pk).order_by("at"))


def test_collector_stores_one_sample_per_running_server_per_run(customer, catalogue):
    a, b, stopped = (active_server(customer, catalogue, key=k) for k in "abc")
    fake().add_usage(str(a.uuid), cpu_time_ns=5_000_000_000, net_rx_bytes=1500, net_tx_packets=3,
                     disk_write_bytes=4096)
    type(stopped).objects.filter(pk=stopped.pk).update(vm_state=VmState.STOPPED)
    run = metrics.collect()
    assert (run.nodes, run.samples, run.failed_nodes) == (1, 2, 0)
    metrics.collect()
    assert [len(samples_of(s)) for s in (a, b, stopped)] == [2, 2, 0]
    first = samples_of(a)[0]
    assert first.cpu_time_ns >= 5_000_000_000
    assert (first.net_rx_bytes, first.net_tx_packets, first.disk_write_bytes, first.net_tx_bytes) == (1500, 3, 4096, 0)


def test_collector_skips_an_unreachable_node_and_stores_the_rest(customer, catalogue):
    active_server(customer, catalogue)
    fake().set_reachable(False)
    run = metrics.collect()
    assert (run.samples, run.failed_nodes) == (0, 1)
    assert not ServerSample.objects.exists()


def test_collector_database_work_does_not_grow_with_the_number_of_servers(customer, catalogue):
    active_server(customer, catalogue, key="first")
    with CaptureQueriesContext(connection) as one:
        metrics.collect()
    for key in "bc":
        active_server(customer, catalogue, key=key)
    with CaptureQueriesContext(connection) as three:
        assert metrics.collect().samples == 3
    assert len(three) == len(one)


def test_collector_reads_libvirt_test_node(catalogue_on_libvirt_test_node):
    server = catalogue_on_libvirt_test_node
    run = metrics.collect()
    assert run.samples == 1
    (sample,) = samples_of(server)
    assert sample.cpu_time_ns >= 0
    assert sample.net_rx_bytes is None and sample.disk_read_bytes is None  # the test node reports no I/O


@pytest.fixture
def catalogue_on_libvirt_test_node(catalogue, customer):
    """A running server on libvirt's in-process test node (the fake node disabled), removed afterwards."""
    pytest.importorskip("libvirt")
    Node.objects.update(is_enabled=False)
    node = Node.objects.create(name="libvirt-test", region=Region.objects.get(code="cn-ganzhou"),
                               uri="test:///default", storage_pool="default-pool", vcpus=8, memory_mib=8192,
                               disk_gib=100)
    hypervisors.prepare_demo_hypervisors(log=lambda _line: None)
    server = active_server(customer, catalogue)
    assert server.node_id == node.pk
    yield server
    get_driver("test:///default", pool="default-pool").destroy(str(server.uuid))


def test_rates_per_minute_survive_a_counter_reset_when_the_guest_restarts(customer, catalogue):
    with time_machine.travel(START, tick=False) as machine:
        server = active_server(customer, catalogue)
        uuid = str(server.uuid)
        metrics.collect()
        fake().add_usage(uuid, cpu_time_ns=30_000_000_000, net_rx_bytes=60_000, net_tx_bytes=6_000,
                         net_rx_packets=600, disk_read_bytes=6_000_000)
        machine.shift(60)
        metrics.collect()
        fake().power_off(uuid, timeout=0)  # the guest's emulator restarts: every counter starts from zero
        fake().power_on(uuid)
        fake().add_usage(uuid, cpu_time_ns=6_000_000_000, net_rx_bytes=6_000)
        machine.shift(60)
        metrics.collect()
        points = metrics.series(server)
    assert [p.at for p in points] == [START + dt.timedelta(minutes=1), START + dt.timedelta(minutes=2)]
    before, after = points
    assert before.cpu_percent == pytest.approx(50, abs=1)  # 30 s of CPU in 60 s on one vCPU
    assert (before.net_in_bps, before.net_out_bps) == (8000, 800)  # 60 kB in a minute = 8 kbit/s
    assert (before.packets_in_ps, before.packets_out_ps, before.disk_read_bps) == (10, 0, 100_000)
    assert after.cpu_percent == pytest.approx(10, abs=1)
    assert after.net_in_bps == 800 and after.disk_read_bps == 0  # from zero, never negative


def row(server_id, at, cpu, net=None):
    return (server_id, at, cpu, net, net, net, net, net, net)


def test_rates_credit_each_interval_to_the_minute_it_ends_in_and_keep_unknown_counters_unknown():
    t0 = START
    samples = [row(1, t0, 0), row(1, t0 + dt.timedelta(seconds=20), 2 * 10**9),
               row(1, t0 + dt.timedelta(seconds=40), 4 * 10**9), row(1, t0 + dt.timedelta(seconds=70), 7 * 10**9)]
    first, second = metrics.rates(samples, vcpus=2)
    assert first.at == t0 and first.cpu_percent == pytest.approx(5)  # 4 s of CPU over 40 s on 2 vCPUs
    assert second.at == t0 + dt.timedelta(minutes=1) and second.cpu_percent == pytest.approx(5)
    assert first.net_in_bps is None and first.disk_write_bps is None
    assert metrics.increase(100, 150) == 50 and metrics.increase(100, 30) == 30


def test_series_of_a_server_without_samples_is_empty(customer, catalogue):
    assert metrics.series(active_server(customer, catalogue)) == []


def test_purge_deletes_only_samples_past_the_retention_in_bounded_batches(customer, catalogue, settings):
    settings.WUJI_METRICS_RETENTION_HOURS = 24
    server = active_server(customer, catalogue)
    now = clock.now()
    old = [row(server.pk, now - dt.timedelta(hours=25, minutes=i), i) for i in range(5)]
    recent = [row(server.pk, now - dt.timedelta(hours=23), 9), row(server.pk, now, 10)]
    metrics.store(old + recent)
    assert metrics.purge(now=now, batch=2, max_batches=2) == 4  # the run is bounded; the next goes on
    assert metrics.purge(now=now, batch=2) == 1
    assert sorted(ServerSample.objects.values_list("cpu_time_ns", flat=True)) == [9, 10]
    assert metrics.purge(now=now, batch=2) == 0
