"""An in-memory hypervisor that honours the whole driver contract.

One :class:`FakeWorld` exists per ``fake://`` URI per process, so a web request
and a task running in the same process see the same fake node. Tests inject
failures with :meth:`FakeDriver.fail_next` and simulate an outage with
:meth:`FakeDriver.set_reachable`.

Failure points are a method name (checked on entry, before anything changes)
or one of the steps inside a multi-step operation:

- ``spawn.define`` (the disk exists), ``spawn.start`` (disk and definition exist)
- ``rebuild.create_disk`` (old disk deleted), ``rebuild.start`` (new disk exists)
- ``copy_disk_to`` (on the source), ``import_disk`` (on the target, leftovers removed, nothing copied),
  ``adopt_disk`` and ``adopt_disk.start`` (defined on the target, not started)
- ``create_snapshot``, ``list_snapshots``, ``revert_snapshot``, ``delete_snapshot`` (on entry)

A disk's ``content`` stands for what the guest wrote: tests change it and see a revert bring it back.

A test that kills a real worker process mid-operation cannot reach into that process, so a point can
also be held from outside: with ``WUJI_FAKE_DRIVER_HOLD=<point>:<marker file>`` in its environment, a
process that passes ``<point>`` creates the marker file and waits there for as long as the file exists.

Guests answer ACPI and run a guest agent unless a test says otherwise (``ignores_acpi``,
``guest_agent`` on :class:`FakeInstance`); the fake never sleeps, it records how each power-off went.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import os
import threading
import time
from dataclasses import dataclass, field

from .base import (
    ComputeDriver,
    ConsoleInfo,
    DriverCapabilities,
    DriverError,
    GuestAgentUnavailable,
    HostStats,
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

HOST_VCPUS = 64
# The I/O counters of InstanceStats the fake keeps per instance (tests add to them with add_usage).
COUNTERS = ("disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes", "net_rx_packets",
            "net_tx_packets")
HOST_MEMORY_MIB = 256 * 1024
IMAGE_SIZE_GIB = 1


@dataclass
class FakeDisk:
    """A disk; ``serial`` is unique per created disk, so a test can see a disk was replaced."""

    image: str
    capacity_gib: int
    serial: int
    content: str = ""


@dataclass
class FakeInstance:
    spec: InstanceSpec
    power_state: str = PowerState.SHUTDOWN
    console_port: int = 0
    boots: int = 0
    cpu_time_ns: int = 0
    running_since_ns: int | None = None
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    ignores_acpi: bool = False
    guest_agent: bool = True
    passwords: dict[str, str] = field(default_factory=dict)  # set through the guest agent, by user
    last_power_off: tuple[str, float] | None = None  # ("acpi" or "forced", the timeout it was given)
    public_ip: str | None = None

    def set_power(self, state: str) -> None:
        now = time.monotonic_ns()
        if self.running_since_ns is not None:
            self.cpu_time_ns += now - self.running_since_ns
        if state == PowerState.RUNNING and self.power_state != PowerState.RUNNING:
            # A fresh emulator process: like QEMU, every counter starts again from zero.
            self.boots += 1
            self.cpu_time_ns = 0
            self.counters = dict.fromkeys(COUNTERS, 0)
        self.running_since_ns = now if state == PowerState.RUNNING else None
        self.power_state = state

    def cpu_time(self) -> int:
        if self.running_since_ns is None:
            return self.cpu_time_ns
        return self.cpu_time_ns + time.monotonic_ns() - self.running_since_ns


def _hold_from_env() -> tuple[str, str] | None:
    point, _, marker = os.environ.get("WUJI_FAKE_DRIVER_HOLD", "").partition(":")
    return (point, marker) if point and marker else None


@dataclass
class FakeSnapshot:
    info: SnapshotInfo
    disk: FakeDisk  # a copy taken at snapshot time


@dataclass
class FakeWorld:
    """The state of one fake node."""

    instances: dict[str, FakeInstance] = field(default_factory=dict)
    disks: dict[str, FakeDisk] = field(default_factory=dict)  # by instance uuid
    snapshots: dict[str, dict[str, FakeSnapshot]] = field(default_factory=dict)  # by uuid, then name
    images: set[str] = field(default_factory=set)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    reachable: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    ports: itertools.count = field(default_factory=lambda: itertools.count(5900))
    hold: tuple[str, str] | None = field(default_factory=_hold_from_env)


_worlds: dict[str, FakeWorld] = {}
_worlds_lock = threading.Lock()


def world_for(uri: str) -> FakeWorld:
    with _worlds_lock:
        return _worlds.setdefault(uri, FakeWorld())


def reset_worlds() -> None:
    with _worlds_lock:
        _worlds.clear()


class FakeDriver(ComputeDriver):
    """In-memory driver; see the module docstring for failure injection."""

    capabilities = DriverCapabilities(supports_console=True, supports_migration=True, supports_snapshots=True,
                                      supports_ip_binding=True)

    def __init__(self, uri: str = "fake://default") -> None:
        self.uri = uri
        self.world = world_for(uri)

    # --- test helpers ---------------------------------------------------------

    def add_image(self, volume: str) -> None:
        """Register an image volume: a disk's base, a kernel or an initrd (any other raises InvalidImage)."""
        with self.world.lock:
            self.world.images.add(volume)

    @property
    def images(self) -> set[str]:
        return self.world.images

    @property
    def disks(self) -> dict[str, FakeDisk]:
        return self.world.disks

    def fail_next(self, point: str, exc: Exception | None = None, times: int = 1) -> None:
        """Make the next ``times`` passes through ``point`` raise ``exc``."""
        with self.world.lock:
            queue = self.world.failures.setdefault(point, [])
            queue.extend([exc or DriverError(detail=f"injected failure at {point}")] * times)

    def add_usage(self, uuid: str, *, cpu_time_ns: int = 0, **counters: int) -> None:
        """Let an instance use CPU time, network and disk (names as in InstanceStats), as a guest would."""
        with self.world.lock:
            inst = self._get(uuid)
            inst.cpu_time_ns += cpu_time_ns
            for name, amount in counters.items():
                inst.counters[name] += amount  # KeyError for an unknown counter name

    def set_reachable(self, reachable: bool) -> None:
        """While unreachable, every contract call raises NodeUnreachable."""
        self.world.reachable = reachable

    def _check(self, point: str) -> None:
        if self.world.hold is not None and self.world.hold[0] == point:
            self._hold(self.world.hold[1])
        if not self.world.reachable:
            raise NodeUnreachable(detail=f"{self.uri} is marked unreachable")
        queue = self.world.failures.get(point)
        if queue:
            raise queue.pop(0)

    @staticmethod
    def _hold(marker: str) -> None:
        """Stand still at a held point while the marker file exists (see the module docstring)."""
        with open(marker, "w") as file:
            file.write(str(os.getpid()))
        while os.path.exists(marker):
            time.sleep(0.05)

    def _get(self, uuid: str) -> FakeInstance:
        try:
            return self.world.instances[uuid]
        except KeyError:
            raise InstanceNotFound(detail=uuid) from None

    def _check_image(self, spec: InstanceSpec) -> None:
        for volume in spec.image.volumes:  # the disk's base, and the kernel and initrd of a direct boot
            if volume not in self.world.images:
                raise InvalidImage(detail=f"no image volume {volume!r}")
        if spec.disk_gib < IMAGE_SIZE_GIB:
            raise InvalidImage(detail="image is larger than the disk")

    def _new_disk(self, spec: InstanceSpec) -> None:
        self.world.disks[spec.uuid] = FakeDisk(spec.image.volume, spec.disk_gib, next(self.world.serials))

    # --- contract ---------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        with self.world.lock:
            self._check("spawn")
            if spec.uuid in self.world.instances:
                raise InstanceExists(detail=spec.uuid)
            self._check_image(spec)
            try:
                self._new_disk(spec)
                self._check("spawn.define")
                inst = FakeInstance(spec, console_port=next(self.world.ports))
                self.world.instances[spec.uuid] = inst
                self._check("spawn.start")
                inst.set_power(PowerState.RUNNING)
            except BaseException:
                self.world.instances.pop(spec.uuid, None)
                self.world.disks.pop(spec.uuid, None)
                raise

    def destroy(self, uuid: str) -> None:
        with self.world.lock:
            self._check("destroy")
            self.world.instances.pop(uuid, None)
            self.world.disks.pop(uuid, None)
            self.world.snapshots.pop(uuid, None)

    def power_on(self, uuid: str) -> None:
        with self.world.lock:
            self._check("power_on")
            inst = self._get(uuid)
            if uuid not in self.world.disks:
                raise DriverError("The server has no disk; reinstall it.", detail=uuid)
            inst.set_power(PowerState.RUNNING)

    def power_off(self, uuid: str, timeout: float = 60) -> None:
        with self.world.lock:
            self._check("power_off")
            inst = self._get(uuid)
            if inst.power_state == PowerState.RUNNING:
                graceful = timeout > 0 and not inst.ignores_acpi  # else forced once the timeout ran out
                inst.last_power_off = ("acpi" if graceful else "forced", timeout)
            inst.set_power(PowerState.SHUTDOWN)

    def reboot(self, uuid: str, hard: bool) -> None:
        with self.world.lock:
            self._check("reboot")
            inst = self._get(uuid)
            if inst.power_state == PowerState.RUNNING:
                inst.boots += 1
            else:
                self.power_on(uuid)

    def rebuild(self, spec: InstanceSpec) -> None:
        with self.world.lock:
            self._check("rebuild")
            inst = self._get(spec.uuid)
            self._check_image(spec)
            inst.set_power(PowerState.SHUTDOWN)
            self.world.disks.pop(spec.uuid, None)
            self.world.snapshots.pop(spec.uuid, None)  # they lived in the old disk
            self._check("rebuild.create_disk")
            self._new_disk(spec)
            inst.spec = spec  # the credentials (password, SSH keys) and image of the new installation
            self._check("rebuild.start")
            inst.set_power(PowerState.RUNNING)

    def set_password(self, uuid: str, user: str, password: str) -> None:
        with self.world.lock:
            self._check("set_password")
            inst = self._get(uuid)
            if inst.power_state != PowerState.RUNNING:
                raise DriverError("The server is not running.", detail=uuid)
            if not inst.guest_agent:
                raise GuestAgentUnavailable(detail=f"{uuid}: no guest agent")
            inst.passwords[user] = password

    def resize(self, uuid: str, vcpus: int, memory_mib: int, disk_gib: int | None = None) -> None:
        with self.world.lock:
            self._check("resize")
            inst = self._get(uuid)
            if inst.power_state != PowerState.SHUTDOWN:
                raise DriverError("Stop the server before changing its size.", detail=uuid)
            disk = self.world.disks.get(uuid)
            if disk_gib is not None and disk is not None and disk_gib < disk.capacity_gib:
                raise DriverError("A disk cannot shrink.", detail=f"{disk.capacity_gib} -> {disk_gib} GiB")
            inst.spec = dataclasses.replace(inst.spec, vcpus=vcpus, memory_mib=memory_mib,
                                            disk_gib=disk_gib or inst.spec.disk_gib)
            if disk_gib is not None and disk is not None:
                disk.capacity_gib = disk_gib

    def get_info(self, uuid: str) -> InstanceInfo:
        with self.world.lock:
            self._check("get_info")
            inst = self._get(uuid)
            return InstanceInfo(uuid, inst.power_state, inst.spec.vcpus, inst.spec.memory_mib, inst.cpu_time())

    def list_instances(self) -> list[str]:
        with self.world.lock:
            self._check("list_instances")
            return list(self.world.instances)

    def get_console(self, uuid: str) -> ConsoleInfo:
        with self.world.lock:
            self._check("get_console")
            inst = self._get(uuid)
            if inst.power_state != PowerState.RUNNING:
                raise DriverError("The server is not running.", detail=uuid)
            return ConsoleInfo("vnc", "127.0.0.1", inst.console_port)

    def get_host_stats(self) -> HostStats:
        with self.world.lock:
            self._check("get_host_stats")
            used = sum(i.spec.memory_mib for i in self.world.instances.values() if i.power_state == PowerState.RUNNING)
            return HostStats(
                "fake",
                "1.0",
                HOST_VCPUS,
                HOST_MEMORY_MIB,
                HOST_MEMORY_MIB - used,
                len(self.world.instances),
            )

    def get_instance_stats(self, uuids: list[str]) -> list[InstanceStats]:
        with self.world.lock:
            self._check("get_instance_stats")
            return [
                InstanceStats(u, inst.cpu_time(), inst.spec.memory_mib, **inst.counters)
                for u in uuids
                if (inst := self.world.instances.get(u)) is not None
            ]

    def create_snapshot(self, uuid: str, name: str) -> SnapshotInfo:
        with self.world.lock:
            self._check("create_snapshot")
            inst = self._get(uuid)
            taken = self.world.snapshots.setdefault(uuid, {})
            if name not in taken:
                disk = self.world.disks.get(uuid)
                if disk is None:
                    raise DriverError("The server has no disk; reinstall it.", detail=uuid)
                info = SnapshotInfo(name, inst.power_state, int(time.time()), size_bytes=len(disk.content))
                taken[name] = FakeSnapshot(info, copy.copy(disk))
            return taken[name].info

    def list_snapshots(self, uuid: str) -> list[SnapshotInfo]:
        with self.world.lock:
            self._check("list_snapshots")
            self._get(uuid)
            return [snap.info for snap in self.world.snapshots.get(uuid, {}).values()]  # insertion = age order

    def revert_snapshot(self, uuid: str, name: str) -> None:
        with self.world.lock:
            self._check("revert_snapshot")
            inst = self._get(uuid)
            snap = self.world.snapshots.get(uuid, {}).get(name)
            if snap is None:
                raise SnapshotNotFound(detail=f"{uuid}: {name}")
            self.world.disks[uuid] = copy.copy(snap.disk)
            inst.set_power(snap.info.power_state)

    def delete_snapshot(self, uuid: str, name: str) -> None:
        with self.world.lock:
            self._check("delete_snapshot")
            self._get(uuid)
            self.world.snapshots.get(uuid, {}).pop(name, None)
    def bind_public_ip(self, uuid: str, address: str) -> None:
        with self.world.lock:
            self._check("bind_public_ip")
            self._get(uuid).public_ip = address

    def unbind_public_ip(self, uuid: str) -> None:
        with self.world.lock:
            self._check("unbind_public_ip")
            self._get(uuid).public_ip = None

    def get_public_ip(self, uuid: str) -> str | None:
        with self.world.lock:
            self._check("get_public_ip")
            return self._get(uuid).public_ip

    def close(self) -> None:
        pass

    # --- issue 5: migration -------------------------------------------------------------------------

    def copy_disk_to(self, target, uuid: str, progress=None) -> None:
        if not isinstance(target, FakeDriver):
            raise NotSupported(detail=f"cannot copy a fake disk to {type(target).__name__}")
        with self.world.lock:
            self._check("copy_disk_to")
            if self._get(uuid).power_state != PowerState.SHUTDOWN:
                raise DriverError("Stop the server before copying its disk.", detail=uuid)
            disk = self.world.disks.get(uuid)
            if disk is None:
                raise DriverError("The server has no disk to copy.", detail=uuid)
            copy = dataclasses.replace(disk)  # same serial: the same disk, now on the target
        target.destroy(uuid)  # a leftover of an earlier attempt is never in use
        with target.world.lock:
            target._check("import_disk")
            if disk.image not in target.world.images:
                raise InvalidImage(detail=f"target has no image volume {disk.image!r}")
            target.world.disks[uuid] = copy
        if progress is not None:
            progress(disk.capacity_gib * 1024**3)

    def adopt_disk(self, spec: InstanceSpec, start: bool) -> None:
        with self.world.lock:
            self._check("adopt_disk")
            if spec.uuid not in self.world.disks:
                raise DriverError("The server's disk has not been copied here.", detail=spec.uuid)
            inst = self.world.instances.get(spec.uuid)
            if inst is None:
                inst = self.world.instances[spec.uuid] = FakeInstance(spec, console_port=next(self.world.ports))
            if start:
                self._check("adopt_disk.start")
                inst.set_power(PowerState.RUNNING)


class FailingFakeDriver(FakeDriver):
    """A fake node on which every call fails with ``error`` (NodeUnreachable by default)."""

    def __init__(self, uri: str = "fake://failing", error: Exception | None = None) -> None:
        super().__init__(uri)
        self.error = error or NodeUnreachable(detail="FailingFakeDriver")

    def _check(self, point: str) -> None:
        raise self.error
