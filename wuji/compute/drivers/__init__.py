"""Hypervisor drivers (plain Python, no Django).

``get_driver(node.uri, node.virt_type, node.pool, node.console_address)`` (through
``tasks.driver_for(node)``) is the only way services and tasks obtain a driver:
``fake://...`` gives the in-memory FakeDriver (one world per URI per process),
anything else the LibvirtDriver. Drivers are cached per process and per node
settings, so a node's libvirt connection is opened once and reused.
"""

from __future__ import annotations

import atexit
import threading

from .base import (
    ComputeDriver,
    ConsoleInfo,
    DriverCapabilities,
    DriverError,
    GuestAgentUnavailable,
    HostStats,
    ImageRef,
    InstanceExists,
    InstanceInfo,
    InstanceNotFound,
    InstanceSpec,
    InstanceStats,
    InvalidImage,
    NodeUnreachable,
    NotSupported,
    PowerState,
    SnapshotInfo,
    SnapshotNotFound,
)

__all__ = [
    "ComputeDriver",
    "ConsoleInfo",
    "DriverCapabilities",
    "DriverError",
    "GuestAgentUnavailable",
    "HostStats",
    "ImageRef",
    "InstanceExists",
    "InstanceInfo",
    "InstanceNotFound",
    "InstanceSpec",
    "InstanceStats",
    "InvalidImage",
    "NodeUnreachable",
    "NotSupported",
    "PowerState",
    "SnapshotInfo",
    "SnapshotNotFound",
    "get_driver",
    "reset_fake_drivers",
]

_drivers: dict[tuple[str, str, str, str], ComputeDriver] = {}
_lock = threading.Lock()


def get_driver(uri: str, virt_type: str = "qemu", pool: str = "default",
               console_address: str = "127.0.0.1") -> ComputeDriver:
    """The process-wide driver for a node's settings, created on first use (changed settings: a new one)."""
    key = (uri, virt_type, pool, console_address)
    with _lock:
        driver = _drivers.get(key)
        if driver is None:
            if uri.startswith("fake://"):
                from .fake import FakeDriver

                driver = FakeDriver(uri)
            else:
                from .libvirt import LibvirtDriver  # imports the libvirt binding

                driver = LibvirtDriver(uri, virt_type=virt_type, pool=pool, console_address=console_address)
            _drivers[key] = driver
        return driver


def reset_fake_drivers() -> None:
    """Forget every fake node (for tests): the next get_driver("fake://...") starts empty."""
    from .fake import reset_worlds

    with _lock:
        for key in [k for k in _drivers if k[0].startswith("fake://")]:
            del _drivers[key]
        reset_worlds()


@atexit.register
def _close_all() -> None:
    # Close connections while the interpreter is intact; libvirt's finalizers
    # would otherwise run against a half-torn-down module at exit.
    with _lock:
        drivers = list(_drivers.values())
    for driver in drivers:
        try:
            driver.close()
        except Exception:  # exiting anyway
            pass
