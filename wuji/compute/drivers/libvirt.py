"""The libvirt driver, split like Nova's: a connection owner (:class:`Host`), a
domain wrapper (:class:`Guest`), typed XML builders, and the driver itself.

Naming on the node: domain ``wuji-<uuid>``; disk ``<uuid>.qcow2`` in the
configured storage pool, a qcow2 overlay whose backing store is the image
volume. Guests are built without a network interface (tests must never send
traffic to a guest), with a VNC display on 127.0.0.1 and a serial console on a
pty, logged to ``<serial_log_dir>/wuji-<uuid>.serial.log`` on a real qemu
``/system`` node. Binding a public IP later adds an interface on the isolated
network ``wuji-public`` on real nodes (metadata only on ``test:///default``).

``root_password``/``ssh_keys`` go through the QEMU guest agent
(``setUserPassword``/``authorizedSSHKeysSet``) right after boot; where that is
unsupported or the agent is not up yet they are ignored (logged), so an image
that must receive credentials reliably needs its own mechanism.

On ``test:///default`` (libvirt's in-process test node): shutdown goes
straight to shut-off, the VNC port is never assigned and consoles cannot be
opened (``supports_console`` is false), and statistics carry only CPU time and
memory (disk/net counters are ``None``). Its default pool is ``default-pool``.
"""

from __future__ import annotations

import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

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
    NotSupported,
    PowerState,
)

try:  # optional at import time: only a node that uses libvirt needs the binding
    import libvirt
except ImportError:  # pragma: no cover - exercised only where the binding is missing
    libvirt = None
else:
    # libvirt prints every error to stderr by default; we raise them instead.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

log = logging.getLogger(__name__)

GIB = 1024**3
MIB = 1024**2
DOMAIN_PREFIX = "wuji-"
DEFAULT_SERIAL_LOG_DIR = "/var/log/libvirt/qemu"


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
    drop, and translates libvirt errors into the driver's exceptions."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._conn: Any = None
        self._lock = threading.Lock()

    def get_connection(self) -> Any:
        """A live ``virConnect``; raises NodeUnreachable if the node cannot be reached."""
        with self._lock:
            if self._conn is not None and not self._alive(self._conn):
                log.warning("libvirt connection to %s dropped; reconnecting", self.uri)
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

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with ignoring(libvirt.VIR_ERR_INVALID_CONN, libvirt.VIR_ERR_SYSTEM_ERROR):
                conn.close()

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
    """A libvirt node. ``virt_type`` ("qemu" or "kvm") is a node setting, never guessed."""

    def __init__(
        self,
        uri: str,
        virt_type: str = "qemu",
        pool: str = "default",
        serial_log_dir: str | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        if libvirt is None:
            raise NotSupported(detail="the libvirt-python binding is not installed")
        if virt_type not in ("qemu", "kvm"):
            raise ValueError(f"virt_type must be 'qemu' or 'kvm', not {virt_type!r}")
        self.uri, self.virt_type, self.pool = uri, virt_type, pool
        self.host = Host(uri)
        self.poll_interval = poll_interval
        parsed = urlparse(uri)
        is_test = parsed.scheme == "test"
        on_qemu_system = parsed.scheme.startswith("qemu") and parsed.path == "/system"
        self.serial_log_dir = serial_log_dir or (DEFAULT_SERIAL_LOG_DIR if on_qemu_system else None)
        self.capabilities = DriverCapabilities(supports_console=not is_test, supports_ip_binding=True)
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

    def _image(self, pool: Any, spec: InstanceSpec) -> Any:
        """The image volume for ``spec``; raises InvalidImage if it cannot back the disk."""
        vol = self._volume(pool, spec.image.volume)
        if vol is None:  # maybe copied into the pool directory by hand
            pool.refresh(0)
            vol = self._volume(pool, spec.image.volume)
        if vol is None:
            raise InvalidImage(detail=f"no volume {spec.image.volume!r} in pool {self.pool!r}")
        if vol.info()[1] > spec.disk_gib * GIB:
            raise InvalidImage(detail=f"{spec.image.volume!r} is larger than {spec.disk_gib} GiB")
        return vol

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

    def _domain_config(self, spec: InstanceSpec, disk_path: str) -> DomainConfig:
        log_file = self.serial_log_path(spec.uuid)
        return DomainConfig(
            virt_type=self.virt_type,
            uuid=spec.uuid,
            title=spec.name,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            disk=DiskConfig(disk_path),
            serial=SerialConfig(log_file),
            graphics=VncConfig(),
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
                vol = pool.createXML(VolumeConfig(volume_name, capacity_gib).to_xml(), 0)
            return vol.path()

    # --- contract ----------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        with self.host.errors(spec.uuid):
            conn = self.host.get_connection()
            if self._lookup(conn, spec.uuid) is not None:
                raise InstanceExists(detail=spec.uuid)
            pool = self._pool(conn)
            image = self._image(pool, spec)
            try:
                disk_path = self._create_overlay(pool, spec, image)
                guest = Guest(conn.defineXML(self._domain_config(spec, disk_path).to_xml()))
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
            guest.force_off()
            self._create_overlay(pool, spec, image)  # deletes the old overlay first
            guest.start()
            self._apply_credentials(guest, spec)

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
        with self.host.errors(uuid):
            return self._guest(self.host.get_connection(), uuid).info()

    def list_instances(self) -> list[str]:
        with self.host.errors():
            doms = self.host.get_connection().listAllDomains(0)
            return [d.UUIDString() for d in doms if d.name() == domain_name(d.UUIDString())]

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
        with self.host.errors():
            conn = self.host.get_connection()
            _model, memory_mib, cpus, *_ = conn.getInfo()
            v = conn.getVersion()
            return HostStats(
                hypervisor=conn.getType(),
                version=f"{v // 1_000_000}.{v // 1000 % 1000}.{v % 1000}",
                vcpus=cpus,
                memory_mib=memory_mib,
                free_memory_mib=conn.getFreeMemory() // MIB,
                instances=len(self.list_instances()),
            )

    def get_instance_stats(self, uuids: list[str]) -> list[InstanceStats]:
        with self.host.errors():
            conn = self.host.get_connection()
            guests = [g for u in uuids if (g := self._lookup(conn, u)) is not None]
            if not guests:
                return []
            wanted = (
                libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                | libvirt.VIR_DOMAIN_STATS_BALLOON
                | libvirt.VIR_DOMAIN_STATS_BLOCK
                | libvirt.VIR_DOMAIN_STATS_INTERFACE
            )
            records = conn.domainListGetStats([g.dom for g in guests], wanted, 0)
            return [self._stats(Guest(dom), rec) for dom, rec in records]

    @staticmethod
    def _stats(guest: Guest, rec: dict[str, Any]) -> InstanceStats:
        def total(group: str, key: str) -> int | None:
            if f"{group}.count" not in rec:  # not reported by this hypervisor
                return None
            return sum(rec.get(f"{group}.{i}.{key}", 0) for i in range(rec[f"{group}.count"]))

        info = guest.info()
        return InstanceStats(
            uuid=info.uuid,
            cpu_time_ns=rec.get("cpu.time", info.cpu_time_ns),
            memory_mib=rec["balloon.current"] // 1024 if "balloon.current" in rec else info.memory_mib,
            disk_read_bytes=total("block", "rd.bytes"),
            disk_write_bytes=total("block", "wr.bytes"),
            net_rx_bytes=total("net", "rx.bytes"),
            net_tx_bytes=total("net", "tx.bytes"),
        )

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
