"""The contract every hypervisor backend meets (modelled on Nova's ComputeDriver).

Plain Python, no Django: services and tasks call a driver obtained from
:func:`wuji.compute.drivers.get_driver`. Arguments and results are frozen
dataclasses. Every failure is a :class:`DriverError` (or a subclass) whose
``message`` is safe to show a customer; the hypervisor's own wording goes in
``detail`` for logs and staff only.

Instances are identified by their platform uuid (canonical lower-case form);
the hypervisor is the authority on power state.
"""

from __future__ import annotations

import abc
import uuid as uuid_lib
from collections.abc import Callable
from dataclasses import dataclass


class PowerState:
    """Power state as the hypervisor reports it (never the platform's wish)."""

    RUNNING = "running"
    SHUTDOWN = "shutdown"
    PAUSED = "paused"
    CRASHED = "crashed"
    NOSTATE = "nostate"

    ALL = (RUNNING, SHUTDOWN, PAUSED, CRASHED, NOSTATE)


# --- values -----------------------------------------------------------------


@dataclass(frozen=True)
class ImageRef:
    """An OS image: a base volume in the node's storage pool (镜像).

    ``kernel`` (and optionally ``initrd``), volumes in the same pool, make the instance boot that kernel
    directly with ``cmdline`` instead of booting the disk through the firmware as real OS images do
    (the tiny test guest, decision 0021). Blank means firmware boot.
    """

    volume: str
    os_family: str = "linux"
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""

    def __post_init__(self) -> None:
        for name in (self.volume, self.kernel, self.initrd):
            if "/" in name:
                raise ValueError(f"invalid volume name: {name!r}")
        if not self.volume:
            raise ValueError("an image needs a volume")
        if (self.initrd or self.cmdline) and not self.kernel:
            raise ValueError("initrd and cmdline need a kernel")

    @property
    def volumes(self) -> tuple[str, ...]:
        """Every pool volume the image needs: the disk's base, then the kernel and initrd if any."""
        return tuple(v for v in (self.volume, self.kernel, self.initrd) if v)


@dataclass(frozen=True)
class InstanceSpec:
    """Everything a driver needs to build (or rebuild) one instance (云服务器)."""

    uuid: str
    name: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    image: ImageRef
    root_password: str | None = None
    ssh_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The uuid ends up in domain and file names: accept only the canonical form.
        if str(uuid_lib.UUID(self.uuid)) != self.uuid:
            raise ValueError(f"uuid must be canonical lower-case: {self.uuid!r}")
        if self.vcpus < 1 or self.memory_mib < 1 or self.disk_gib < 1:
            raise ValueError("vcpus, memory_mib and disk_gib must be positive")


@dataclass(frozen=True)
class InstanceInfo:
    uuid: str
    power_state: str
    vcpus: int
    memory_mib: int
    cpu_time_ns: int


@dataclass(frozen=True)
class ConsoleInfo:
    """Where the instance's graphical console listens (on the node itself)."""

    kind: str  # "vnc"
    host: str
    port: int


@dataclass(frozen=True)
class HostStats:
    hypervisor: str  # e.g. "QEMU", "TEST", "fake"
    version: str
    vcpus: int
    memory_mib: int
    free_memory_mib: int
    instances: int  # instances this platform owns on the node


@dataclass(frozen=True)
class InstanceStats:
    """Cumulative counters; ``None`` where the hypervisor does not report one.

    They restart from zero when the instance's emulator process restarts (power off and on). Network
    counters are from the guest's side: ``rx`` is traffic into the guest, ``tx`` traffic out of it."""

    uuid: str
    cpu_time_ns: int
    memory_mib: int
    disk_read_bytes: int | None = None
    disk_write_bytes: int | None = None
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None
    net_rx_packets: int | None = None
    net_tx_packets: int | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot of an instance (快照): its disk, plus its memory when taken while running.

    ``power_state`` is the instance's state when it was taken, which a revert restores; ``size_bytes`` is
    ``None`` where the backend cannot tell (qcow2 internal snapshots share the overlay's clusters).
    """

    name: str
    power_state: str
    created_at: int  # Unix seconds, as the hypervisor recorded it
    size_bytes: int | None = None


@dataclass(frozen=True)
class DriverCapabilities:
    """Optional features, declared rather than probed."""

    supports_snapshots: bool = False
    supports_migration: bool = False
    supports_ip_binding: bool = False
    supports_console: bool = False


# --- errors -----------------------------------------------------------------


class DriverError(Exception):
    """A hypervisor operation failed.

    ``message`` (also ``str(exc)``) is safe to show a customer; ``detail`` holds
    the backend's own text (paths, error codes) for logs and staff, and shows in
    ``repr(exc)``.
    """

    default_message = "The operation on the server's host failed."

    def __init__(self, message: str | None = None, *, detail: str | None = None) -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, detail={self.detail!r})"


class InstanceNotFound(DriverError):
    default_message = "The server does not exist on its host."


class InstanceExists(DriverError):
    default_message = "A server with this id already exists on the host."


class NotSupported(DriverError):
    default_message = "This operation is not supported on the server's host."


class NodeUnreachable(DriverError):
    default_message = "The server's host cannot be reached right now."


class InvalidImage(DriverError):
    default_message = "The selected image is not available on the server's host."


class SnapshotNotFound(DriverError):
    default_message = "The snapshot does not exist on the server's host."
class GuestAgentUnavailable(DriverError):
    """The guest has no responding QEMU guest agent (not installed, not started, or still booting)."""

    default_message = "The server's QEMU guest agent did not respond; nothing was changed."


# --- the contract -----------------------------------------------------------


class ComputeDriver(abc.ABC):
    """One hypervisor node.

    Every method may raise :class:`NodeUnreachable` when the node cannot be
    reached; methods taking a uuid raise :class:`InstanceNotFound` when the
    instance does not exist (except :meth:`destroy`). Drivers are safe to
    share between threads.
    """

    capabilities: DriverCapabilities = DriverCapabilities()

    @abc.abstractmethod
    def spawn(self, spec: InstanceSpec) -> None:
        """Create the disk (an overlay on ``spec.image``), define and start the instance.

        Postcondition: ``get_info(spec.uuid).power_state == RUNNING``.
        Raises InstanceExists if the uuid is already defined (nothing is touched)
        and InvalidImage if the image is unknown or larger than ``disk_gib``.
        On any failure the platform is as it was before: whatever this call
        created is removed before the error propagates.
        ``root_password``/``ssh_keys`` are applied where the backend can (see the
        driver's docstring); a backend that cannot apply them ignores them.
        """

    @abc.abstractmethod
    def destroy(self, uuid: str) -> None:
        """Force off, undefine and delete the instance's disk.

        Succeeds silently when the instance (or any part of it) is already gone,
        so it is safe to retry and to use for cleaning up half-built instances.
        """

    @abc.abstractmethod
    def power_on(self, uuid: str) -> None:
        """Start (or resume) the instance. No-op when already running."""

    @abc.abstractmethod
    def power_off(self, uuid: str, timeout: float = 60) -> None:
        """Ask the guest to shut down (ACPI), wait up to ``timeout`` seconds, then force off.

        Postcondition: power state is SHUTDOWN. No-op when already off.
        """

    @abc.abstractmethod
    def reboot(self, uuid: str, hard: bool) -> None:
        """Restart the instance: soft asks the guest (ACPI), hard resets it.

        A soft reboot returns once the guest was asked (the guest may ignore it).
        Postcondition: the instance is running; a stopped instance is simply started.
        """

    @abc.abstractmethod
    def rebuild(self, spec: InstanceSpec) -> None:
        """Reinstall (重装系统): force off, delete the disk, create a fresh one from
        ``spec.image`` with ``spec.disk_gib``, and boot. The instance keeps its uuid.

        The image is checked before anything is touched (InvalidImage leaves the
        instance as it was). If a later step fails the instance is left shut
        off, possibly without a disk; calling rebuild again completes it.
        """

    @abc.abstractmethod
    def set_password(self, uuid: str, user: str, password: str) -> None:
        """Set ``user``'s password inside the running guest (重置密码), through its QEMU guest agent.

        Raises DriverError when the instance is not running and GuestAgentUnavailable when the guest
        has no responding agent; in both cases nothing changed and the instance keeps its power state.
        Idempotent: setting the same password again changes nothing.
        """

    @abc.abstractmethod
    def resize(self, uuid: str, vcpus: int, memory_mib: int, disk_gib: int | None = None) -> None:
        """Change the size of a stopped instance in its persistent configuration (takes effect at the next
        boot): vCPUs and memory, and, when ``disk_gib`` is given, grow the disk to it.

        Raises DriverError when the instance is running (nothing is touched) or when ``disk_gib`` is smaller
        than the disk (a disk never shrinks), and NotSupported when the backend cannot grow a disk.
        Idempotent: resizing to the current size changes nothing.
        """

    @abc.abstractmethod
    def get_info(self, uuid: str) -> InstanceInfo:
        """Current power state and size, as the hypervisor reports them."""

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """Uuids of every instance this platform owns on the node, in any state."""

    @abc.abstractmethod
    def get_console(self, uuid: str) -> ConsoleInfo:
        """Where the instance's console listens.

        Raises NotSupported when ``capabilities.supports_console`` is false and
        DriverError when the instance is not running.
        """

    @abc.abstractmethod
    def get_host_stats(self) -> HostStats:
        """Capacity and usage of the node."""

    @abc.abstractmethod
    def get_instance_stats(self, uuids: list[str]) -> list[InstanceStats]:
        """Counters for the given instances, read from the node in one bulk call (the metrics collector
        calls this once per node per run); uuids not on the node are left out."""

    # --- snapshots (optional: ``capabilities.supports_snapshots``) ------------------
    # Not abstract: a backend without snapshots inherits these refusals. Names are chosen by the platform
    # (unique per instance); destroy() and rebuild() discard every snapshot of the instance with its disk.

    def create_snapshot(self, uuid: str, name: str) -> SnapshotInfo:
        """Snapshot the instance as it is now: disk only when shut off, disk and memory when running
        (the guest pauses while its memory is saved, then runs on).

        Idempotent for a retried task: when a snapshot called ``name`` already exists it is returned
        unchanged. On failure no snapshot called ``name`` is left behind.
        """
        raise NotSupported(detail=f"{type(self).__name__} has no snapshots")

    def list_snapshots(self, uuid: str) -> list[SnapshotInfo]:
        """Every snapshot of the instance, oldest first."""
        raise NotSupported(detail=f"{type(self).__name__} has no snapshots")

    def revert_snapshot(self, uuid: str, name: str) -> None:
        """Return the instance's disk (and memory, if it was taken running) to the snapshot; the instance
        ends in the snapshot's ``power_state``. The snapshot is kept. Raises SnapshotNotFound."""
        raise NotSupported(detail=f"{type(self).__name__} has no snapshots")

    def delete_snapshot(self, uuid: str, name: str) -> None:
        """Delete the snapshot; the instance's current disk is untouched. Succeeds when it is already gone."""
        raise NotSupported(detail=f"{type(self).__name__} has no snapshots")

    # --- public IP binding (optional: ``capabilities.supports_ip_binding``) ------

    def bind_public_ip(self, uuid: str, address: str) -> None:
        """Apply ``address`` as the instance's one public IPv4 address, replacing any
        other it had. Idempotent; on failure the instance keeps what it had before.

        The platform never sends traffic to the address: a backend proves the
        binding through the configuration the hypervisor reports (see
        :meth:`get_public_ip`). Raises NotSupported without the capability.
        """
        raise NotSupported(detail=f"{type(self).__name__} cannot bind public addresses")

    def unbind_public_ip(self, uuid: str) -> None:
        """Take the instance's public address away (no-op when it has none).

        Postcondition: ``get_public_ip(uuid) is None`` and no traffic for the old
        address reaches the instance. Raises NotSupported without the capability.
        """
        raise NotSupported(detail=f"{type(self).__name__} cannot bind public addresses")

    def get_public_ip(self, uuid: str) -> str | None:
        """The public address the hypervisor's configuration carries for the instance."""
        raise NotSupported(detail=f"{type(self).__name__} cannot bind public addresses")

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The driver stays usable: a later call reconnects."""

    # --- issue 5: migration (5.5, 8.6). Optional: declared by ``capabilities.supports_migration``. ----------

    def copy_disk_to(self, target: ComputeDriver, uuid: str,
                     progress: Callable[[int], None] | None = None) -> None:
        """Copy the stopped instance's disk into ``target``'s storage under the same name, replacing any
        copy (and definition) an earlier attempt left there. The source is not changed.

        ``progress`` is called with the bytes copied so far while the copy runs (a heartbeat for long
        copies). Raises DriverError when the instance is running and NotSupported when either node cannot
        copy disks (``capabilities.supports_migration`` false, or a different kind of node).
        """
        raise NotSupported(detail=f"{type(self).__name__} cannot copy disks")

    def adopt_disk(self, spec: InstanceSpec, start: bool) -> None:
        """Define the instance around the disk that ``copy_disk_to`` placed here and start it if ``start``.

        Idempotent: an instance already defined is kept (and started if asked). Raises DriverError when
        the disk is missing and NotSupported where migration is not supported.
        """
        raise NotSupported(detail=f"{type(self).__name__} cannot adopt disks")
