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
    """An OS image: a base volume in the node's storage pool (镜像)."""

    volume: str
    os_family: str = "linux"

    def __post_init__(self) -> None:
        if not self.volume or "/" in self.volume:
            raise ValueError(f"invalid image volume name: {self.volume!r}")


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
    """Cumulative counters; ``None`` where the hypervisor does not report one."""

    uuid: str
    cpu_time_ns: int
    memory_mib: int
    disk_read_bytes: int | None = None
    disk_write_bytes: int | None = None
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None


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
        """Counters for the given instances; uuids not on the node are left out."""

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
