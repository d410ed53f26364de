"""Public IPv4 pools and the allocation history (issue 5, Network; clause 8.6)."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.compute import services as compute
from wuji.compute.choices import VmState
from wuji.compute.models import Server
from wuji.compute.tests.test_operations import active_server
from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.network import services as network
from wuji.network.models import IpAllocation, IpPool
from wuji.notifications.models import Notice


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


def make_pool(region, cidr="203.0.113.0/29", gateway="203.0.113.1", excluded="", name="p1"):
    return network.save_pool(IpPool(name=name, region=region, cidr=cidr, gateway=gateway, excluded=excluded),
                             actor=None, channel="staff")


def bare_server(owner, catalogue, name="s"):
    """A server row without the purchase path (so no allocation happens on creation)."""
    plan = catalogue["plan"]
    return Server.objects.create(owner=owner, name=name, region=catalogue["region"], plan=plan,
                                 image=catalogue["image"], vcpus=plan.vcpus, memory_mib=plan.memory_mib,
                                 disk_gib=plan.disk_gib, vm_state=VmState.ACTIVE, created_at=clock.now())


# --- Pool validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields, field, message", [
    ({"cidr": "203.0.113.0/33"}, "cidr", "网段格式无效"),
    ({"cidr": "203.0.113.5/24"}, "cidr", "网段格式无效"),  # host bits set
    ({"cidr": "2001:db8::/64"}, "cidr", "网段格式无效"),  # IPv4 only
    ({"cidr": "203.0.113.0/31", "gateway": "203.0.113.0"}, "cidr", "网段过小"),
    ({"gateway": "198.51.100.1"}, "gateway", "网关必须位于该网段内"),
    ({"gateway": "203.0.113.0"}, "gateway", "网络地址或广播地址"),
    ({"gateway": "203.0.113.7"}, "gateway", "网络地址或广播地址"),
    ({"excluded": "203.0.113.2, 198.51.100.9"}, "excluded", "198.51.100.9"),
    ({"excluded": "not-an-ip"}, "excluded", "not-an-ip"),
])
def test_invalid_pools_are_refused_naming_the_field_and_nothing_is_saved(catalogue, fields, field, message):
    with pytest.raises(ValidationError) as exc:
        make_pool(catalogue["region"], **fields)
    assert field in exc.value.message_dict and message in " ".join(exc.value.message_dict[field])
    assert not IpPool.objects.exists()
    assert not Instruction.objects.filter(action__startswith="ip_pool.").exists()


def test_a_valid_pool_is_saved_with_its_instruction(catalogue):
    pool = make_pool(catalogue["region"], excluded="203.0.113.2\n203.0.113.3")
    assert IpPool.objects.get() == pool
    assert Instruction.objects.get(action="ip_pool.create").params["cidr"] == "203.0.113.0/29"


# --- Allocation -------------------------------------------------------------------------------------------


def test_lowest_free_address_skips_network_gateway_excluded_and_broadcast(customer, catalogue):
    # /29: .0 network, .1 gateway, .2/.4 excluded, .7 broadcast -> .3, .5, .6 usable, in that order.
    make_pool(catalogue["region"], excluded="203.0.113.2, 203.0.113.4")
    servers = [bare_server(customer, catalogue, f"s{i}") for i in range(4)]
    got = [network.allocate(s).address for s in servers[:3]]
    assert got == ["203.0.113.3", "203.0.113.5", "203.0.113.6"]
    with pytest.raises(network.NoAddressLeft, match="公网 IP 已分配完"):
        network.allocate(servers[3])
    assert network.address_of(servers[3]) is None
    # Allocating again returns the address the server already holds.
    assert network.allocate(servers[0]).address == "203.0.113.3"
    # A released address is free again, and is the lowest.
    assert network.release_address(servers[0]) is True
    assert network.release_address(servers[0]) is False
    assert network.allocate(servers[3]).address == "203.0.113.3"


def test_disabled_pools_and_other_regions_are_not_used(customer, catalogue):
    make_pool(catalogue["hk"], cidr="198.51.100.0/30", gateway="198.51.100.1", name="hk")
    server = bare_server(customer, catalogue)
    assert network.allocate(server) is None  # no pool in its region: no public IP
    pool = make_pool(catalogue["region"])
    pool.is_enabled = False
    network.save_pool(pool, actor=None, channel="staff")
    assert network.allocate(server) is None


def test_the_database_refuses_two_open_allocations_of_one_address(customer, catalogue):
    pool = make_pool(catalogue["region"])
    a, b = bare_server(customer, catalogue, "a"), bare_server(customer, catalogue, "b")
    IpAllocation.objects.create(pool=pool, address="203.0.113.2", server=a, owner=customer, allocated_at=clock.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        IpAllocation.objects.create(pool=pool, address="203.0.113.2", server=b, owner=customer,
                                    allocated_at=clock.now())


def test_a_purchase_gets_an_address_and_release_returns_it(customer, catalogue):
    make_pool(catalogue["region"])
    server = active_server(customer, catalogue)
    assert network.address_of(server) == "203.0.113.2"
    assert compute.release(server, actor=None, channel="system", reason="retention ended") is True
    testing.run_tasks()
    server.refresh_from_db()
    assert server.vm_state == VmState.RELEASED
    assert network.address_of(server) is None
    row = IpAllocation.objects.get(server=server)  # kept as history
    assert row.released_at is not None and row.owner == customer


def test_a_purchase_in_an_exhausted_region_is_refused_and_not_charged(customer, catalogue):
    make_pool(catalogue["region"], cidr="203.0.113.0/30", gateway="203.0.113.1")  # only .2 usable
    active_server(customer, catalogue, key="first")
    balance = ledger.balances(customer)
    with pytest.raises(billing.PurchaseRefused, match="公网 IP 已分配完"):
        billing.place_order(customer=customer, region=catalogue["region"], plan=catalogue["plan"],
                            image=catalogue["image"], cycle="monthly", name="s2", idempotency_key="second",
                            channel="web", ip="127.0.0.1")
    assert Server.objects.filter(owner=customer).count() == 1
    assert ledger.balances(customer) == balance


# --- Change of IP (8.6) ---------------------------------------------------------------------------------


def test_change_ip_closes_the_old_opens_a_new_records_and_notifies(customer, catalogue, django_user_model):
    staff = django_user_model.objects.create_user(email="ops@example.com", password=None, is_staff=True)
    make_pool(catalogue["region"])
    server = active_server(customer, catalogue)
    clock.advance(dt.timedelta(days=3))
    new = network.change_ip(server, actor=staff, channel="staff", reason="地址被列入黑名单")
    assert (new.address, network.address_of(server)) == ("203.0.113.3", "203.0.113.3")
    old = IpAllocation.objects.get(server=server, address="203.0.113.2")
    assert old.released_at == new.allocated_at <= clock.now()
    instruction = Instruction.objects.get(action="server.change_ip")
    assert instruction.actor == staff and instruction.owner == customer
    assert instruction.params == {"old_address": "203.0.113.2", "new_address": "203.0.113.3",
                                  "reason": "地址被列入黑名单"}
    notice = Notice.objects.get(recipient=customer, event="network.ip_changed")
    assert notice.mandatory and "203.0.113.2" in notice.body and "203.0.113.3" in notice.body


def test_change_ip_refusals_change_nothing(customer, catalogue):
    make_pool(catalogue["region"], cidr="203.0.113.0/30", gateway="203.0.113.1")
    server = active_server(customer, catalogue)
    with pytest.raises(ValidationError) as exc:
        network.change_ip(server, actor=None, channel="staff", reason="  ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(network.NoAddressLeft):  # .2 is the pool's only address
        network.change_ip(server, actor=None, channel="staff", reason="abuse")
    without = bare_server(customer, catalogue, "bare")
    with pytest.raises(network.NoPublicIp):
        network.change_ip(without, actor=None, channel="staff", reason="abuse")
    assert network.address_of(server) == "203.0.113.2" and IpAllocation.objects.count() == 1
    assert not Instruction.objects.filter(action="server.change_ip").exists()
    assert not Notice.objects.filter(event="network.ip_changed").exists()


# --- History (abuse / legal lookup) ---------------------------------------------------------------------


def test_history_tells_who_held_an_address_at_a_moment(customer, other_customer, catalogue):
    make_pool(catalogue["region"], cidr="203.0.113.0/30", gateway="203.0.113.1")
    start = clock.now()
    a = bare_server(customer, catalogue, "a")
    network.allocate(a)
    clock.advance(dt.timedelta(days=10))
    network.release_address(a)
    clock.advance(dt.timedelta(days=1))
    b = bare_server(other_customer, catalogue, "b")
    network.allocate(b)
    clock.advance(dt.timedelta(days=200))  # older than the 180-day minimum: still answerable

    def holder(at):
        return [(r.owner, r.server) for r in network.history(address="203.0.113.2", at=at)]

    assert holder(start + dt.timedelta(days=5)) == [(customer, a)]
    assert holder(start + dt.timedelta(days=10, hours=12)) == []  # between the two
    assert holder(start + dt.timedelta(days=12)) == [(other_customer, b)]
    assert holder(start - dt.timedelta(seconds=1)) == []
    assert [r.server for r in network.history(address=" 203.0.113.2 ")] == [b, a]
    assert [r.server for r in network.history(owner=customer)] == [a]
    assert [r.server for r in network.history(server=b)] == [b]
    with pytest.raises(ValueError):
        network.history(address="203.0.113")


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_servers_allocating_at_once_get_distinct_addresses_and_the_rest_are_refused():
    catalogue = testing.load_test_catalogue()
    customer = testing.make_customer("race@example.com", balance_fen=0)
    make_pool(catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1")  # 5 usable: .2-.6
    servers = [bare_server(customer, catalogue, f"s{i}") for i in range(8)]
    barrier = threading.Barrier(len(servers))
    outcomes = []

    def attempt(server):
        try:
            barrier.wait()
            outcomes.append(network.allocate(server).address)
        except network.NoAddressLeft:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(s,)) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    addresses = sorted(o for o in outcomes if o != "refused")
    assert addresses == [f"203.0.113.{i}" for i in range(2, 7)]
    assert outcomes.count("refused") == 3
    assert IpAllocation.objects.filter(released_at__isnull=True).count() == 5
