"""An in-memory hypervisor that honours the whole driver contract.

One :class:`FakeWorld` exists per ``fake://`` URI per process, so a web request
and a task running in the same process see the same fake node. Tests inject
failures with :meth:`FakeDriver.fail_next` and simulate an outage with
:meth:`FakeDriver.set_reachable`.

Failure points are a method name (checked on entry, before anything changes)
or one of the steps inside a multi-step operation:

- ``spawn.define`` (the disk exists), ``spawn.start`` (disk and definition exist)
- ``rebuild.create_disk`` (old disk deleted), ``rebuild.start`` (new disk exists)
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from dataclasses import dataclass, field

from .base import (
    ComputeDriver,
    ConsoleInfo,
    DriverCapabilities,
    DriverError,
    HostStats,
    InstanceExists,
    InstanceInfo,
    InstanceNotFound,
    InstanceSpec,
    InstanceStats,
    InvalidImage,
    NodeUnreachable,
    PowerState,
)

HOST_VCPUS = 64
HOST_MEMORY_MIB = 256 * 1024
IMAGE_SIZE_GIB = 1


@dataclass
class FakeDisk:
    """A disk; ``serial`` is unique per created disk, so a test can see a disk was replaced."""

    image: str
    capacity_gib: int
    serial: int


@dataclass
class FakeInstance:
    spec: InstanceSpec
    power_state: str = PowerState.SHUTDOWN
    console_port: int = 0
    boots: int = 0
    cpu_time_ns: int = 0
    running_since_ns: int | None = None
    public_ip: str | None = None

    def set_power(self, state: str) -> None:
        now = time.monotonic_ns()
        if self.running_since_ns is not None:
            self.cpu_time_ns += now - self.running_since_ns
        self.running_since_ns = now if state == PowerState.RUNNING else None
        if state == PowerState.RUNNING and self.power_state != PowerState.RUNNING:
            self.boots += 1
        self.power_state = state

    def cpu_time(self) -> int:
        if self.running_since_ns is None:
            return self.cpu_time_ns
        return self.cpu_time_ns + time.monotonic_ns() - self.running_since_ns


@dataclass
class FakeWorld:
    """The state of one fake node."""

    instances: dict[str, FakeInstance] = field(default_factory=dict)
    disks: dict[str, FakeDisk] = field(default_factory=dict)  # by instance uuid
    images: set[str] = field(default_factory=set)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    reachable: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    ports: itertools.count = field(default_factory=lambda: itertools.count(5900))


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

    capabilities = DriverCapabilities(supports_console=True, supports_ip_binding=True)

    def __init__(self, uri: str = "fake://default") -> None:
        self.uri = uri
        self.world = world_for(uri)

    # --- test helpers ---------------------------------------------------------

    def add_image(self, volume: str) -> None:
        """Register a base image volume (spawning from anything else raises InvalidImage)."""
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

    def set_reachable(self, reachable: bool) -> None:
        """While unreachable, every contract call raises NodeUnreachable."""
        self.world.reachable = reachable

    def _check(self, point: str) -> None:
        if not self.world.reachable:
            raise NodeUnreachable(detail=f"{self.uri} is marked unreachable")
        queue = self.world.failures.get(point)
        if queue:
            raise queue.pop(0)

    def _get(self, uuid: str) -> FakeInstance:
        try:
            return self.world.instances[uuid]
        except KeyError:
            raise InstanceNotFound(detail=uuid) from None

    def _check_image(self, spec: InstanceSpec) -> None:
        if spec.image.volume not in self.world.images:
            raise InvalidImage(detail=f"no image volume {spec.image.volume!r}")
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
            self._get(uuid).set_power(PowerState.SHUTDOWN)

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
            self._check("rebuild.create_disk")
            self._new_disk(spec)
            self._check("rebuild.start")
            inst.set_power(PowerState.RUNNING)

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
                InstanceStats(u, inst.cpu_time(), inst.spec.memory_mib, 0, 0, 0, 0)
                for u in uuids
                if (inst := self.world.instances.get(u)) is not None
            ]

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


class FailingFakeDriver(FakeDriver):
    """A fake node on which every call fails with ``error`` (NodeUnreachable by default)."""

    def __init__(self, uri: str = "fake://failing", error: Exception | None = None) -> None:
        super().__init__(uri)
        self.error = error or NodeUnreachable(detail="FailingFakeDriver")

    def _check(self, point: str) -> None:
        raise self.error
