"""Binding a server's public IP to its instance, unbinding it, and blackholes (issue 5, Network; 4.5.1 DDoS).

The fake hypervisor records what was applied; nothing is sent to any address."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from wuji.audit.models import Instruction
from wuji.compute import services as compute
from wuji.compute.choices import TaskState, VmState
from wuji.compute.drivers import NodeUnreachable
from wuji.compute.models import Server
from wuji.compute.tests.test_operations import active_server, fake, operate
from wuji.core import clock, testing
from wuji.network import services as network
from wuji.network.choices import AddressState
from wuji.network.models import Blackhole, IpAllocation, IpPool
from wuji.notifications.models import Notice


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


@pytest.fixture
def pool(catalogue):
    # /29: .2 to .6 usable (.1 is the gateway)
    return network.save_pool(IpPool(name="gz", region=catalogue["region"], cidr="203.0.113.0/29",
                                    gateway="203.0.113.1"), actor=None, channel="staff")


@pytest.fixture
def server(customer, catalogue, pool):
    return active_server(customer, catalogue)


def on_instance(server) -> str | None:
    """What the hypervisor's configuration carries (the only proof; never a packet)."""
    return fake().get_public_ip(str(server.uuid))


def allocation_of(server) -> IpAllocation:
    return IpAllocation.objects.get(server=server, released_at__isnull=True)


def refused(action: str) -> Instruction:
    return Instruction.objects.get(action=action, result="refused")


# --- Purchase: the allocated address is applied once the instance exists ---------------------------------------


def test_a_new_server_gets_its_address_applied_after_provisioning(server):
    assert allocation_of(server).state == AddressState.BOUND
    assert on_instance(server) == "203.0.113.2"
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE


# --- Unbind -------------------------------------------------------------------------------------------------


def test_unbind_takes_the_address_off_then_returns_it_to_the_pool(server, customer):
    instruction = network.unbind(server, actor=customer, channel="web", ip="127.0.0.1")
    server.refresh_from_db()
    assert server.task_state == TaskState.UNBINDING_IP
    # Still the server's until the hypervisor confirms: never handed out while applied.
    assert network.address_of(server) == "203.0.113.2"
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.task_state, network.address_of(server), on_instance(server)) == (TaskState.NONE, None, None)
    row = IpAllocation.objects.get(server=server)
    assert (row.state, row.released_at is not None) == (AddressState.RELEASED, True)
    assert (instruction.action, instruction.params) == ("server.unbind_ip", {"address": "203.0.113.2"})
    assert instruction.outcomes.get().result == "succeeded"
    assert not Notice.objects.filter(event="network.ip_unbound").exists()  # the owner did it


def test_unbind_refusals_are_recorded_and_change_nothing(customer, catalogue, server):
    operate(server, "stop")  # an operation in flight
    with pytest.raises(compute.OperationRefused, match="有操作正在进行"):
        network.unbind(server, actor=customer, channel="api", ip="127.0.0.1")
    assert refused("server.unbind_ip").channel == "api"
    testing.run_tasks()
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    with pytest.raises(network.NoPublicIp, match="没有公网 IP"):
        network.unbind(server, actor=customer, channel="web")
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE


def test_a_failed_unbind_keeps_the_address_and_shows_the_error(server, customer):
    fake().fail_next("unbind_public_ip", NodeUnreachable())
    instruction = network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE and "解绑失败" in server.last_error
    assert (allocation_of(server).state, on_instance(server)) == (AddressState.BOUND, "203.0.113.2")
    assert instruction.outcomes.get().result == "failed"


def test_staff_unbind_tells_the_owner_why(server, customer, django_user_model):
    staff = django_user_model.objects.create_user(email="ops@example.com", password=None, is_staff=True)
    network.unbind(server, actor=staff, channel="staff", reason="滥用投诉")
    testing.run_tasks()
    notice = Notice.objects.get(recipient=customer, event="network.ip_unbound")
    assert notice.mandatory and "203.0.113.2" in notice.body and "滥用投诉" in notice.body


# --- Bind ---------------------------------------------------------------------------------------------------


def test_bind_gives_the_lowest_free_address_and_applies_it(server, customer):
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    instruction = network.bind(server, actor=customer, channel="api", ip="127.0.0.1")
    assert (instruction.action, instruction.params["address"]) == ("server.bind_ip", "203.0.113.2")
    assert allocation_of(server).state == AddressState.PENDING
    testing.run_tasks()
    assert (allocation_of(server).state, on_instance(server)) == (AddressState.BOUND, "203.0.113.2")
    assert instruction.outcomes.get().result == "succeeded"
    # The history has both holdings of the address.
    assert IpAllocation.objects.filter(server=server, address="203.0.113.2").count() == 2


def test_bind_refusals_are_recorded_and_leave_nothing_behind(server, customer, other_customer, catalogue):
    with pytest.raises(compute.OperationRefused, match="已有公网 IP"):
        network.bind(server, actor=customer, channel="web")
    assert refused("server.bind_ip").detail.startswith("该服务器已有公网 IP")
    # A region whose pool is full.
    testing.fund(other_customer, 1000_00)
    for i in range(4):
        active_server(other_customer, catalogue, key=f"fill-{i}")  # .3 to .6
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    active_server(other_customer, catalogue, key="takes-.2")
    with pytest.raises(network.NoAddressLeft):
        network.bind(server, actor=customer, channel="web")
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE  # the claim was rolled back with the refusal
    assert network.address_of(server) is None


def test_bind_in_a_region_without_pools_is_refused(customer, catalogue):
    server = active_server(customer, catalogue)
    with pytest.raises(network.NoPublicIp, match="暂未提供公网 IP"):
        network.bind(server, actor=customer, channel="web")
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE


def test_a_failed_bind_stays_pending_and_the_sync_job_applies_it_later(server, customer):
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    fake().fail_next("bind_public_ip", NodeUnreachable())
    instruction = network.bind(server, actor=customer, channel="web")
    testing.run_tasks()
    allocation = allocation_of(server)
    assert allocation.state == AddressState.PENDING and allocation.last_error
    assert instruction.outcomes.get().result == "failed" and on_instance(server) is None
    assert network.sync_addresses()["bound"] == 1
    testing.run_tasks()
    allocation.refresh_from_db()
    assert (allocation.state, allocation.last_error, on_instance(server)) == (AddressState.BOUND, "", "203.0.113.2")


def test_change_ip_applies_the_new_address_to_the_instance(server):
    network.change_ip(server, actor=None, channel="staff", reason="地址被列入黑名单")
    testing.run_tasks()
    assert (allocation_of(server).state, on_instance(server)) == (AddressState.BOUND, "203.0.113.3")


# --- Blackhole ----------------------------------------------------------------------------------------------


def test_blackhole_holds_the_address_and_rebinds_the_same_one_when_it_ends(server, customer, other_customer,
                                                                          catalogue):
    with time_machine.travel(dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        hole = network.blackhole(server, reason="DDoS 攻击流量 40 Gbps", actor=None)
        assert hole.ends_at == clock.now() + dt.timedelta(hours=24)  # the default
        testing.run_tasks()
        hole.refresh_from_db()
        assert hole.applied_at is not None and on_instance(server) is None
        assert (allocation_of(server).address, allocation_of(server).state) == ("203.0.113.2", AddressState.HELD)
        started = Notice.objects.get(recipient=customer, event="network.blackhole_started")
        assert started.mandatory and "2026-06-02 10:00" in started.body  # Beijing time
        # Meanwhile the address is nobody else's.
        newcomer = active_server(other_customer, catalogue, key="newcomer")
        assert network.address_of(newcomer) == "203.0.113.3"
        with pytest.raises(compute.OperationRefused, match="黑洞封堵中"):
            network.unbind(server, actor=customer, channel="web")

    with time_machine.travel(dt.datetime(2026, 6, 2, 1, 59, tzinfo=dt.UTC), tick=False):
        assert network.sync_addresses()["released"] == 0
    with time_machine.travel(dt.datetime(2026, 6, 2, 2, 0, tzinfo=dt.UTC), tick=False):
        assert network.sync_addresses()["released"] == 1
        testing.run_tasks()
    hole.refresh_from_db()
    assert hole.ended_at is not None and hole.ended_by is None
    assert (allocation_of(server).state, on_instance(server)) == (AddressState.BOUND, "203.0.113.2")
    assert Notice.objects.filter(recipient=customer, event="network.blackhole_ended").count() == 1
    lift = Instruction.objects.get(action="server.blackhole_lift", result="accepted")
    assert lift.params["early"] is False and lift.channel == "system"
    assert network.sync_addresses() == {"released": 0, "held": 0, "bound": 0}  # idempotent


def test_staff_lift_a_blackhole_early(server, customer, django_user_model):
    staff = django_user_model.objects.create_user(email="ops@example.com", password=None, is_staff=True)
    hole = network.blackhole(server, duration=dt.timedelta(hours=6), reason="攻击", actor=staff, channel="staff")
    testing.run_tasks()
    assert network.end_blackhole(hole, actor=staff, channel="staff", reason="攻击已停止") is True
    assert network.end_blackhole(hole, actor=staff, channel="staff", reason="again") is False
    testing.run_tasks()
    hole.refresh_from_db()
    assert hole.ended_by == staff and hole.end_reason == "攻击已停止"
    assert on_instance(server) == "203.0.113.2"
    assert Instruction.objects.get(action="server.blackhole_lift", result="accepted").params["early"] is True
    assert Instruction.objects.get(action="server.blackhole", result="accepted").actor == staff


def test_blackhole_refusals(server, customer, catalogue):
    with pytest.raises(ValidationError):
        network.blackhole(server, reason=" ", actor=None)
    with pytest.raises(ValidationError):
        network.blackhole(server, duration=dt.timedelta(0), reason="x", actor=None)
    network.blackhole(server, reason="攻击", actor=None)
    with pytest.raises(compute.OperationRefused, match="已在黑洞封堵中"):
        network.blackhole(server, reason="again", actor=None)
    assert refused("server.blackhole").detail.startswith("该服务器已在黑洞封堵中")
    bare = Server.objects.create(owner=customer, name="bare", region=catalogue["region"], plan=catalogue["plan"],
                                 image=catalogue["image"], vcpus=1, memory_mib=1024, disk_gib=20,
                                 vm_state=VmState.ACTIVE, created_at=clock.now())
    with pytest.raises(network.NoPublicIp):
        network.blackhole(bare, reason="攻击", actor=None)
    assert Blackhole.objects.count() == 1


def test_a_blackhole_on_a_busy_server_takes_effect_when_it_is_free(server, customer):
    operate(server, "reboot")
    hole = network.blackhole(server, reason="攻击", actor=None)
    assert allocation_of(server).state == AddressState.HELD and hole.applied_at is None
    testing.run_tasks()  # the reboot; as it finishes, the address is taken off
    hole.refresh_from_db()
    assert hole.applied_at is not None and on_instance(server) is None
    assert network.sync_addresses() == {"released": 0, "held": 0, "bound": 0}


def test_the_sync_job_applies_a_hold_that_nothing_else_picked_up(server):
    operate(server, "reboot")
    hole = network.blackhole(server, reason="攻击", actor=None)
    # The reboot's worker died; its task_state is cleared without a state change (nothing else catches up).
    compute.finish_operation(server.pk, vm_state=None, power_state=None)
    assert network.sync_addresses()["held"] == 1
    testing.run_tasks()
    hole.refresh_from_db()
    assert hole.applied_at is not None and on_instance(server) is None


def test_releasing_a_blackholed_server_ends_the_blackhole(server):
    hole = network.blackhole(server, reason="攻击", actor=None)
    testing.run_tasks()
    assert compute.release(server, actor=None, channel="system", reason="retention ended")
    testing.run_tasks()
    hole.refresh_from_db()
    assert hole.ended_at is not None
    assert IpAllocation.objects.get(server=server).state == AddressState.RELEASED
    assert network.sync_addresses() == {"released": 0, "held": 0, "bound": 0}


def test_a_blackhole_lifted_before_it_took_effect_binds_the_same_address_again(server):
    hole = network.blackhole(server, reason="误报", actor=None)
    network.end_blackhole(hole, reason="误报，立即解除")  # the unbind task has not run yet
    testing.run_tasks()
    assert (allocation_of(server).state, on_instance(server)) == (AddressState.BOUND, "203.0.113.2")
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE


def test_customers_cannot_bind_or_unbind_on_a_suspended_server_but_staff_can(server, customer, django_user_model):
    staff = django_user_model.objects.create_user(email="ops@example.com", password=None, is_staff=True)
    assert compute.suspend(server, reason="abuse", actor=staff, channel="staff")
    testing.run_tasks()
    with pytest.raises(compute.OperationRefused, match="不允许执行“解绑公网 IP”"):
        network.unbind(server, actor=customer, channel="web")
    network.unbind(server, actor=staff, channel="staff", reason="违规内容")
    testing.run_tasks()
    assert network.address_of(server) is None
