"""Compute nodes: URI validation, placement with allocation ratios and health, races for the last slot, the
periodic health check, the console's columns and "check now", and the libvirt connection's recovery."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.billing import services as billing
from wuji.compute import nodes, services, tasks
from wuji.compute.drivers import NodeUnreachable
from wuji.compute.models import Node, NodeHealth, Server
from wuji.compute.validators import validate_libvirt_uri
from wuji.core import clock, testing

from .test_operations import fake


def buy(customer, catalogue, key: str):
    return billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                               image=catalogue["image"], cycle="monthly", name="s", idempotency_key=key,
                               channel="web", ip="127.0.0.1")[0]


def demo_node() -> Node:
    return Node.objects.get(name="demo-node-1")


@pytest.mark.parametrize("uri", ["qemu:///system", "qemu+unix:///system", "qemu+ssh://root@node1.example/system",
                                 "qemu+tls://node2.example/system", "test:///default", "test:///srv/node.xml",
                                 "fake://demo"])
def test_supported_node_uris_pass(uri):
    validate_libvirt_uri(uri)


@pytest.mark.parametrize(("uri", "code"), [
    ("qemu+tcp://node1/system", "uri_scheme"), ("xen:///system", "uri_scheme"), ("node1", "uri_scheme"),
    ("qemu+ssh:///system", "uri_host"), ("qemu://node1/system", "uri_host"), ("qemu:///other", "uri_path"),
    ("test://default", "uri"),
])
def test_unsupported_node_uris_are_refused_with_a_reason(uri, code):
    with pytest.raises(ValidationError) as refused:
        validate_libvirt_uri(uri)
    assert refused.value.code == code


def test_node_form_validation_covers_uri_and_ratios(catalogue):
    node = demo_node()
    node.uri, node.cpu_allocation_ratio = "qemu+tcp://node1/system", Decimal("0")
    with pytest.raises(ValidationError) as refused:
        node.full_clean()
    assert set(refused.value.message_dict) == {"uri", "cpu_allocation_ratio"}


# --- placement ------------------------------------------------------------------------------------------


def test_placement_offers_capacity_times_the_allocation_ratio(customer, catalogue):
    Node.objects.filter(pk=demo_node().pk).update(vcpus=1, cpu_allocation_ratio=Decimal("2"))
    buy(customer, catalogue, "a")
    buy(customer, catalogue, "b")  # 2 vCPUs on a 1-CPU node at ratio 2
    with pytest.raises(billing.PurchaseRefused, match="售罄"):
        buy(customer, catalogue, "c")
    Node.objects.filter(pk=demo_node().pk).update(cpu_allocation_ratio=Decimal("3"))
    buy(customer, catalogue, "c")


def test_placement_spreads_by_free_memory_within_the_ratio(catalogue):
    first = demo_node()
    Node.objects.filter(pk=first.pk).update(memory_mib=4096, ram_allocation_ratio=Decimal("1.5"))  # 6144 MiB
    second = Node.objects.create(name="node-2", region=first.region, uri="fake://node-2", vcpus=8,
                                 memory_mib=8192, disk_gib=500, ram_allocation_ratio=Decimal("0.5"))  # 4096
    with transaction.atomic():
        assert services.place(region=first.region, vcpus=1, memory_mib=1024, disk_gib=10) == first
    with transaction.atomic():  # first has 6144 allocatable, second 4096: only first fits 5000
        assert services.place(region=first.region, vcpus=1, memory_mib=5000, disk_gib=10) == first
        with pytest.raises(services.NoCapacity):
            services.place(region=first.region, vcpus=1, memory_mib=6145, disk_gib=10)
    Node.objects.filter(pk=first.pk).update(ram_allocation_ratio=Decimal("0.5"))  # 2048 now
    with transaction.atomic():
        assert services.place(region=first.region, vcpus=1, memory_mib=1024, disk_gib=10) == second


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threads_racing_for_the_last_slots_take_exactly_the_capacity():
    catalogue = testing.load_test_catalogue()
    Node.objects.filter(name="demo-node-1").update(vcpus=3)  # three 1-vCPU servers fit
    customers = [testing.make_customer(f"racer{i}@example.com", balance_fen=10_000) for i in range(8)]
    barrier = threading.Barrier(len(customers))
    outcomes = []

    def attempt(customer):
        try:
            barrier.wait()
            buy(customer, catalogue, f"race-{customer.pk}")
            outcomes.append("placed")
        except billing.PurchaseRefused:
            outcomes.append("no capacity")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["no capacity"] * 5 + ["placed"] * 3
    assert Server.objects.filter(node__name="demo-node-1").count() == 3


# --- health ---------------------------------------------------------------------------------------------


def test_health_check_marks_an_unreachable_node_keeps_it_out_of_placement_and_sees_it_recover(customer, catalogue):
    assert tasks.check_nodes.call() == {"reachable": 1, "unreachable": 0}
    health = NodeHealth.objects.get(node=demo_node())
    assert (health.is_reachable, health.hypervisor, health.version, health.last_error) == (True, "fake", "1.0", "")
    assert health.free_memory_mib > 0 and health.instances == 0

    fake().set_reachable(False)
    assert tasks.check_nodes.call() == {"reachable": 0, "unreachable": 1}
    health.refresh_from_db()
    assert not health.is_reachable and "unreachable" in health.last_error and health.last_error_at
    assert health.version == "1.0"  # the last figures the node reported stay visible
    with pytest.raises(billing.PurchaseRefused, match="售罄"):
        buy(customer, catalogue, "while-down")

    fake().set_reachable(True)
    health = nodes.check_node(demo_node(), now=clock.now())
    assert health.is_reachable and health.last_error  # the last error stays on record, with its time
    buy(customer, catalogue, "after-recovery")


def test_nodes_are_asked_at_once_so_a_slow_node_holds_up_no_other(catalogue, monkeypatch):
    """The first node answers only after the second one was asked: checked one after another, the first would
    give up waiting (and be recorded unreachable); asked at once, both answer."""
    second = Node.objects.create(name="demo-node-2", region=catalogue["region"], uri="fake://second",
                                 vcpus=8, memory_mib=8192, disk_gib=100)
    second_asked = threading.Event()
    real = nodes._ask

    def ask(node):
        if node.pk == second.pk:
            second_asked.set()
        elif not second_asked.wait(timeout=10):
            raise AssertionError("the nodes were not asked at once")
        return real(node)

    monkeypatch.setattr(nodes, "_ask", ask)
    assert nodes.check_nodes(Node.objects.order_by("pk"), now=clock.now()) == {"reachable": 2, "unreachable": 0}
    assert set(NodeHealth.objects.filter(is_reachable=True).values_list("node__name", flat=True)) == {
        "demo-node-1", "demo-node-2"}


@pytest.fixture
def staff_client(client, catalogue):
    accounts.create_staff(email="ops@example.com", password=testing.PASSWORD)
    client.login(email="ops@example.com", password=testing.PASSWORD)
    return client


def test_console_lists_allocation_and_health_and_checks_now(staff_client, customer, catalogue):
    buy(customer, catalogue, "a")
    changelist = reverse("admin:compute_node_changelist")
    page = staff_client.get(changelist).content.decode()
    assert "1 / 64" in page  # vCPUs held / allocatable
    fake().set_reachable(False)
    response = staff_client.post(changelist, {"action": "check_now", "_selected_action": [demo_node().pk]},
                                 follow=True)
    assert "无法连接" in response.content.decode()
    assert NodeHealth.objects.get(node=demo_node()).is_reachable is False
    fake().set_reachable(True)
    response = staff_client.post(changelist, {"action": "check_now", "_selected_action": [demo_node().pk]},
                                 follow=True)
    assert "可连接，fake 1.0" in response.content.decode()


# --- the libvirt connection -------------------------------------------------------------------------------


def test_health_check_reconnects_after_the_libvirt_connection_was_closed(catalogue):
    pytest.importorskip("libvirt")
    node = Node.objects.create(name="libvirt-test", region=demo_node().region, uri="test:///default",
                               storage_pool="default-pool", vcpus=8, memory_mib=8192, disk_gib=100)
    assert nodes.check_node(node, now=clock.now()).is_reachable
    tasks.driver_for(node).host.get_connection().close()  # the connection drops under the cached driver
    health = nodes.check_node(node, now=clock.now())
    assert (health.is_reachable, health.hypervisor) == (True, "TEST")


class DroppedConnection:
    """A connection that still looks alive locally but whose calls fail like a dead socket."""

    def __init__(self, libvirt):
        self.libvirt = libvirt

    def isAlive(self):  # noqa: N802 - libvirt's name
        return True

    def getInfo(self):  # noqa: N802 - libvirt's name
        error = self.libvirt.libvirtError("Cannot write data: Broken pipe")
        error.err = (self.libvirt.VIR_ERR_SYSTEM_ERROR, self.libvirt.VIR_FROM_RPC, "Broken pipe", 2)
        raise error

    getLibVersion = getInfo  # noqa: N815 - libvirt's name; any call fails the same way

    def close(self):
        return 0


def test_a_read_on_a_connection_that_died_while_idle_reconnects_and_succeeds():
    libvirt = pytest.importorskip("libvirt")
    from wuji.compute.drivers.libvirt import LibvirtDriver

    driver = LibvirtDriver("test:///default", pool="default-pool")
    keep = libvirt.open("test:///default")  # the test node lives while a connection is open
    try:
        driver.host._conn = DroppedConnection(libvirt)
        assert driver.get_host_stats().hypervisor == "TEST"
        assert not isinstance(driver.host._conn, DroppedConnection)
    finally:
        driver.close()
        keep.close()


def test_a_read_that_fails_twice_on_the_connection_reports_the_node_unreachable():
    libvirt = pytest.importorskip("libvirt")
    from wuji.compute.drivers.libvirt import Host

    host = Host("test:///default")
    host.get_connection = lambda probe=True: DroppedConnection(libvirt)
    with pytest.raises(NodeUnreachable):
        host.read(lambda conn: conn.getInfo())


def test_a_write_on_a_connection_that_died_while_idle_reconnects_before_it_starts():
    """Decision 0053: isAlive() is true on a connection whose daemon restarted while it was idle; a call that
    may change something is not retried, so the cached connection must answer a round trip first."""
    libvirt = pytest.importorskip("libvirt")
    from wuji.compute.drivers.libvirt import LibvirtDriver

    driver = LibvirtDriver("test:///default", pool="default-pool")
    keep = libvirt.open("test:///default")  # the test node lives while a connection is open
    try:
        driver.host._conn = DroppedConnection(libvirt)
        assert driver.ensure_image_volume("probe-test.qcow2", 1).endswith("probe-test.qcow2")
        assert not isinstance(driver.host._conn, DroppedConnection)
    finally:
        driver.close()
        keep.close()
