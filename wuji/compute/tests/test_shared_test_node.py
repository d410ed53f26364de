"""libvirt's test driver as several workers share it (the scale-out test, decision 0051): reached through a libvirtd
(`test+unix:///default`) it is still the test driver, and two workers starting at once may both register an image
volume. These run on the in-process `test:///default` (every connection in one process shares it)."""

import uuid

import pytest

from wuji.compute.drivers.libvirt import LibvirtDriver
from wuji.compute.models import Node

libvirt = pytest.importorskip("libvirt")


def test_the_test_driver_served_by_libvirtd_keeps_the_test_drivers_limits():
    for uri in ("test:///default", "test+unix:///default", "test+tcp://127.0.0.1/default"):
        driver = LibvirtDriver(uri, pool="default-pool")
        assert not driver.capabilities.supports_console and not driver.capabilities.supports_migration, uri
        assert not driver.manages_interfaces, uri
    real = LibvirtDriver("qemu+ssh://node-1/system", pool="default")
    assert real.capabilities.supports_console and real.manages_interfaces
    assert Node(uri="test+unix:///default").is_test_hypervisor and not Node(uri="qemu:///system").is_test_hypervisor


def test_an_image_volume_another_worker_created_meanwhile_is_used(monkeypatch):
    """Worker A looks for the volume (missing), worker B creates it, A's create fails: A uses B's volume."""
    a = LibvirtDriver("test:///default", pool="default-pool")
    b = LibvirtDriver("test:///default", pool="default-pool")
    name = f"race-{uuid.uuid4().hex}.qcow2"
    real_lookup = LibvirtDriver._volume
    raced = []

    def missing_then_created_by_b(pool, volume_name):
        if volume_name == name and not raced:
            raced.append(True)
            b.ensure_image_volume(name, 1)
            return None  # what A saw just before B created it
        return real_lookup(pool, volume_name)

    monkeypatch.setattr(LibvirtDriver, "_volume", staticmethod(missing_then_created_by_b))
    path = a.ensure_image_volume(name, 1)
    assert raced and path.endswith(name)
    monkeypatch.undo()
    assert a.ensure_image_volume(name, 1) == path  # one volume, found by both
