"""The libvirt driver, split like Nova's: a connection owner (:class:`Host`), a
domain wrapper (:class:`Guest`), typed XML builders, and the driver itself.

Naming on the node: domain ``wuji-<uuid>``; disk ``<uuid>.qcow2`` in the
configured storage pool, a qcow2 overlay whose backing store is the image
volume. Guests are built without a network interface (tests must never send
traffic to a guest), with a VNC display on the node's console address (127.0.0.1
by default; a remote node's management-network address, so the console proxy can
reach it) and a serial console on a pty, logged to
``<serial_log_dir>/wuji-<uuid>.serial.log`` on a real qemu ``/system`` node.
Binding a public IP later adds an interface on the isolated network
``wuji-public`` on real nodes (metadata only on ``test:///default``).
An image with a kernel volume is booted directly (``<os><kernel/><initrd/>
<cmdline/>``, paths of volumes in the same pool); the others boot their disk
through the firmware.

``root_password``/``ssh_keys`` go through the QEMU guest agent
(``setUserPassword``/``authorizedSSHKeysSet``) right after boot; where that is
unsupported or the agent is not up yet they are ignored (logged), so an image
that must receive credentials reliably needs its own mechanism.

On ``test:///default`` (libvirt's in-process test node): shutdown goes
straight to shut-off, the VNC port is never assigned and consoles cannot be
opened (``supports_console`` is false), statistics carry only CPU time and
memory (disk/net counters are ``None``; the bulk call returns only the state,
so CPU time and memory are read from each domain there), and disks cannot be
copied to another node (no volume upload/download: ``supports_migration`` is
false). Its default pool is ``default-pool``.

Migration copies a disk between nodes through storage-volume download and
upload streams (the bytes pass through the platform's worker). The overlay keeps
its backing-file path, so every node must hold the image volumes at the same
path (the same pool layout); the copy checks this first.

Snapshots are libvirt snapshots stored inside the qcow2 overlay (internal): disk only when the guest is
shut off, disk and memory when it runs. They live and die with the overlay, so rebuild and destroy drop
their metadata with it.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

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

try:  # optional at import time: only a node that uses libvirt needs the binding
    import libvirt
except ImportError:  # pragma: no cover - exercised only where the binding is missing
    libvirt = None
else:
    # libvirt prints every error to stderr by default; we raise them instead.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

log = logging.getLogger(__name__)

T = TypeVar("T")
GIB = 1024**3
MIB = 1024**2
DOMAIN_PREFIX = "wuji-"
DEFAULT_SERIAL_LOG_DIR = "/var/log/libvirt/qemu"
DEFAULT_KERNEL_CMDLINE = "console=ttyS0"  # a directly booted kernel talks on the logged serial console
STREAM_CHUNK = 256 * 1024


# Public IP binding: the isolated network guests' public interfaces join, the filter that pins their address,
# and the namespace of the platform's record in the domain metadata.
PUBLIC_NETWORK = "wuji-public"
PUBLIC_BRIDGE = "wujipub0"
PUBLIC_FILTER = "clean-traffic"
METADATA_NS = "https://wuji.cloud/xmlns/network/1"
METADATA_KEY = "wuji"


def domain_name(uuid: str) -> str:
    return f"{DOMAIN_PREFIX}{uuid}"


def overlay_name(uuid: str) -> str:
    return f"{uuid}.qcow2"


# --- typed XML builders -------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


@dataclass(frozen=True)
class DiskConfig:
    path: str
    format: str = "qcow2"
    target: str = "vda"
    bus: str = "virtio"

    def element(self) -> ET.Element:
        disk = ET.Element("disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type=self.format)
        _sub(disk, "source", file=self.path)
        _sub(disk, "target", dev=self.target, bus=self.bus)
        return disk


@dataclass(frozen=True)
class SerialConfig:
    """Serial console on a pty; output also logged to ``log_file`` when set."""

    log_file: str | None = None

    def element(self) -> ET.Element:
        serial = ET.Element("serial", type="pty")
        if self.log_file:
            _sub(serial, "log", file=self.log_file, append="off")
        _sub(serial, "target", port="0")
        return serial


@dataclass(frozen=True)
class VncConfig:
    listen: str = "127.0.0.1"

    def element(self) -> ET.Element:
        gfx = ET.Element("graphics", type="vnc", autoport="yes", listen=self.listen)
        _sub(gfx, "listen", type="address", address=self.listen)
        return gfx


@dataclass(frozen=True)
class KernelBoot:
    """Direct kernel boot: ``<os>`` gets ``<kernel>``, ``<initrd>`` and ``<cmdline>`` (paths on the node)."""

    kernel: str
    initrd: str | None = None
    cmdline: str = DEFAULT_KERNEL_CMDLINE

    TAGS = ("kernel", "initrd", "cmdline")

    def apply(self, os_el: ET.Element) -> None:
        """Write the boot elements right after ``<type>``, where libvirt puts them."""
        position = 1
        for tag, value in zip(self.TAGS, (self.kernel, self.initrd, self.cmdline), strict=True):
            if value:
                el = ET.Element(tag)
                el.text = value
                os_el.insert(position, el)
                position += 1

    @classmethod
    def rewrite(cls, os_el: ET.Element, boot: KernelBoot | None) -> None:
        """Replace whatever direct-boot elements ``os_el`` has with ``boot``'s (None: firmware boot)."""
        for tag in cls.TAGS:
            for el in os_el.findall(tag):
                os_el.remove(el)
        if boot is not None:
            boot.apply(os_el)


@dataclass(frozen=True)
class DomainConfig:
    """A guest definition. Deliberately has no network interface."""

    virt_type: str
    uuid: str
    title: str
    vcpus: int
    memory_mib: int
    disk: DiskConfig
    serial: SerialConfig
    graphics: VncConfig
    arch: str = "x86_64"
    kernel: KernelBoot | None = None  # None: boot the disk through the firmware

    def to_xml(self) -> str:
        dom = ET.Element("domain", type=self.virt_type)
        _sub(dom, "name", domain_name(self.uuid))
        _sub(dom, "uuid", self.uuid)
        _sub(dom, "title", self.title)
        _sub(dom, "memory", str(self.memory_mib), unit="MiB")
        _sub(dom, "vcpu", str(self.vcpus))
        os_el = _sub(dom, "os")
        _sub(os_el, "type", "hvm", arch=self.arch)
        _sub(os_el, "boot", dev="hd")
        if self.kernel is not None:
            self.kernel.apply(os_el)
        features = _sub(dom, "features")
        _sub(features, "acpi")  # without ACPI a guest cannot be shut down gracefully
        _sub(features, "apic")
        _sub(dom, "clock", offset="utc")
        for event, action in (("poweroff", "destroy"), ("reboot", "restart"), ("crash", "destroy")):
            _sub(dom, f"on_{event}", action)
        devices = _sub(dom, "devices")
        devices.append(self.disk.element())
        devices.append(self.serial.element())
        _sub(_sub(devices, "console", type="pty"), "target", type="serial", port="0")
        agent = _sub(devices, "channel", type="unix")
        _sub(agent, "target", type="virtio", name="org.qemu.guest_agent.0")
        devices.append(self.graphics.element())
        return ET.tostring(dom, encoding="unicode")


@dataclass(frozen=True)
class PublicInterfaceConfig:
    """The guest's public interface: on the node's isolated public network (no ``<forward>``), with
    libvirt's ``clean-traffic`` filter pinned to the bound address so the guest cannot use another one.
    ``link_up=False`` is how a live guest loses the address (hot-unplug needs the guest's cooperation)."""

    address: str
    mac: str | None = None
    link_up: bool = True

    def element(self) -> ET.Element:
        iface = ET.Element("interface", type="network")
        if self.mac:
            _sub(iface, "mac", address=self.mac)
        _sub(iface, "source", network=PUBLIC_NETWORK)
        _sub(iface, "model", type="virtio")
        _sub(_sub(iface, "filterref", filter=PUBLIC_FILTER), "parameter", name="IP", value=self.address)
        _sub(iface, "link", state="up" if self.link_up else "down")
        return iface

    def to_xml(self) -> str:
        return ET.tostring(self.element(), encoding="unicode")


def public_network_xml() -> str:
    """An isolated network: no ``<forward>``, no host address, no DHCP (the network safety rule)."""
    net = ET.Element("network")
    _sub(net, "name", PUBLIC_NETWORK)
    _sub(net, "bridge", name=PUBLIC_BRIDGE)
    return ET.tostring(net, encoding="unicode")


def public_ip_metadata(address: str) -> str:
    """The platform's record of the bound address, kept in the domain's ``<metadata>``."""
    record = ET.Element("network")
    _sub(record, "public-ip", address)
    return ET.tostring(record, encoding="unicode")


@dataclass(frozen=True)
class VolumeConfig:
    """A storage volume; with ``backing_path`` it is an overlay on that volume."""

    name: str
    capacity_gib: int
    format: str = "qcow2"
    backing_path: str | None = None
    backing_format: str | None = None

    def to_xml(self) -> str:
        vol = ET.Element("volume")
        _sub(vol, "name", self.name)
        _sub(vol, "capacity", str(self.capacity_gib), unit="GiB")
        _sub(_sub(vol, "target"), "format", type=self.format)
        if self.backing_path:
            backing = _sub(vol, "backingStore")
            _sub(backing, "path", self.backing_path)
            _sub(backing, "format", type=self.backing_format or "raw")
        return ET.tostring(vol, encoding="unicode")


@dataclass(frozen=True)
class SnapshotConfig:
    """A snapshot request; libvirt picks internal qcow2 snapshots for the overlay disk."""

    name: str

    def to_xml(self) -> str:
        snap = ET.Element("domainsnapshot")
        _sub(snap, "name", self.name)
        return ET.tostring(snap, encoding="unicode")


SNAPSHOT_STATES = {"running": PowerState.RUNNING, "shutoff": PowerState.SHUTDOWN, "paused": PowerState.PAUSED}


def snapshot_info(snap: Any) -> SnapshotInfo:
    root = ET.fromstring(snap.getXMLDesc(0))
    return SnapshotInfo(
        name=root.findtext("name") or snap.getName(),
        power_state=SNAPSHOT_STATES.get(root.findtext("state") or "", PowerState.NOSTATE),
        created_at=int(root.findtext("creationTime") or 0),
    )


def volume_format(vol: Any) -> str:
    fmt = ET.fromstring(vol.XMLDesc(0)).find("./target/format")
    return fmt.get("type", "raw") if fmt is not None else "raw"


# --- connection owner ---------------------------------------------------------


def _is_connection_error(err: Any) -> bool:
    code, domain = err.get_error_code(), err.get_error_domain()
    if code in (libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_INVALID_CONN):
        return True
    return domain in (libvirt.VIR_FROM_REMOTE, libvirt.VIR_FROM_RPC) and code in (
        libvirt.VIR_ERR_SYSTEM_ERROR,
        libvirt.VIR_ERR_INTERNAL_ERROR,
        libvirt.VIR_ERR_RPC,
    )


def _agent_error_codes() -> tuple[int, ...]:
    """libvirt's answers when a guest agent is missing, not connected or out of step."""
    return (libvirt.VIR_ERR_AGENT_UNRESPONSIVE, libvirt.VIR_ERR_AGENT_UNSYNCED, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)


@contextmanager
def ignoring(*codes: int) -> Iterator[None]:
    """Swallow libvirt errors with the given codes (for idempotent teardown)."""
    try:
        yield
    except libvirt.libvirtError as err:
        if err.get_error_code() not in codes:
            raise


class Host:
    """Owns the one connection to a node: opens it lazily, reopens it after a
    drop, and translates libvirt errors into the driver's exceptions.

    A drop is noticed three ways: ``isAlive()`` (a local check, no round trip)
    before each use, which is false once the connection was closed or libvirt
    saw its socket fail; a connection error from a call, after which the
    connection is closed so the next call reconnects; and, before a call that
    may change something, one cheap round trip on the cached connection
    (:meth:`get_connection`), because ``isAlive()`` stays true on a connection
    whose daemon went away while it was idle (libvirtd restarted): without an
    event loop the client reads nothing from the socket until its next call.
    Read-only calls go through :meth:`read` instead, which reconnects and
    retries once at once, so a connection that died while idle costs no failed
    health check or sample. Keepalive probes themselves need a libvirt event
    loop; the workers run none (decisions 0026, 0053).
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._conn: Any = None
        self._lock = threading.Lock()

    def get_connection(self, probe: bool = True) -> Any:
        """A live ``virConnect``; raises NodeUnreachable if the node cannot be reached.

        With ``probe`` (the default, for calls that may change something and are not retried) a cached
        connection must first answer one round trip; one that does not is dropped and a new one opened, so a
        daemon restarted while the connection was idle does not fail the next operation."""
        with self._lock:
            if self._conn is not None and not self._alive(self._conn):
                log.warning("libvirt connection to %s dropped; reconnecting", self.uri)
                self._conn = None
            elif self._conn is not None and probe and not self._answers(self._conn):
                log.warning("libvirt connection to %s no longer answers (daemon restarted?); reconnecting", self.uri)
                self._drop(self._conn)
                self._conn = None
            if self._conn is None:
                try:
                    self._conn = libvirt.open(self.uri)
                except libvirt.libvirtError as err:
                    raise NodeUnreachable(detail=f"{self.uri}: {err}") from err
            return self._conn

    @staticmethod
    def _alive(conn: Any) -> bool:
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:  # closed handle: "invalid connection pointer"
            return False

    @staticmethod
    def _answers(conn: Any) -> bool:
        """One round trip to the daemon (its library version, no side effect): false on a connection error."""
        try:
            conn.getLibVersion()
        except libvirt.libvirtError as err:
            if not _is_connection_error(err):
                raise
            return False
        return True

    @staticmethod
    def _drop(conn: Any) -> None:
        """Release a dead connection's handle (its socket is gone; closing it may itself fail)."""
        with ignoring(libvirt.VIR_ERR_INVALID_CONN, libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR,
                      libvirt.VIR_ERR_RPC):
            conn.close()

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with ignoring(libvirt.VIR_ERR_INVALID_CONN, libvirt.VIR_ERR_SYSTEM_ERROR):
                conn.close()

    def read(self, call: Callable[[Any], T], uuid: str | None = None) -> T:
        """Run the read-only ``call(connection)``; after a connection error reconnect and retry it once."""
        try:
            return call(self.get_connection(probe=False))  # no round trip first: a failed read is retried
        except libvirt.libvirtError as err:
            if not _is_connection_error(err):
                raise self._translate(err, uuid) from err
            log.warning("libvirt call to %s failed on a dropped connection; reconnecting once", self.uri)
            self.close()
        with self.errors(uuid):
            return call(self.get_connection(probe=False))

    @contextmanager
    def errors(self, uuid: str | None = None) -> Iterator[None]:
        """Translate ``libvirtError`` raised inside the block into a DriverError."""
        try:
            yield
        except libvirt.libvirtError as err:
            raise self._translate(err, uuid) from err

    def _translate(self, err: Any, uuid: str | None) -> DriverError:
        code = err.get_error_code()
        detail = f"{uuid or self.uri}: {err}"
        if _is_connection_error(err):
            self.close()  # the next call reconnects
            return NodeUnreachable(detail=detail)
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            return InstanceNotFound(detail=detail)
        if code == libvirt.VIR_ERR_DOM_EXIST:
            return InstanceExists(detail=detail)
        if code in (
            libvirt.VIR_ERR_NO_SUPPORT,
            libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
        ):
            return NotSupported(detail=detail)
        return DriverError(detail=detail)


# --- domain wrapper -------------------------------------------------------------


class Guest:
    """A ``virDomain`` seen through the driver's vocabulary."""

    def __init__(self, dom: Any) -> None:
        self.dom = dom

    @property
    def uuid(self) -> str:
        return self.dom.UUIDString()

    @property
    def power_state(self) -> str:
        return self.map_state(self.dom.state()[0])

    @staticmethod
    def map_state(state: int) -> str:
        return {
            libvirt.VIR_DOMAIN_NOSTATE: PowerState.NOSTATE,
            libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
            libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
            libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
            libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTDOWN,  # shutting down
            libvirt.VIR_DOMAIN_SHUTOFF: PowerState.SHUTDOWN,
            libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
            libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.PAUSED,
        }.get(state, PowerState.NOSTATE)

    def is_active(self) -> bool:
        return bool(self.dom.isActive())

    def info(self) -> InstanceInfo:
        state, max_kib, _cur_kib, vcpus, cpu_ns = self.dom.info()
        return InstanceInfo(self.uuid, self.map_state(state), vcpus, max_kib // 1024, cpu_ns)

    def vnc_address(self) -> tuple[str, int] | None:
        """From the live XML: where the running display listens (a domain keeps the address it was defined
        with, even after the node's console address changes)."""
        gfx = ET.fromstring(self.dom.XMLDesc(0)).find("./devices/graphics[@type='vnc']")
        if gfx is None or int(gfx.get("port", "-1")) <= 0:
            return None
        return gfx.get("listen", "127.0.0.1"), int(gfx.get("port", "-1"))

    def start(self) -> None:
        self.dom.create()

    def force_off(self) -> None:
        """Pull the plug; no-op when already off."""
        with ignoring(libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_NO_DOMAIN):
            self.dom.destroy()

    def undefine(self) -> None:
        with ignoring(libvirt.VIR_ERR_NO_DOMAIN):
            self.dom.undefineFlags(
                libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            )


# --- the driver -------------------------------------------------------------------


class LibvirtDriver(ComputeDriver):
    """A libvirt node. ``virt_type`` ("qemu" or "kvm") is a node setting, never guessed; so is
    ``console_address``, where new domains' VNC displays listen (the Node model refuses public addresses)."""

    def __init__(
        self,
        uri: str,
        virt_type: str = "qemu",
        pool: str = "default",
        console_address: str = "127.0.0.1",
        serial_log_dir: str | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        if libvirt is None:
            raise NotSupported(detail="the libvirt-python binding is not installed")
        if virt_type not in ("qemu", "kvm"):
            raise ValueError(f"virt_type must be 'qemu' or 'kvm', not {virt_type!r}")
        self.uri, self.virt_type, self.pool = uri, virt_type, pool
        self.console_address = str(ipaddress.ip_address(console_address))  # ValueError unless an IP address
        self.host = Host(uri)
        self.poll_interval = poll_interval
        parsed = urlparse(uri)
        # libvirt's test driver, in this process (test:///default) or in a libvirtd that several processes share
        # (test+unix:///default): the same limits either way.
        is_test = parsed.scheme.split("+")[0] == "test"
        on_qemu_system = parsed.scheme.startswith("qemu") and parsed.path == "/system"
        self.serial_log_dir = serial_log_dir or (DEFAULT_SERIAL_LOG_DIR if on_qemu_system else None)
        self.capabilities = DriverCapabilities(supports_console=not is_test, supports_migration=not is_test,
                                               supports_snapshots=True, supports_ip_binding=True)
        # test:///default cannot attach or update devices: there the binding lives in the metadata only.
        self.manages_interfaces = not is_test
        # test:///default cannot attach or update devices: there the binding lives in the metadata only.
        self.manages_interfaces = not is_test

    # --- helpers ---------------------------------------------------------------

    def _lookup(self, conn: Any, uuid: str) -> Guest | None:
        """The platform's domain with this uuid, or None (foreign domains are invisible)."""
        try:
            dom = conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise
        return Guest(dom) if dom.name() == domain_name(uuid) else None

    def _guest(self, conn: Any, uuid: str) -> Guest:
        guest = self._lookup(conn, uuid)
        if guest is None:
            raise InstanceNotFound(detail=uuid)
        return guest

    def _pool(self, conn: Any) -> Any:
        try:
            return conn.storagePoolLookupByName(self.pool)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
                raise DriverError(detail=f"storage pool {self.pool!r} is missing") from err
            raise

    @staticmethod
    def _volume(pool: Any, name: str) -> Any | None:
        try:
            return pool.storageVolLookupByName(name)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                return None
            raise

    def _image_volume(self, pool: Any, name: str) -> Any:
        """A volume an image needs; raises InvalidImage if the pool has none of that name."""
        vol = self._volume(pool, name)
        if vol is None:  # maybe copied into the pool directory by hand
            pool.refresh(0)
            vol = self._volume(pool, name)
        if vol is None:
            raise InvalidImage(detail=f"no volume {name!r} in pool {self.pool!r}")
        return vol

    def _image(self, pool: Any, spec: InstanceSpec) -> Any:
        """The image volume for ``spec``; raises InvalidImage if it cannot back the disk."""
        vol = self._image_volume(pool, spec.image.volume)
        if vol.info()[1] > spec.disk_gib * GIB:
            raise InvalidImage(detail=f"{spec.image.volume!r} is larger than {spec.disk_gib} GiB")
        return vol

    def _kernel_boot(self, pool: Any, spec: InstanceSpec) -> KernelBoot | None:
        """The direct kernel boot of ``spec``'s image, None for firmware boot; InvalidImage if a volume is missing."""
        image = spec.image
        if not image.kernel:
            return None
        kernel = self._image_volume(pool, image.kernel).path()
        initrd = self._image_volume(pool, image.initrd).path() if image.initrd else None
        return KernelBoot(kernel, initrd, image.cmdline or DEFAULT_KERNEL_CMDLINE)

    def _set_kernel_boot(self, conn: Any, guest: Guest, boot: KernelBoot | None) -> None:
        """Make the persistent definition boot as ``boot`` says (a reinstall may change the kernel)."""
        xml = ET.fromstring(guest.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        os_el = xml.find("os")
        before = ET.tostring(os_el)
        KernelBoot.rewrite(os_el, boot)
        if ET.tostring(os_el) != before:
            conn.defineXML(ET.tostring(xml, encoding="unicode"))

    def _create_overlay(self, pool: Any, spec: InstanceSpec, image: Any) -> str:
        self._delete_overlay(pool, spec.uuid)  # a leftover of a failed attempt, never in use
        config = VolumeConfig(
            overlay_name(spec.uuid),
            spec.disk_gib,
            backing_path=image.path(),
            backing_format=volume_format(image),
        )
        return pool.createXML(config.to_xml(), 0).path()

    def _delete_overlay(self, pool: Any, uuid: str) -> None:
        vol = self._volume(pool, overlay_name(uuid))
        if vol is not None:
            with ignoring(libvirt.VIR_ERR_NO_STORAGE_VOL):
                vol.delete(0)

    def _domain_config(self, spec: InstanceSpec, disk_path: str, boot: KernelBoot | None = None) -> DomainConfig:
        log_file = self.serial_log_path(spec.uuid)
        return DomainConfig(
            virt_type=self.virt_type,
            uuid=spec.uuid,
            title=spec.name,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            disk=DiskConfig(disk_path),
            serial=SerialConfig(log_file),
            graphics=VncConfig(self.console_address),
            kernel=boot,
        )

    def _apply_credentials(self, guest: Guest, spec: InstanceSpec) -> None:
        """Best effort through the guest agent; see the module docstring."""
        try:
            if spec.root_password:
                guest.dom.setUserPassword("root", spec.root_password, 0)
            if spec.ssh_keys:
                guest.dom.authorizedSSHKeysSet("root", list(spec.ssh_keys), 0)
        except libvirt.libvirtError as err:
            log.info("credentials not applied to %s: %s", spec.uuid, err)

    def _teardown(self, conn: Any, uuid: str) -> None:
        guest = self._lookup(conn, uuid)
        if guest is not None:
            guest.force_off()
            guest.undefine()
        self._delete_overlay(self._pool(conn), uuid)

    def serial_log_path(self, uuid: str) -> str | None:
        """Where the guest's serial console output is written, if logged."""
        if self.serial_log_dir is None:
            return None
        return f"{self.serial_log_dir}/{domain_name(uuid)}.serial.log"

    def ensure_image_volume(self, volume_name: str, capacity_gib: int) -> str:
        """Create an empty qcow2 base volume in the pool unless one exists; return its path.

        Used to register images on ``test:///default`` (and for demos); real OS
        images are uploaded into the pool by the image tooling.
        """
        with self.host.errors():
            pool = self._pool(self.host.get_connection())
            vol = self._volume(pool, volume_name)
            if vol is None:
                try:
                    vol = pool.createXML(VolumeConfig(volume_name, capacity_gib).to_xml(), 0)
                except libvirt.libvirtError as err:  # another worker starting at the same time created it
                    vol = self._volume(pool, volume_name)
                    if vol is None:
                        raise err from None
            return vol.path()

    # --- contract ----------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        with self.host.errors(spec.uuid):
            conn = self.host.get_connection()
            if self._lookup(conn, spec.uuid) is not None:
                raise InstanceExists(detail=spec.uuid)
            pool = self._pool(conn)
            image = self._image(pool, spec)
            boot = self._kernel_boot(pool, spec)
            try:
                disk_path = self._create_overlay(pool, spec, image)
                guest = Guest(conn.defineXML(self._domain_config(spec, disk_path, boot).to_xml()))
                guest.start()
            except BaseException:
                try:
                    self._teardown(conn, spec.uuid)
                except Exception:  # keep the original error; destroy() can finish later
                    log.exception("cleanup after failed spawn of %s failed", spec.uuid)
                raise
            self._apply_credentials(guest, spec)

    def destroy(self, uuid: str) -> None:
        with self.host.errors(uuid):
            self._teardown(self.host.get_connection(), uuid)

    def power_on(self, uuid: str) -> None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            state = guest.power_state
            if state == PowerState.PAUSED:
                guest.dom.resume()
            elif not guest.is_active():
                guest.start()

    def power_off(self, uuid: str, timeout: float = 60) -> None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            if not guest.is_active():
                return
            if guest.power_state != PowerState.PAUSED and timeout > 0:
                with ignoring(libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_INTERNAL_ERROR):
                    guest.dom.shutdown()  # ACPI power button
                deadline = time.monotonic() + timeout
                while guest.is_active() and time.monotonic() < deadline:
                    time.sleep(min(self.poll_interval, max(0.0, deadline - time.monotonic())))
            guest.force_off()

    def reboot(self, uuid: str, hard: bool) -> None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            state = guest.power_state
            if state == PowerState.RUNNING:
                if hard:
                    guest.dom.reset(0)
                else:
                    guest.dom.reboot(0)
                return
            guest.force_off()  # paused, crashed or shut off: boot it afresh
            guest.start()

    def rebuild(self, spec: InstanceSpec) -> None:
        with self.host.errors(spec.uuid):
            conn = self.host.get_connection()
            guest = self._guest(conn, spec.uuid)
            pool = self._pool(conn)
            image = self._image(pool, spec)
            boot = self._kernel_boot(pool, spec)
            guest.force_off()
            self._forget_snapshots(guest)  # their data lives in the overlay about to go
            self._create_overlay(pool, spec, image)  # deletes the old overlay first
            self._set_kernel_boot(conn, guest, boot)
            guest.start()
            self._apply_credentials(guest, spec)

    def set_password(self, uuid: str, user: str, password: str) -> None:
        """``setUserPassword`` through the QEMU guest agent; a guest without a running agent (or an image
        without qemu-guest-agent) raises GuestAgentUnavailable and is left exactly as it was."""
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            if not guest.is_active():
                raise DriverError("The server is not running.", detail=uuid)
            try:
                guest.dom.setUserPassword(user, password, 0)
            except libvirt.libvirtError as err:
                if err.get_error_code() in _agent_error_codes():
                    raise GuestAgentUnavailable(detail=f"{uuid}: {err}") from err
                raise

    def resize(self, uuid: str, vcpus: int, memory_mib: int, disk_gib: int | None = None) -> None:
        with self.host.errors(uuid):
            conn = self.host.get_connection()
            guest = self._guest(conn, uuid)
            if guest.is_active():
                raise DriverError("Stop the server before changing its size.", detail=uuid)
            vol = None
            if disk_gib is not None:
                vol = self._volume(self._pool(conn), overlay_name(uuid))
                if vol is not None and disk_gib * GIB < vol.info()[1]:
                    raise DriverError("A disk cannot shrink.", detail=f"{uuid}: {disk_gib} GiB")
            # The disk first: a backend that cannot grow it refuses before anything changed.
            if vol is not None and disk_gib * GIB > vol.info()[1]:
                try:
                    vol.resize(disk_gib * GIB, 0)
                except libvirt.libvirtError as err:
                    if err.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                        raise NotSupported(detail=f"{self.uri} cannot grow disks") from err
                    raise
            dom, config = guest.dom, libvirt.VIR_DOMAIN_AFFECT_CONFIG
            kib = memory_mib * 1024
            # Raise a maximum before the current value; lower the current value before the maximum.
            if vcpus >= dom.vcpusFlags(config | libvirt.VIR_DOMAIN_VCPU_MAXIMUM):
                dom.setVcpusFlags(vcpus, config | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
                dom.setVcpusFlags(vcpus, config)
            else:
                dom.setVcpusFlags(vcpus, config)
                dom.setVcpusFlags(vcpus, config | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
            if kib >= dom.maxMemory():
                dom.setMaxMemory(kib)
                dom.setMemoryFlags(kib, config)
            else:
                dom.setMemoryFlags(kib, config)
                dom.setMemoryFlags(kib, config | libvirt.VIR_DOMAIN_MEM_MAXIMUM)

    def get_info(self, uuid: str) -> InstanceInfo:
        return self.host.read(lambda conn: self._guest(conn, uuid).info(), uuid)

    def list_instances(self) -> list[str]:
        return self.host.read(self._platform_uuids)

    @staticmethod
    def _platform_uuids(conn: Any) -> list[str]:
        return [d.UUIDString() for d in conn.listAllDomains(0) if d.name() == domain_name(d.UUIDString())]

    def get_console(self, uuid: str) -> ConsoleInfo:
        if not self.capabilities.supports_console:
            raise NotSupported(detail=f"{self.uri} has no consoles")
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            address = guest.vnc_address() if guest.is_active() else None
            if address is None:
                raise DriverError("The server is not running.", detail=uuid)
            return ConsoleInfo("vnc", *address)

    def get_host_stats(self) -> HostStats:
        return self.host.read(self._host_stats)

    def _host_stats(self, conn: Any) -> HostStats:
        _model, memory_mib, cpus, *_ = conn.getInfo()
        v = conn.getVersion()
        return HostStats(
            hypervisor=conn.getType(),
            version=f"{v // 1_000_000}.{v // 1000 % 1000}.{v % 1000}",
            vcpus=cpus,
            memory_mib=memory_mib,
            free_memory_mib=conn.getFreeMemory() // MIB,
            instances=len(self._platform_uuids(conn)),
        )

    def get_instance_stats(self, uuids: list[str]) -> list[InstanceStats]:
        if not uuids:
            return []
        return self.host.read(lambda conn: self._instance_stats(conn, set(uuids)))

    @staticmethod
    def _instance_stats(conn: Any, wanted: set[str]) -> list[InstanceStats]:
        """One ``getAllDomainStats`` round trip for every domain on the node, filtered to ours (domains of
        other tenants of the node are never read further)."""
        groups = (
            libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
            | libvirt.VIR_DOMAIN_STATS_BALLOON
            | libvirt.VIR_DOMAIN_STATS_BLOCK
            | libvirt.VIR_DOMAIN_STATS_INTERFACE
        )
        found = []
        for dom, rec in conn.getAllDomainStats(groups, 0):
            uuid = dom.UUIDString()
            if uuid in wanted and dom.name() == domain_name(uuid):
                found.append(LibvirtDriver._stats(Guest(dom), uuid, rec))
        return found

    @staticmethod
    def _stats(guest: Guest, uuid: str, rec: dict[str, Any]) -> InstanceStats:
        def total(group: str, key: str) -> int | None:
            if f"{group}.count" not in rec:  # not reported by this hypervisor
                return None
            return sum(rec.get(f"{group}.{i}.{key}", 0) for i in range(rec[f"{group}.count"]))

        if "cpu.time" in rec and "balloon.current" in rec:
            cpu_time_ns, memory_mib = rec["cpu.time"], rec["balloon.current"] // 1024
        else:  # test:///default reports only the state in bulk: ask the (in-process) domain itself
            info = guest.info()
            cpu_time_ns, memory_mib = rec.get("cpu.time", info.cpu_time_ns), info.memory_mib
        return InstanceStats(
            uuid=uuid,
            cpu_time_ns=cpu_time_ns,
            memory_mib=memory_mib,
            disk_read_bytes=total("block", "rd.bytes"),
            disk_write_bytes=total("block", "wr.bytes"),
            net_rx_bytes=total("net", "rx.bytes"),
            net_tx_bytes=total("net", "tx.bytes"),
            net_rx_packets=total("net", "rx.pkts"),
            net_tx_packets=total("net", "tx.pkts"),
        )

    # --- snapshots -------------------------------------------------------------------

    @staticmethod
    def _snapshot(guest: Guest, name: str) -> Any | None:
        try:
            return guest.dom.snapshotLookupByName(name, 0)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                return None
            raise

    @staticmethod
    def _forget_snapshots(guest: Guest) -> None:
        """Drop libvirt's record of every snapshot (the data itself goes with the overlay, which may
        already be missing after a failed rebuild). ``test:///default`` knows no metadata-only delete and
        keeps no data, so there a plain delete does the same."""
        for snap in guest.dom.listAllSnapshots(0):
            with ignoring(libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT):
                try:
                    snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
                except libvirt.libvirtError as err:
                    if err.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                        raise
                    snap.delete(0)

    def create_snapshot(self, uuid: str, name: str) -> SnapshotInfo:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            snap = self._snapshot(guest, name) or guest.dom.snapshotCreateXML(SnapshotConfig(name).to_xml(), 0)
            return snapshot_info(snap)

    def list_snapshots(self, uuid: str) -> list[SnapshotInfo]:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            infos = [snapshot_info(snap) for snap in guest.dom.listAllSnapshots(0)]
            return sorted(infos, key=lambda info: (info.created_at, info.name))

    def revert_snapshot(self, uuid: str, name: str) -> None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            snap = self._snapshot(guest, name)
            if snap is None:
                raise SnapshotNotFound(detail=f"{uuid}: {name}")
            guest.dom.revertToSnapshot(snap, 0)

    def delete_snapshot(self, uuid: str, name: str) -> None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            snap = self._snapshot(guest, name)
            if snap is not None:
                with ignoring(libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT):
                    snap.delete(0)
    # --- public IP binding ----------------------------------------------------------
    # The metadata is the record every node keeps (test:///default included); real nodes also carry the
    # interface. Interface first, metadata last, so the record never claims more than was applied.

    def bind_public_ip(self, uuid: str, address: str) -> None:
        with self.host.errors(uuid):
            conn = self.host.get_connection()
            guest = self._guest(conn, uuid)
            if self.manages_interfaces:
                self._ensure_public_network(conn)
                self._apply_public_interface(guest, address)
            self._set_ip_metadata(guest, public_ip_metadata(address))

    def unbind_public_ip(self, uuid: str) -> None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            if self.manages_interfaces:
                self._remove_public_interface(guest)
            self._set_ip_metadata(guest, None)

    def get_public_ip(self, uuid: str) -> str | None:
        with self.host.errors(uuid):
            guest = self._guest(self.host.get_connection(), uuid)
            try:
                record = guest.dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NS,
                                            libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            except libvirt.libvirtError as err:
                if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
                    return None
                raise
            return ET.fromstring(record).findtext("public-ip")

    @staticmethod
    def _scopes(guest: Guest) -> list[int]:
        """Persistent configuration always; the running guest too when it runs."""
        config = [libvirt.VIR_DOMAIN_AFFECT_CONFIG]
        return config + [libvirt.VIR_DOMAIN_AFFECT_LIVE] if guest.is_active() else config

    def _set_ip_metadata(self, guest: Guest, record: str | None) -> None:
        flags = 0
        for scope in self._scopes(guest):
            flags |= scope
        guest.dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, record, METADATA_KEY if record else None,
                              METADATA_NS, flags)

    @staticmethod
    def _ensure_public_network(conn: Any) -> None:
        try:
            net = conn.networkLookupByName(PUBLIC_NETWORK)
        except libvirt.libvirtError as err:
            if err.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                raise
            net = conn.networkDefineXML(public_network_xml())
            net.setAutostart(1)
        if not net.isActive():
            net.create()

    @staticmethod
    def _public_interface(guest: Guest, scope: int) -> ET.Element | None:
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if scope == libvirt.VIR_DOMAIN_AFFECT_CONFIG else 0
        devices = ET.fromstring(guest.dom.XMLDesc(flags)).find("devices")
        for iface in devices.findall("interface") if devices is not None else []:
            source = iface.find("source")
            if source is not None and source.get("network") == PUBLIC_NETWORK:
                return iface
        return None

    def _apply_public_interface(self, guest: Guest, address: str) -> None:
        """Attach the public interface, or update the one there, in each scope, keeping one MAC (libvirt
        matches an interface by its MAC)."""
        current = {scope: self._public_interface(guest, scope) for scope in self._scopes(guest)}
        mac = next((iface.find("mac").get("address") for iface in current.values() if iface is not None), None)
        for scope, iface in current.items():
            config = PublicInterfaceConfig(address, mac=mac).to_xml()
            if iface is None:
                guest.dom.attachDeviceFlags(config, scope)
                mac = mac or self._public_interface(guest, scope).find("mac").get("address")
            else:
                guest.dom.updateDeviceFlags(config, scope)

    def _remove_public_interface(self, guest: Guest) -> None:
        """Gone from the persistent configuration; a running guest's link goes down (no hot-unplug)."""
        for scope in self._scopes(guest):
            current = self._public_interface(guest, scope)
            if current is None:
                continue
            address = current.find("filterref/parameter[@name='IP']")
            config = PublicInterfaceConfig(address.get("value") if address is not None else "0.0.0.0",
                                           mac=current.find("mac").get("address"), link_up=False).to_xml()
            if scope == libvirt.VIR_DOMAIN_AFFECT_CONFIG:
                guest.dom.detachDeviceFlags(config, scope)
            else:
                guest.dom.updateDeviceFlags(config, scope)

    def close(self) -> None:
        self.host.close()

    # --- issue 5: migration ------------------------------------------------------------------------

    def _require_migration(self, other: ComputeDriver) -> LibvirtDriver:
        if not isinstance(other, LibvirtDriver):
            raise NotSupported(detail=f"cannot copy a libvirt disk to {type(other).__name__}")
        for driver in (self, other):
            if not driver.capabilities.supports_migration:
                raise NotSupported(
                    "This host cannot copy server disks (libvirt's test driver has no volume upload).",
                    detail=f"{driver.uri}: no storage volume upload/download",
                )
        return other

    def copy_disk_to(self, target: ComputeDriver, uuid: str, progress=None) -> None:
        target = self._require_migration(target)
        with self.host.errors(uuid):
            conn = self.host.get_connection()
            if self._guest(conn, uuid).is_active():
                raise DriverError("Stop the server before copying its disk.", detail=uuid)
            source = self._volume(self._pool(conn), overlay_name(uuid))
            if source is None:
                raise DriverError("The server has no disk to copy.", detail=uuid)
            xml = ET.fromstring(source.XMLDesc(0))
            backing = xml.findtext("./backingStore/path")
            length = int(xml.findtext("./physical") or source.info()[2])
        with target.host.errors(uuid):
            target_conn = target.host.get_connection()
            if backing and not self._has_volume_at(target_conn, backing):
                raise NotSupported("The target host does not hold this server's image at the same path.",
                                   detail=f"{target.uri}: no volume at {backing}")
            target._teardown(target_conn, uuid)  # a leftover of an earlier attempt is never in use
            # Raw of the exact file length: the upload then lays down the qcow2 file byte for byte.
            config = ET.Element("volume")
            _sub(config, "name", overlay_name(uuid))
            _sub(config, "capacity", str(length), unit="bytes")
            _sub(_sub(config, "target"), "format", type="raw")
            destination = target._pool(target_conn).createXML(ET.tostring(config, encoding="unicode"), 0)
        with self.host.errors(uuid), target.host.errors(uuid):
            self._stream(conn, source, target_conn, destination, length, progress)
            target._pool(target_conn).refresh(0)  # libvirt re-reads the format (qcow2) from the header

    @staticmethod
    def _has_volume_at(conn: Any, path: str) -> bool:
        try:
            conn.storageVolLookupByPath(path)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                return False
            raise
        return True

    @staticmethod
    def _stream(conn: Any, source: Any, target_conn: Any, destination: Any, length: int, progress) -> None:
        """Pipe ``length`` bytes from a volume download stream into a volume upload stream."""
        down, up = conn.newStream(0), target_conn.newStream(0)
        source.download(down, 0, length, 0)
        destination.upload(up, 0, length, 0)
        copied = 0
        try:
            while data := down.recv(STREAM_CHUNK):
                view = memoryview(data)
                while view:
                    view = view[up.send(view.tobytes()):]
                copied += len(data)
                if progress is not None:
                    progress(copied)
            down.finish()
            up.finish()
        except BaseException:
            for stream in (down, up):
                with ignoring(libvirt.VIR_ERR_INVALID_STREAM, libvirt.VIR_ERR_OPERATION_INVALID,
                              libvirt.VIR_ERR_RPC):
                    stream.abort()
            raise

    def adopt_disk(self, spec: InstanceSpec, start: bool) -> None:
        self._require_migration(self)
        with self.host.errors(spec.uuid):
            conn = self.host.get_connection()
            guest = self._lookup(conn, spec.uuid)
            if guest is None:
                disk = self._volume(self._pool(conn), overlay_name(spec.uuid))
                if disk is None:
                    raise DriverError("The server's disk has not been copied here.", detail=spec.uuid)
                guest = Guest(conn.defineXML(self._domain_config(spec, disk.path()).to_xml()))
            if start and not guest.is_active():
                guest.start()
