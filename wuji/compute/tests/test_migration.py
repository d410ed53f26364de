"""Migration of servers between nodes (issue 5; clauses 5.5 and 8.6): the 3-calendar-day notice, capacity and
address reservations, the notices, the move on the fake hypervisor, its failure path and its re-runs."""

import datetime as dt
import os
import shutil
import uuid as uuid_lib

import pytest
from django.contrib.auth import get_user_model

from wuji.audit.models import Instruction
from wuji.compute import migration, services, tasks
from wuji.compute.choices import MigrationScope, MigrationState, PowerState, TaskState, VmState
from wuji.compute.drivers import get_driver
from wuji.compute.drivers.base import DriverError, NotSupported
from wuji.compute.models import MigrationItem, Node, Server
from wuji.compute.tests.test_operations import active_server
from wuji.core import clock, testing
from wuji.network import services as network
from wuji.network.models import IpAllocation, IpPool
from wuji.notifications.models import Notice

SHANGHAI = clock.SHANGHAI


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(email="ops@example.com", password=None, is_staff=True)


def make_node(name, region, uri, vcpus=16, memory_mib=32768, disk_gib=500, image=None):
    node = Node.objects.create(name=name, region=region, uri=uri, vcpus=vcpus, memory_mib=memory_mib,
                               disk_gib=disk_gib)
    if image is not None:
        get_driver(uri).add_image(image.volume)
    return node


def make_pool(region, cidr, gateway, name):
    return network.save_pool(IpPool(name=name, region=region, cidr=cidr, gateway=gateway), actor=None,
                             channel="staff")


@pytest.fixture
def world(catalogue, customer):
    """A server with a public IP in Ganzhou, a second Ganzhou node and a Hong Kong node with its own pool."""
    make_pool(catalogue["region"], "203.0.113.0/29", "203.0.113.1", "gz")
    make_pool(catalogue["hk"], "198.51.100.0/29", "198.51.100.1", "hk")
    server = active_server(customer, catalogue)
    return {
        "server": server,
        "gz2": make_node("gz-2", catalogue["region"], "fake://gz-2", image=catalogue["image"]),
        "hk": make_node("hk-1", catalogue["hk"], "fake://hk-1", image=catalogue["image"]),
    }


def at_shanghai(year, month, day, hour=0, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def set_clock(moment):
    clock.reset()
    clock.advance(moment - clock.now())


def schedule(world, staff, target, start, hours=4, **subject):
    subject = subject or {"scope": MigrationScope.SERVER, "server": world["server"]}
    return migration.schedule(target=target, window_start=start, window_end=start + dt.timedelta(hours=hours),
                              reason="机房升级", actor=staff, **subject)


# --- The notice period (5.5: at least 3 calendar days, business time) --------------------------------------


def test_exactly_three_calendar_days_ahead_is_accepted_and_less_is_refused(world, staff):
    set_clock(at_shanghai(2026, 12, 1, 23, 30))  # late on the 1st: the 4th is three calendar days away
    plan = schedule(world, staff, world["hk"], at_shanghai(2026, 12, 4, 0, 0))
    assert plan.items.count() == 1
    with pytest.raises(migration.MigrationRefused, match="至少提前 3 个自然日"):
        schedule(world, staff, world["gz2"], at_shanghai(2026, 12, 3, 23, 59),
                 scope=MigrationScope.NODE, node=world["gz2"])


def test_the_day_turns_at_shanghai_midnight_not_utc(world, staff):
    # 16:10 UTC on Dec 1 is already 00:10 on Dec 2 in Shanghai: a window on the 4th is only two days away.
    set_clock(dt.datetime(2026, 12, 1, 16, 10, tzinfo=dt.UTC))
    with pytest.raises(migration.MigrationRefused, match="最早可安排在 2026-12-05 00:00"):
        schedule(world, staff, world["hk"], at_shanghai(2026, 12, 4, 2, 0))
    assert not MigrationItem.objects.exists() and not Notice.objects.filter(event__startswith="compute.migr").exists()


@pytest.mark.parametrize("change, message", [
    ({"reason": " "}, "请填写迁移原因"),
    ({"hours": 0}, "结束时间必须晚于开始时间"),
])
def test_incomplete_requests_are_refused(world, staff, change, message):
    start = earliest()
    with pytest.raises(migration.MigrationRefused, match=message):
        migration.schedule(target=world["hk"], window_start=start,
                           window_end=start + dt.timedelta(hours=change.get("hours", 4)),
                           reason=change.get("reason", "x"), actor=staff, scope=MigrationScope.SERVER,
                           server=world["server"])


def earliest():
    return migration.earliest_start(clock.now()) + dt.timedelta(hours=2)


# --- Capacity and addresses ----------------------------------------------------------------------------


def test_target_capacity_is_checked_and_held_against_new_orders(world, staff, catalogue, customer):
    server = world["server"]
    small = make_node("gz-small", catalogue["region"], "fake://gz-small", vcpus=server.vcpus,
                      memory_mib=server.memory_mib, disk_gib=server.disk_gib, image=catalogue["image"])
    # The only other Ganzhou node is now full of the incoming server: placement must not sell it.
    Node.objects.filter(pk=world["gz2"].pk).update(is_enabled=False)
    schedule(world, staff, small, earliest())
    source = server.node
    Node.objects.filter(pk=source.pk).update(is_enabled=False)
    with pytest.raises(services.NoCapacity):
        services.place(region=catalogue["region"], vcpus=1, memory_mib=1, disk_gib=1)
    Node.objects.filter(pk=source.pk).update(is_enabled=True)
    second = Server.objects.create(owner=customer, name="s2", region=catalogue["region"], plan=catalogue["plan"],
                                   image=catalogue["image"], node=source, vcpus=1, memory_mib=512, disk_gib=10,
                                   vm_state=VmState.ACTIVE, created_at=clock.now())
    with pytest.raises(services.NoCapacity, match="容量不足"):
        migration.schedule(target=small, window_start=earliest(), window_end=earliest() + dt.timedelta(hours=1),
                           reason="x", actor=staff, scope=MigrationScope.SERVER, server=second)


def test_a_move_across_regions_reserves_an_address_that_nobody_else_gets(world, staff, catalogue, customer):
    plan = schedule(world, staff, world["hk"], earliest())
    item = plan.items.get()
    assert (item.old_address, item.new_address) == ("203.0.113.2", "198.51.100.2")
    hk_server = Server.objects.create(owner=customer, name="hk", region=catalogue["hk"], plan=catalogue["plan"],
                                      image=catalogue["image"], vcpus=1, memory_mib=512, disk_gib=10,
                                      vm_state=VmState.ACTIVE, created_at=clock.now())
    assert network.allocate(hk_server).address == "198.51.100.3"  # .2 is promised to the migrating server


def test_no_free_address_in_the_target_region_refuses_and_writes_nothing(world, staff, catalogue):
    IpPool.objects.filter(region=catalogue["hk"]).update(is_enabled=False)
    with pytest.raises(migration.MigrationRefused, match="没有可用的公网 IP 池"):
        schedule(world, staff, world["hk"], earliest())
    IpPool.objects.filter(region=catalogue["hk"]).update(is_enabled=True, cidr="198.51.100.0/30",
                                                         gateway="198.51.100.1")
    hk_holder = Server.objects.create(owner=world["server"].owner, name="h", region=catalogue["hk"],
                                      plan=catalogue["plan"], image=catalogue["image"], vcpus=1, memory_mib=512,
                                      disk_gib=10, vm_state=VmState.ACTIVE, created_at=clock.now())
    network.allocate(hk_holder)  # takes .2, the only host left in a /30 with .1 as gateway
    with pytest.raises(network.NoAddressLeft, match="无法为迁移的服务器预留新地址"):
        schedule(world, staff, world["hk"], earliest())
    assert not MigrationItem.objects.exists()


def test_a_server_already_scheduled_cannot_be_scheduled_twice(world, staff):
    schedule(world, staff, world["hk"], earliest())
    with pytest.raises(migration.MigrationRefused, match="已有待执行的迁移"):
        schedule(world, staff, world["gz2"], earliest())


def test_libvirt_test_nodes_cannot_be_targets(world, staff, catalogue):
    demo = make_node("demo", catalogue["region"], "test:///default")
    with pytest.raises(migration.MigrationRefused, match="不支持迁移"):
        schedule(world, staff, demo, earliest())


# --- Notices ---------------------------------------------------------------------------------------------


def test_owners_are_told_at_scheduling_and_once_24_hours_before(world, staff, customer):
    set_clock(at_shanghai(2026, 12, 1, 10))
    plan = schedule(world, staff, world["hk"], at_shanghai(2026, 12, 5, 2), scope=MigrationScope.NODE,
                    node=world["server"].node)
    item = plan.items.get()
    notice = item.scheduled_notice
    assert notice.recipient == customer and notice.mandatory
    assert "2026-12-05 02:00 – 06:00" in notice.body and "198.51.100.2" in notice.body
    assert notice.deliveries.filter(channel="email").exists()  # the proof of notice, tied to the item
    assert Instruction.objects.get(action="migration.schedule").params["servers"] == [world["server"].pk]
    set_clock(at_shanghai(2026, 12, 4, 1, 59))  # 24 h 1 min before: not yet
    assert migration.run_migrations.call() == {"reminded": 0, "started": 0, "missed": 0}
    set_clock(at_shanghai(2026, 12, 4, 2, 0))
    assert migration.run_migrations.call()["reminded"] == 1
    set_clock(at_shanghai(2026, 12, 4, 3, 0))
    assert migration.run_migrations.call()["reminded"] == 0
    item.refresh_from_db()
    assert Notice.objects.filter(event="compute.migration_reminder").get() == item.reminder_notice


# --- Execution -------------------------------------------------------------------------------------------


def run_window(plan):
    set_clock(plan.window_start + dt.timedelta(minutes=1))
    migration.run_migrations.call()
    testing.run_tasks()


def test_the_move_switches_node_region_and_address_and_tells_the_owner_to_update_dns(world, staff, catalogue):
    server, target = world["server"], world["hk"]
    uuid = str(server.uuid)
    serial = get_driver(testing.FAKE_NODE_URI).disks[uuid].serial
    plan = schedule(world, staff, target, earliest())
    run_window(plan)
    server.refresh_from_db()
    assert (server.node, server.region, server.vm_state, server.task_state) == (target, catalogue["hk"],
                                                                                VmState.ACTIVE, "")
    assert get_driver("fake://hk-1").get_info(uuid).power_state == PowerState.RUNNING
    assert get_driver("fake://hk-1").disks[uuid].serial == serial  # the same disk, copied
    assert uuid not in get_driver(testing.FAKE_NODE_URI).list_instances()  # the source copy is gone
    assert network.address_of(server) == "198.51.100.2"
    history = list(IpAllocation.objects.filter(server=server).order_by("allocated_at", "pk")
                   .values_list("address", "released_at"))
    assert history[0][0] == "203.0.113.2" and history[0][1] is not None and history[1] == ("198.51.100.2", None)
    item = plan.items.get()
    plan.refresh_from_db()
    assert (item.state, plan.state) == (MigrationState.DONE, MigrationState.DONE)
    assert "198.51.100.2" in item.result_notice.body and "域名解析" in item.result_notice.body
    assert Instruction.objects.get(action="server.migrate", result="accepted").outcomes.get().result == "succeeded"
    assert migration.migrate_server.call(item_id=item.pk) == "nothing to do"  # a re-run changes nothing


def test_within_a_region_the_address_stays_and_a_stopped_server_stays_stopped(world, staff):
    server = world["server"]
    get_driver(testing.FAKE_NODE_URI).power_off(str(server.uuid))
    Server.objects.filter(pk=server.pk).update(vm_state=VmState.STOPPED, power_state=PowerState.SHUTDOWN)
    plan = schedule(world, staff, world["gz2"], earliest())
    item = plan.items.get()
    assert item.new_address == item.old_address == "203.0.113.2"
    assert "公网 IP 不变" in item.scheduled_notice.body
    run_window(plan)
    server.refresh_from_db()
    assert (server.node, server.vm_state) == (world["gz2"], VmState.STOPPED)
    assert IpAllocation.objects.filter(server=server).count() == 1


def test_a_failed_copy_leaves_the_server_running_on_its_source_and_tells_the_owner(world, staff):
    server = world["server"]
    source = get_driver(testing.FAKE_NODE_URI)
    source.fail_next("copy_disk_to", DriverError("disk copy failed"))
    plan = schedule(world, staff, world["hk"], earliest())
    run_window(plan)
    server.refresh_from_db()
    assert (server.node.uri, server.vm_state, server.task_state) == (testing.FAKE_NODE_URI, VmState.ACTIVE, "")
    assert source.get_info(str(server.uuid)).power_state == PowerState.RUNNING
    assert str(server.uuid) not in get_driver("fake://hk-1").list_instances()
    assert network.address_of(server) == "203.0.113.2"
    item = plan.items.get()
    plan.refresh_from_db()
    assert (item.state, item.error, plan.state) == (MigrationState.FAILED, "disk copy failed", MigrationState.FAILED)
    assert "disk copy failed" in item.result_notice.body and "请暂不要修改域名解析" in item.result_notice.body
    # The reservation is released with the failure.
    assert network.reserve_address(world["hk"].region_id) == "198.51.100.2"


def test_a_failed_start_on_the_target_removes_the_copy_and_rolls_back(world, staff):
    get_driver("fake://hk-1").fail_next("adopt_disk.start", DriverError("no boot"))
    plan = schedule(world, staff, world["hk"], earliest())
    run_window(plan)
    server = Server.objects.get(pk=world["server"].pk)
    assert server.node.uri == testing.FAKE_NODE_URI and server.power_state == PowerState.RUNNING
    assert str(server.uuid) not in get_driver("fake://hk-1").disks
    assert plan.items.get().state == MigrationState.FAILED


def test_an_unreachable_target_still_gets_the_server_restarted_on_its_source(world, staff):
    get_driver("fake://hk-1").set_reachable(False)
    plan = schedule(world, staff, world["hk"], earliest())
    run_window(plan)
    server = Server.objects.get(pk=world["server"].pk)
    assert get_driver(testing.FAKE_NODE_URI).get_info(str(server.uuid)).power_state == PowerState.RUNNING
    assert (server.vm_state, server.node.uri) == (VmState.ACTIVE, testing.FAKE_NODE_URI)
    assert plan.items.get().state == MigrationState.FAILED


def test_a_busy_server_waits_and_a_missed_window_fails_without_touching_it(world, staff):
    server = world["server"]
    plan = schedule(world, staff, world["hk"], earliest(), hours=1)
    Server.objects.filter(pk=server.pk).update(task_state=TaskState.REBOOTING)
    set_clock(plan.window_start + dt.timedelta(minutes=1))
    assert migration.run_migrations.call()["started"] == 0
    set_clock(plan.window_end)
    assert migration.run_migrations.call()["missed"] == 1
    item = plan.items.get()
    assert item.state == MigrationState.FAILED and item.result_notice.event == "compute.migration_failed"


def test_a_worker_that_died_mid_move_is_resumed_by_the_reconciler(world, staff, settings):
    """The worker died after the copy reached the target (defined there, not yet switched): the reconciler
    re-claims the server and the re-run rebuilds the target copy and completes."""
    server, target = world["server"], get_driver("fake://hk-1")
    plan = schedule(world, staff, world["hk"], earliest())
    set_clock(plan.window_start + dt.timedelta(minutes=1))
    migration.run_migrations.call()
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path__endswith="migrate_server").delete()  # the worker that had it died
    source = get_driver(testing.FAKE_NODE_URI)
    source.power_off(str(server.uuid))
    source.copy_disk_to(target, str(server.uuid))
    clock.advance(dt.timedelta(seconds=settings.WUJI_OPERATION_TIMEOUT_SECONDS + 1))
    assert tasks.reconcile.call()["recovered"] == 1
    assert Server.objects.get(pk=server.pk).task_state == TaskState.MIGRATING
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.node, server.task_state, server.vm_state) == (world["hk"], "", VmState.ACTIVE)
    assert plan.items.get().state == MigrationState.DONE


# --- Console ---------------------------------------------------------------------------------------------


def test_staff_schedule_from_the_server_list(client, world, catalogue):
    staff = get_user_model().objects.create_superuser(email="root@example.com", password="Correct-Horse-42")
    client.force_login(staff)
    start = migration.earliest_start(clock.now()).astimezone(SHANGHAI) + dt.timedelta(hours=2)
    url = "/console/compute/server/"
    ask = client.post(url, {"action": "migrate_selected_servers", "_selected_action": [world["server"].pk]})
    assert ask.status_code == 200 and "window_start" in ask.content.decode()
    done = client.post(url, {"action": "migrate_selected_servers", "_selected_action": [world["server"].pk],
                             "apply": "1", "target_node": world["hk"].pk, "reason": "机房升级",
                             "window_start": start.strftime("%Y-%m-%d %H:%M"),
                             "window_end": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")})
    assert done.status_code == 302
    item = MigrationItem.objects.get()
    assert item.plan.created_by == staff and item.plan.window_start == start
    too_soon = client.post(url, {"action": "migrate_selected_servers", "_selected_action": [world["server"].pk],
                                 "apply": "1", "target_node": world["gz2"].pk, "reason": "x",
                                 "window_start": clock.local_now().strftime("%Y-%m-%d %H:%M"),
                                 "window_end": "2099-01-01 00:00"}, follow=True)
    assert "至少提前 3 个自然日" in too_soon.content.decode()
    assert MigrationItem.objects.count() == 1


def test_staff_cancel_a_plan_from_the_console_and_owners_are_told(client, world):
    staff = get_user_model().objects.create_superuser(email="root@example.com", password="Correct-Horse-42")
    client.force_login(staff)
    plan = schedule(world, staff, world["hk"], earliest())
    url = "/console/compute/migrationplan/"
    assert client.post(url, {"action": "cancel_selected", "_selected_action": [plan.pk]}).status_code == 200
    done = client.post(url, {"action": "cancel_selected", "_selected_action": [plan.pk], "apply": "1",
                             "reason": "目标机房推迟交付"})
    assert done.status_code == 302
    item = plan.items.get()
    plan.refresh_from_db()
    assert (item.state, plan.state) == (MigrationState.CANCELLED, MigrationState.CANCELLED)
    assert item.result_notice.event == "compute.migration_cancelled" and "203.0.113.2" in item.result_notice.body
    assert Instruction.objects.get(action="migration.cancel").params["reason"] == "目标机房推迟交付"
    assert network.reserve_address(world["hk"].region_id) == "198.51.100.2"  # the address is free again
    assert services.committed_capacity([world["hk"].pk]) == {world["hk"].pk: {
        "vcpus_used": None, "memory_used": None, "disk_used": None}}
    assert client.get(f"{url}{plan.pk}/change/").status_code == 200  # staff follow it, read-only


def test_two_nodes_on_one_hypervisor_cannot_migrate_between_each_other(world, staff, catalogue):
    twin = make_node("twin", catalogue["region"], testing.FAKE_NODE_URI)
    with pytest.raises(migration.MigrationRefused, match="同一台虚拟化主机"):
        schedule(world, staff, twin, earliest())


def test_a_long_copy_keeps_the_operation_fresh_for_the_reconciler(world):
    server = world["server"]
    started = clock.now()
    Server.objects.filter(pk=server.pk).update(task_state=TaskState.MIGRATING, task_state_changed_at=started)
    beat = migration._heartbeat(server.pk)
    beat(1)
    assert Server.objects.get(pk=server.pk).task_state_changed_at == started  # not every chunk
    clock.advance(migration.HEARTBEAT_EVERY)
    beat(2)
    assert Server.objects.get(pk=server.pk).task_state_changed_at >= started + migration.HEARTBEAT_EVERY


def test_a_server_released_before_its_window_is_cancelled_without_a_notice(world, staff):
    server = world["server"]
    plan = schedule(world, staff, world["hk"], earliest(), hours=1)
    Server.objects.filter(pk=server.pk).update(vm_state=VmState.RELEASED)
    set_clock(plan.window_end)
    migration.run_migrations.call()
    item = plan.items.get()
    assert item.state == MigrationState.CANCELLED and item.result_notice is None


# --- A real copy between two storage pools (qemu:///system) ----------------------------------------------

POOL_ROOT = "/var/lib/libvirt/images"


@pytest.mark.skipif(os.environ.get("WUJI_TEST_LIBVIRT_SYSTEM") != "1", reason="needs WUJI_TEST_LIBVIRT_SYSTEM=1")
def test_libvirt_copies_a_disk_between_two_pools_on_qemu_system():
    import xml.etree.ElementTree as ET

    import libvirt

    from wuji.compute.drivers.base import ImageRef, InstanceSpec
    from wuji.compute.drivers.libvirt import LibvirtDriver, overlay_name

    conn = libvirt.open("qemu:///system")
    tag = uuid_lib.uuid4().hex[:8]
    pools, spec = [], None
    try:
        for side in ("a", "b"):
            path = f"{POOL_ROOT}/wuji-mig-{tag}-{side}"
            os.makedirs(path)
            pool = conn.storagePoolCreateXML(
                f"<pool type='dir'><name>wuji-mig-{tag}-{side}</name><target><path>{path}</path></target></pool>", 0)
            pools.append((pool, path))
        source = LibvirtDriver("qemu:///system", pool=f"wuji-mig-{tag}-a")
        target = LibvirtDriver("qemu:///system", pool=f"wuji-mig-{tag}-b")
        image = source.ensure_image_volume(f"img-{tag}.qcow2", 1)
        spec = InstanceSpec(uuid=str(uuid_lib.uuid4()), name="m", vcpus=1, memory_mib=64, disk_gib=1,
                            image=ImageRef(f"img-{tag}.qcow2"))
        source.spawn(spec)  # a real overlay backed by the image, and a real (diskless-booting) guest
        with pytest.raises(DriverError, match="Stop the server"):
            source.copy_disk_to(target, spec.uuid)
        source.power_off(spec.uuid, timeout=0)
        with pytest.raises(NotSupported, match="test driver"):
            source.copy_disk_to(LibvirtDriver("test:///default"), spec.uuid)
        copied = []
        source.copy_disk_to(target, spec.uuid, progress=copied.append)
        names = [f"{path}/{overlay_name(spec.uuid)}" for _pool, path in pools]
        with open(names[0], "rb") as a, open(names[1], "rb") as b:
            original, copy = a.read(), b.read()
        assert copy == original and original[:4] == b"QFI\xfb" and image.encode() in original
        assert copied[-1] == len(original)
        # One daemon plays both nodes: the target's clean-up of leftovers removed the shared definition.
        target.adopt_disk(spec, start=False)
        disk = ET.fromstring(conn.lookupByUUIDString(spec.uuid).XMLDesc(0)).find("./devices/disk/source")
        assert disk.get("file") == names[1]
        assert target.get_info(spec.uuid).power_state == PowerState.SHUTDOWN
        target.destroy(spec.uuid)
        source.destroy(spec.uuid)  # the domain is gone; this removes the source overlay
        source.close()
        target.close()
    finally:
        if spec is not None and spec.uuid in [d.UUIDString() for d in conn.listAllDomains(0)]:
            dom = conn.lookupByUUIDString(spec.uuid)
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        for pool, path in pools:
            pool.destroy()
            shutil.rmtree(path, ignore_errors=True)
        conn.close()
