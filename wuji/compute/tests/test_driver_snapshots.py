"""The snapshot part of the driver contract, on every leg of the contract suite (fake, libvirt
``test:///default``, and opt-in real QEMU with ``WUJI_TEST_LIBVIRT_SYSTEM=1``)."""

from __future__ import annotations

import pytest

from wuji.compute.drivers import InstanceNotFound, PowerState, SnapshotNotFound
from wuji.compute.drivers.fake import FakeDriver

from . import test_driver_contract as contract
from .test_driver_contract import IMAGES, Leg

# The contract suite's fixtures, shared (pytest finds fixtures among a module's attributes).
leg, fake, test_node_keepalive = contract.leg, contract.fake, contract.test_node_keepalive


def names(leg: Leg, uuid: str) -> list[str]:
    return [info.name for info in leg.driver.list_snapshots(uuid)]


def test_every_leg_declares_snapshots(leg: Leg) -> None:
    assert leg.driver.capabilities.supports_snapshots


def test_snapshots_remember_the_power_state_and_revert_to_it(leg: Leg) -> None:
    spec = leg.spawn()
    running = leg.driver.create_snapshot(spec.uuid, "wuji-running")
    leg.driver.power_off(spec.uuid, timeout=0)
    stopped = leg.driver.create_snapshot(spec.uuid, "wuji-stopped")
    assert (running.power_state, stopped.power_state) == (PowerState.RUNNING, PowerState.SHUTDOWN)
    assert names(leg, spec.uuid) == ["wuji-running", "wuji-stopped"]

    leg.driver.revert_snapshot(spec.uuid, "wuji-running")
    assert leg.driver.get_info(spec.uuid).power_state == PowerState.RUNNING
    leg.driver.revert_snapshot(spec.uuid, "wuji-stopped")
    assert leg.driver.get_info(spec.uuid).power_state == PowerState.SHUTDOWN
    assert names(leg, spec.uuid) == ["wuji-running", "wuji-stopped"]  # a revert keeps its snapshot


def test_create_is_idempotent_and_delete_may_be_repeated(leg: Leg) -> None:
    spec = leg.spawn()
    first = leg.driver.create_snapshot(spec.uuid, "wuji-a")
    assert leg.driver.create_snapshot(spec.uuid, "wuji-a") == first
    assert names(leg, spec.uuid) == ["wuji-a"]
    leg.driver.delete_snapshot(spec.uuid, "wuji-a")
    leg.driver.delete_snapshot(spec.uuid, "wuji-a")
    assert names(leg, spec.uuid) == []
    assert leg.driver.get_info(spec.uuid).power_state == PowerState.RUNNING
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)


def test_revert_to_an_unknown_snapshot_changes_nothing(leg: Leg) -> None:
    spec = leg.spawn()
    with pytest.raises(SnapshotNotFound):
        leg.driver.revert_snapshot(spec.uuid, "wuji-missing")
    assert leg.driver.get_info(spec.uuid).power_state == PowerState.RUNNING


@pytest.mark.parametrize("call", [
    lambda d, u: d.create_snapshot(u, "wuji-x"), lambda d, u: d.list_snapshots(u),
    lambda d, u: d.revert_snapshot(u, "wuji-x"), lambda d, u: d.delete_snapshot(u, "wuji-x"),
])
def test_snapshot_calls_on_an_unknown_uuid_raise_instance_not_found(leg: Leg, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InstanceNotFound):
        call(leg.driver, leg.spec().uuid)


def test_rebuild_discards_the_snapshots(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.create_snapshot(spec.uuid, "wuji-before")
    leg.driver.rebuild(leg.spec(image=IMAGES[1], uuid=spec.uuid))
    assert names(leg, spec.uuid) == []
    assert leg.disk(spec.uuid) == (IMAGES[1], 2)


def test_destroy_takes_the_snapshots_with_it(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.create_snapshot(spec.uuid, "wuji-1")
    leg.driver.power_off(spec.uuid, timeout=0)
    leg.driver.create_snapshot(spec.uuid, "wuji-2")
    leg.driver.destroy(spec.uuid)
    assert spec.uuid not in leg.driver.list_instances()
    assert leg.disk(spec.uuid) is None
    leg.driver.spawn(spec)  # the uuid is free again and starts without snapshots
    assert names(leg, spec.uuid) == []


def test_fake_revert_restores_what_the_guest_wrote(fake: FakeDriver) -> None:
    spec = Leg(fake).spawn(image=IMAGES[0])
    fake.disks[spec.uuid].content = "v1"
    fake.create_snapshot(spec.uuid, "wuji-v1")
    fake.disks[spec.uuid].content = "v2, the guest broke something"
    fake.revert_snapshot(spec.uuid, "wuji-v1")
    assert fake.disks[spec.uuid].content == "v1"
    fake.disks[spec.uuid].content = "v3"
    assert fake.world.snapshots[spec.uuid]["wuji-v1"].disk.content == "v1"  # the snapshot is not aliased


def test_fake_snapshot_failure_injection_leaves_nothing(fake: FakeDriver) -> None:
    spec = Leg(fake).spawn(image=IMAGES[0])
    fake.fail_next("create_snapshot")
    with pytest.raises(Exception, match="failed"):
        fake.create_snapshot(spec.uuid, "wuji-x")
    assert fake.list_snapshots(spec.uuid) == []
