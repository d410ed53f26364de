"""One contract suite, run against every compute driver.

Legs: the in-memory FakeDriver; libvirt's in-process ``test:///default``
(skipped only when the libvirt binding is missing); and, opt-in with
``WUJI_TEST_LIBVIRT_SYSTEM=1``, a real ``qemu:///system`` node with a ``default``
pool (run scripts/setup-libvirt.sh first; its contract guests have an empty disk,
so they sit in the firmware and ignore ACPI - power_off then forces them off).
On that node the proof at the end boots the tiny guest of
scripts/build-guest-image.sh and follows it through its serial console.

No Django database is needed: these are plain pytest tests.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid as uuid_lib
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from wuji.compute import tinyguest
from wuji.compute.drivers import (
    ComputeDriver,
    DriverError,
    GuestAgentUnavailable,
    ImageRef,
    InstanceExists,
    InstanceNotFound,
    InstanceSpec,
    InvalidImage,
    NodeUnreachable,
    NotSupported,
    PowerState,
    get_driver,
    reset_fake_drivers,
)
from wuji.compute.drivers.fake import FailingFakeDriver, FakeDriver
from wuji.compute.drivers.libvirt import (
    DiskConfig,
    DomainConfig,
    KernelBoot,
    SerialConfig,
    VncConfig,
    VolumeConfig,
)

try:
    import libvirt
except ImportError:
    libvirt = None

NEEDS_LIBVIRT = pytest.mark.skipif(
    libvirt is None,
    reason="libvirt-python is not installed (apt-get install libvirt-dev pkg-config; pip install libvirt-python)",
)
GIB = 1024**3
IMAGES = ("wuji-contract-a.qcow2", "wuji-contract-b.qcow2")


class Leg:
    """A driver under test plus the means to look at its disks and to clean up."""

    shutdown_timeout: float = 5

    def __init__(self, driver: ComputeDriver) -> None:
        self.driver = driver
        self.created: list[str] = []

    def spec(self, image: str | ImageRef = IMAGES[0], disk_gib: int = 2, uuid: str | None = None) -> InstanceSpec:
        return InstanceSpec(
            uuid=uuid or str(uuid_lib.uuid4()),
            name="contract test",
            vcpus=1,
            memory_mib=128,
            disk_gib=disk_gib,
            image=image if isinstance(image, ImageRef) else ImageRef(image),
            root_password="s3cret!",
            ssh_keys=("ssh-ed25519 AAAAC3Nza test",),
        )

    def spawn(self, **kwargs: object) -> InstanceSpec:
        spec = self.spec(**kwargs)  # type: ignore[arg-type]
        self.created.append(spec.uuid)
        self.driver.spawn(spec)
        return spec

    def disk(self, uuid: str) -> tuple[str, int] | None:
        """(image volume it is built from, capacity in GiB), or None when there is no disk."""
        raise NotImplementedError

    def cleanup(self) -> None:
        for uuid in self.created:
            self.driver.destroy(uuid)
        self.driver.close()


class FakeLeg(Leg):
    shutdown_timeout = 0

    def __init__(self) -> None:
        driver = get_driver("fake://contract")
        assert isinstance(driver, FakeDriver)
        for image in IMAGES:
            driver.add_image(image)
        super().__init__(driver)

    def disk(self, uuid: str) -> tuple[str, int] | None:
        disk = self.driver.disks.get(uuid)  # type: ignore[attr-defined]
        return (disk.image, disk.capacity_gib) if disk else None

    def cleanup(self) -> None:
        super().cleanup()
        reset_fake_drivers()


class LibvirtLeg(Leg):
    def __init__(self, uri: str, pool: str, shutdown_timeout: float, console_address: str = "127.0.0.1") -> None:
        from wuji.compute.drivers.libvirt import LibvirtDriver

        driver = LibvirtDriver(uri, virt_type="qemu", pool=pool, console_address=console_address, poll_interval=0.1)
        for image in IMAGES:
            driver.ensure_image_volume(image, 1)
        super().__init__(driver)
        self.shutdown_timeout = shutdown_timeout

    def pool(self):  # type: ignore[no-untyped-def]
        conn = self.driver.host.get_connection()  # type: ignore[attr-defined]
        return conn.storagePoolLookupByName(self.driver.pool)  # type: ignore[attr-defined]

    def disk(self, uuid: str) -> tuple[str, int] | None:
        pool = self.pool()
        pool.refresh(0)
        if f"{uuid}.qcow2" not in pool.listVolumes():
            return None
        vol = pool.storageVolLookupByName(f"{uuid}.qcow2")
        backing = ET.fromstring(vol.XMLDesc(0)).findtext("./backingStore/path") or ""
        return os.path.basename(backing), vol.info()[1] // GIB

    def domain(self, uuid: str):  # type: ignore[no-untyped-def]
        return self.driver.host.get_connection().lookupByUUIDString(uuid)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def test_node_keepalive() -> Iterator[None]:
    """test:///default forgets everything when its last connection closes: hold one open."""
    conn = libvirt.open("test:///default")
    yield
    conn.close()


OPT_IN_SYSTEM = pytest.mark.skipif(
    os.environ.get("WUJI_TEST_LIBVIRT_SYSTEM") != "1",
    reason="real QEMU leg is opt-in: WUJI_TEST_LIBVIRT_SYSTEM=1 after scripts/setup-libvirt.sh",
)
LEGS = [
    "fake",
    pytest.param("libvirt-test", marks=NEEDS_LIBVIRT),
    pytest.param("libvirt-system", marks=[NEEDS_LIBVIRT, OPT_IN_SYSTEM]),
]


@pytest.fixture(params=LEGS)
def leg(request: pytest.FixtureRequest) -> Iterator[Leg]:
    if request.param == "fake":
        made: Leg = FakeLeg()
    elif request.param == "libvirt-test":
        request.getfixturevalue("test_node_keepalive")
        made = LibvirtLeg("test:///default", "default-pool", shutdown_timeout=5)
    else:
        made = LibvirtLeg("qemu:///system", "default", shutdown_timeout=1)
    yield made
    made.cleanup()


@pytest.fixture
def libvirt_leg(test_node_keepalive: None) -> Iterator[LibvirtLeg]:
    made = LibvirtLeg("test:///default", "default-pool", shutdown_timeout=5)
    yield made
    made.cleanup()


def state(leg: Leg, uuid: str) -> str:
    return leg.driver.get_info(uuid).power_state


# --- the contract, every driver ---------------------------------------------------


def test_spawn_gives_a_running_instance(leg: Leg) -> None:
    spec = leg.spawn()
    info = leg.driver.get_info(spec.uuid)
    assert (info.uuid, info.power_state) == (spec.uuid, PowerState.RUNNING)
    assert (info.vcpus, info.memory_mib) == (1, 128)
    assert spec.uuid in leg.driver.list_instances()
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)


def test_spawn_twice_raises_instance_exists_and_keeps_the_first(leg: Leg) -> None:
    spec = leg.spawn()
    with pytest.raises(InstanceExists):
        leg.driver.spawn(leg.spec(image=IMAGES[1], disk_gib=3, uuid=spec.uuid))
    assert state(leg, spec.uuid) == PowerState.RUNNING
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)


def test_spawn_with_unknown_image_leaves_nothing_behind(leg: Leg) -> None:
    spec = leg.spec(image="no-such-image.qcow2")
    with pytest.raises(InvalidImage) as caught:
        leg.driver.spawn(spec)
    assert "no-such-image" not in str(caught.value)  # customer text hides node details
    assert "no-such-image" in (caught.value.detail or "")
    assert spec.uuid not in leg.driver.list_instances()
    assert leg.disk(spec.uuid) is None
    with pytest.raises(InstanceNotFound):
        leg.driver.get_info(spec.uuid)


def test_spawn_with_unknown_kernel_leaves_nothing_behind(leg: Leg) -> None:
    spec = leg.spec(image=ImageRef(IMAGES[0], kernel="no-such-kernel", cmdline="console=ttyS0"))
    with pytest.raises(InvalidImage) as caught:
        leg.driver.spawn(spec)
    assert "no-such-kernel" in (caught.value.detail or "")
    assert spec.uuid not in leg.driver.list_instances()
    assert leg.disk(spec.uuid) is None


def test_power_off_and_on_are_idempotent(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.power_off(spec.uuid, timeout=leg.shutdown_timeout)
    assert state(leg, spec.uuid) == PowerState.SHUTDOWN
    leg.driver.power_off(spec.uuid, timeout=leg.shutdown_timeout)
    assert state(leg, spec.uuid) == PowerState.SHUTDOWN
    leg.driver.power_on(spec.uuid)
    assert state(leg, spec.uuid) == PowerState.RUNNING
    leg.driver.power_on(spec.uuid)
    assert state(leg, spec.uuid) == PowerState.RUNNING
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)


def test_power_off_without_grace_forces_off(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.power_off(spec.uuid, timeout=0)
    assert state(leg, spec.uuid) == PowerState.SHUTDOWN


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
def test_reboot_leaves_it_running(leg: Leg, hard: bool) -> None:
    spec = leg.spawn()
    leg.driver.reboot(spec.uuid, hard=hard)
    assert state(leg, spec.uuid) == PowerState.RUNNING
    leg.driver.power_off(spec.uuid, timeout=0)
    leg.driver.reboot(spec.uuid, hard=hard)  # a stopped instance is simply started
    assert state(leg, spec.uuid) == PowerState.RUNNING
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)


@pytest.mark.parametrize("stopped_first", [False, True], ids=["running", "stopped"])
def test_rebuild_keeps_the_uuid_and_replaces_the_disk(leg: Leg, stopped_first: bool) -> None:
    spec = leg.spawn()
    if stopped_first:
        leg.driver.power_off(spec.uuid, timeout=0)
    leg.driver.rebuild(leg.spec(image=IMAGES[1], disk_gib=3, uuid=spec.uuid))
    assert state(leg, spec.uuid) == PowerState.RUNNING
    assert leg.driver.list_instances().count(spec.uuid) == 1
    # Only a newly created overlay can have another backing image and size.
    assert leg.disk(spec.uuid) == (IMAGES[1], 3)


def test_rebuild_with_unknown_image_touches_nothing(leg: Leg) -> None:
    spec = leg.spawn()
    with pytest.raises(InvalidImage):
        leg.driver.rebuild(leg.spec(image="no-such-image.qcow2", uuid=spec.uuid))
    assert state(leg, spec.uuid) == PowerState.RUNNING
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)


def test_resize_changes_a_stopped_instance_up_and_down(leg: Leg) -> None:
    spec = leg.spawn()
    with pytest.raises(DriverError):
        leg.driver.resize(spec.uuid, 2, 256)  # running: refused, nothing touched
    assert (leg.driver.get_info(spec.uuid).vcpus, leg.driver.get_info(spec.uuid).memory_mib) == (1, 128)
    leg.driver.power_off(spec.uuid, timeout=0)
    leg.driver.resize(spec.uuid, 2, 256)
    info = leg.driver.get_info(spec.uuid)
    assert (info.vcpus, info.memory_mib, info.power_state) == (2, 256, PowerState.SHUTDOWN)
    leg.driver.resize(spec.uuid, 2, 256)  # idempotent
    leg.driver.resize(spec.uuid, 1, 192)  # and down again
    leg.driver.power_on(spec.uuid)
    info = leg.driver.get_info(spec.uuid)
    assert (info.vcpus, info.memory_mib, info.power_state) == (1, 192, PowerState.RUNNING)


def test_resize_never_shrinks_a_disk(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.power_off(spec.uuid, timeout=0)
    with pytest.raises(DriverError):
        leg.driver.resize(spec.uuid, 2, 256, disk_gib=1)
    assert leg.disk(spec.uuid) == (IMAGES[0], 2)
    assert leg.driver.get_info(spec.uuid).vcpus == 1


def test_resize_of_unknown_uuid_raises_instance_not_found(leg: Leg) -> None:
    with pytest.raises(InstanceNotFound):
        leg.driver.resize(str(uuid_lib.uuid4()), 1, 128)


def test_fake_resize_grows_the_disk() -> None:
    leg = FakeLeg()
    try:
        spec = leg.spawn()
        leg.driver.power_off(spec.uuid, timeout=0)
        leg.driver.resize(spec.uuid, 2, 256, disk_gib=4)
        assert leg.disk(spec.uuid) == (IMAGES[0], 4)
    finally:
        leg.cleanup()


@NEEDS_LIBVIRT
def test_libvirt_test_node_cannot_grow_disks_and_changes_nothing(libvirt_leg: LibvirtLeg) -> None:
    spec = libvirt_leg.spawn()
    libvirt_leg.driver.power_off(spec.uuid, timeout=0)
    with pytest.raises(NotSupported):  # test:///default has no virStorageVolResize
        libvirt_leg.driver.resize(spec.uuid, 2, 256, disk_gib=4)
    assert libvirt_leg.driver.get_info(spec.uuid).vcpus == 1
    assert libvirt_leg.disk(spec.uuid) == (IMAGES[0], 2)
    assert ET.fromstring(libvirt_leg.domain(spec.uuid).XMLDesc(0)).findtext("vcpu") == "1"
    libvirt_leg.driver.resize(spec.uuid, 2, 256)  # without the disk: applied to the persistent definition
    after = ET.fromstring(libvirt_leg.domain(spec.uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert (after.findtext("vcpu"), after.findtext("memory")) == ("2", str(256 * 1024))


def test_destroy_removes_everything_and_may_be_repeated(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.destroy(spec.uuid)
    leg.driver.destroy(spec.uuid)
    assert spec.uuid not in leg.driver.list_instances()
    assert leg.disk(spec.uuid) is None
    with pytest.raises(InstanceNotFound):
        leg.driver.get_info(spec.uuid)


def test_destroy_of_a_never_created_uuid_succeeds(leg: Leg) -> None:
    leg.driver.destroy(str(uuid_lib.uuid4()))


@pytest.mark.parametrize(
    "call",
    [
        lambda d, u: d.get_info(u),
        lambda d, u: d.power_on(u),
        lambda d, u: d.power_off(u, timeout=0),
        lambda d, u: d.reboot(u, hard=True),
        lambda d, u: d.set_password(u, "root", "n3w-Secret!"),
    ],
    ids=["get_info", "power_on", "power_off", "reboot", "set_password"],
)
def test_unknown_uuid_raises_instance_not_found(leg: Leg, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InstanceNotFound):
        call(leg.driver, str(uuid_lib.uuid4()))


def test_rebuild_of_unknown_uuid_raises_instance_not_found(leg: Leg) -> None:
    with pytest.raises(InstanceNotFound):
        leg.driver.rebuild(leg.spec())


def test_list_instances_includes_stopped_ones(leg: Leg) -> None:
    a, b = leg.spawn(), leg.spawn()
    leg.driver.power_off(b.uuid, timeout=0)
    assert {a.uuid, b.uuid} <= set(leg.driver.list_instances())


def test_host_stats(leg: Leg) -> None:
    leg.spawn()
    leg.spawn()
    stats = leg.driver.get_host_stats()
    assert stats.hypervisor and isinstance(stats.version, str)
    assert stats.vcpus > 0 and stats.memory_mib > 0
    assert 0 <= stats.free_memory_mib <= stats.memory_mib
    assert stats.instances >= 2


def test_instance_stats_cover_known_uuids_only(leg: Leg) -> None:
    a, b = leg.spawn(), leg.spawn()
    leg.driver.power_off(b.uuid, timeout=0)
    stats = leg.driver.get_instance_stats([a.uuid, b.uuid, str(uuid_lib.uuid4())])
    assert sorted(s.uuid for s in stats) == sorted([a.uuid, b.uuid])
    for s in stats:
        assert s.cpu_time_ns >= 0 and s.memory_mib == 128
        for counter in (s.disk_read_bytes, s.disk_write_bytes, s.net_rx_bytes, s.net_tx_bytes, s.net_rx_packets,
                        s.net_tx_packets):
            assert counter is None or counter >= 0
    assert leg.driver.get_instance_stats([]) == []


def test_console_follows_the_capability_flag(leg: Leg) -> None:
    spec = leg.spawn()
    if not leg.driver.capabilities.supports_console:
        with pytest.raises(NotSupported):
            leg.driver.get_console(spec.uuid)
        return
    console = leg.driver.get_console(spec.uuid)
    assert (console.kind, console.host) == ("vnc", "127.0.0.1") and console.port > 0
    leg.driver.power_off(spec.uuid, timeout=0)
    with pytest.raises(DriverError):
        leg.driver.get_console(spec.uuid)


def test_disk_copy_follows_the_capability_flag_and_needs_a_stopped_instance(leg: Leg) -> None:
    """Issue 5, migration: the copy itself is proven in test_migration.py (fake nodes, and two pools on
    qemu:///system); every driver refuses what it cannot do before touching anything."""
    spec = leg.spawn()
    if not leg.driver.capabilities.supports_migration:
        with pytest.raises(NotSupported):
            leg.driver.copy_disk_to(leg.driver, spec.uuid)
        with pytest.raises(NotSupported):
            leg.driver.adopt_disk(spec, start=False)
    else:
        with pytest.raises(DriverError, match="Stop the server"):
            leg.driver.copy_disk_to(leg.driver, spec.uuid)
    assert leg.driver.get_info(spec.uuid).power_state == PowerState.RUNNING


def test_capabilities_are_frozen(leg: Leg) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        leg.driver.capabilities.supports_migration = True  # type: ignore[misc]


def test_set_password_through_the_agent_or_an_honest_error(leg: Leg) -> None:
    """The qemu:///system leg's guests sit in the firmware: no guest agent answers there."""
    spec = leg.spawn()
    if leg.driver.uri.startswith("qemu"):  # type: ignore[attr-defined]
        with pytest.raises(GuestAgentUnavailable) as caught:
            leg.driver.set_password(spec.uuid, "root", "n3w-Secret!")
        assert "n3w-Secret!" not in repr(caught.value)
    else:
        leg.driver.set_password(spec.uuid, "root", "n3w-Secret!")
        leg.driver.set_password(spec.uuid, "root", "n3w-Secret!")  # idempotent
    assert state(leg, spec.uuid) == PowerState.RUNNING


def test_set_password_needs_a_running_instance_and_changes_nothing(leg: Leg) -> None:
    spec = leg.spawn()
    leg.driver.power_off(spec.uuid, timeout=0)
    with pytest.raises(DriverError) as caught:
        leg.driver.set_password(spec.uuid, "root", "n3w-Secret!")
    assert "not running" in str(caught.value)
    assert state(leg, spec.uuid) == PowerState.SHUTDOWN


# --- values and the factory ---------------------------------------------------------


def test_image_ref_refuses_paths_and_boot_options_without_a_kernel() -> None:
    with pytest.raises(ValueError):
        ImageRef("a", kernel="../vmlinux")
    with pytest.raises(ValueError):
        ImageRef("a", initrd="initrd.img")
    with pytest.raises(ValueError):
        ImageRef("a", cmdline="console=ttyS0")
    assert ImageRef("a", kernel="k", initrd="i").volumes == ("a", "k", "i")
    assert ImageRef("a").volumes == ("a",)


def test_spec_refuses_non_canonical_uuid_and_odd_sizes() -> None:
    with pytest.raises(ValueError):
        InstanceSpec("../../etc", "x", 1, 128, 2, ImageRef("a"))
    with pytest.raises(ValueError):
        InstanceSpec(str(uuid_lib.uuid4()).upper(), "x", 1, 128, 2, ImageRef("a"))
    with pytest.raises(ValueError):
        InstanceSpec(str(uuid_lib.uuid4()), "x", 0, 128, 2, ImageRef("a"))
    with pytest.raises(ValueError):
        ImageRef("../escape")


def test_get_driver_shares_one_fake_world_per_uri() -> None:
    try:
        first = get_driver("fake://shared")
        assert get_driver("fake://shared") is first
        assert isinstance(first, FakeDriver)
        first.add_image("img")
        spec = InstanceSpec(str(uuid_lib.uuid4()), "x", 1, 128, 2, ImageRef("img"))
        first.spawn(spec)
        assert get_driver("fake://shared", pool="other").list_instances() == [spec.uuid]
        assert get_driver("fake://elsewhere").list_instances() == []
        reset_fake_drivers()
        fresh = get_driver("fake://shared")
        assert fresh is not first and fresh.list_instances() == []
    finally:
        reset_fake_drivers()


# --- fake only: failure injection ------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeDriver]:
    driver = FakeDriver("fake://injection")
    driver.add_image(IMAGES[0])
    yield driver
    reset_fake_drivers()


@pytest.mark.parametrize("point", ["spawn", "spawn.define", "spawn.start"])
def test_fake_spawn_failure_leaves_nothing_behind(fake: FakeDriver, point: str) -> None:
    spec = InstanceSpec(str(uuid_lib.uuid4()), "x", 1, 128, 2, ImageRef(IMAGES[0]))
    fake.fail_next(point, DriverError(detail="boom"))
    with pytest.raises(DriverError):
        fake.spawn(spec)
    assert fake.list_instances() == [] and fake.disks == {}
    fake.spawn(spec)  # the failure fired once; a retry succeeds
    assert fake.get_info(spec.uuid).power_state == PowerState.RUNNING


def test_fake_rebuild_failure_after_disk_deletion_is_finished_by_a_retry(fake: FakeDriver) -> None:
    spec = InstanceSpec(str(uuid_lib.uuid4()), "x", 1, 128, 2, ImageRef(IMAGES[0]))
    fake.spawn(spec)
    old_serial = fake.disks[spec.uuid].serial
    fake.fail_next("rebuild.create_disk")
    with pytest.raises(DriverError):
        fake.rebuild(spec)
    assert fake.get_info(spec.uuid).power_state == PowerState.SHUTDOWN
    assert spec.uuid not in fake.disks
    fake.rebuild(spec)
    assert fake.disks[spec.uuid].serial != old_serial
    assert fake.get_info(spec.uuid).power_state == PowerState.RUNNING


def test_fake_injected_error_on_power_off_changes_nothing(fake: FakeDriver) -> None:
    spec = InstanceSpec(str(uuid_lib.uuid4()), "x", 1, 128, 2, ImageRef(IMAGES[0]))
    fake.spawn(spec)
    fake.fail_next("power_off", NodeUnreachable())
    with pytest.raises(NodeUnreachable):
        fake.power_off(spec.uuid)
    assert fake.get_info(spec.uuid).power_state == PowerState.RUNNING


def test_fake_unreachable_node(fake: FakeDriver) -> None:
    fake.set_reachable(False)
    with pytest.raises(NodeUnreachable):
        fake.list_instances()
    fake.set_reachable(True)
    assert fake.list_instances() == []
    with pytest.raises(NodeUnreachable):
        FailingFakeDriver().get_host_stats()


# --- libvirt only ---------------------------------------------------------------------


def test_xml_builders_render_the_safety_rules() -> None:
    dom = ET.fromstring(
        DomainConfig(
            "qemu",
            str(uuid_lib.uuid4()),
            "<web & db>",
            2,
            512,
            DiskConfig("/pool/x.qcow2"),
            SerialConfig("/log/x.log"),
            VncConfig(),
        ).to_xml()
    )
    assert dom.get("type") == "qemu" and dom.findtext("title") == "<web & db>"
    assert dom.find("./devices/interface") is None  # never a NIC
    gfx = dom.find("./devices/graphics")
    assert gfx is not None and (gfx.get("listen"), gfx.get("autoport")) == ("127.0.0.1", "yes")
    assert dom.find("./devices/serial/log").get("file") == "/log/x.log"  # type: ignore[union-attr]
    vol = ET.fromstring(VolumeConfig("x.qcow2", 3, backing_path="/pool/img", backing_format="raw").to_xml())
    assert vol.findtext("./backingStore/path") == "/pool/img"
    assert vol.find("./backingStore/format").get("type") == "raw"  # type: ignore[union-attr]


def test_xml_builder_listens_on_the_given_console_address() -> None:
    gfx = VncConfig("10.20.0.5").element()
    assert (gfx.get("listen"), gfx.find("listen").get("address")) == ("10.20.0.5", "10.20.0.5")  # type: ignore[union-attr]


def test_xml_builder_renders_a_direct_kernel_boot() -> None:
    config = DomainConfig(
        "qemu", str(uuid_lib.uuid4()), "k", 1, 128, DiskConfig("/pool/x.qcow2"), SerialConfig(), VncConfig(),
        kernel=KernelBoot("/pool/vmlinux", "/pool/initrd.img", "console=ttyS0 quiet"),
    )
    os_el = ET.fromstring(config.to_xml()).find("os")
    assert os_el is not None
    assert [el.tag for el in os_el] == ["type", "kernel", "initrd", "cmdline", "boot"]
    assert os_el.findtext("cmdline") == "console=ttyS0 quiet"
    KernelBoot.rewrite(os_el, KernelBoot("/pool/other"))
    assert [(el.tag, el.text) for el in os_el][1:3] == [("kernel", "/pool/other"), ("cmdline", "console=ttyS0")]
    KernelBoot.rewrite(os_el, None)
    assert [el.tag for el in os_el] == ["type", "boot"]


@NEEDS_LIBVIRT
def test_libvirt_direct_kernel_boot_follows_the_image(libvirt_leg: LibvirtLeg) -> None:
    driver = libvirt_leg.driver
    kernel = driver.ensure_image_volume("wuji-contract-vmlinux", 1)  # type: ignore[attr-defined]
    initrd = driver.ensure_image_volume("wuji-contract-initrd", 1)  # type: ignore[attr-defined]

    def boot(uuid: str) -> dict[str, str | None]:
        os_el = ET.fromstring(libvirt_leg.domain(uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).find("os")
        return {tag: os_el.findtext(tag) for tag in ("kernel", "initrd", "cmdline")}  # type: ignore[union-attr]

    direct = ImageRef(IMAGES[0], kernel="wuji-contract-vmlinux", initrd="wuji-contract-initrd",
                      cmdline="console=ttyS0 quiet")
    spec = libvirt_leg.spawn(image=direct)
    assert boot(spec.uuid) == {"kernel": kernel, "initrd": initrd, "cmdline": "console=ttyS0 quiet"}
    # A reinstall boots the new image's way: another kernel line, then the disk through the firmware.
    driver.rebuild(libvirt_leg.spec(image=ImageRef(IMAGES[1], kernel="wuji-contract-vmlinux"), uuid=spec.uuid))
    assert boot(spec.uuid) == {"kernel": kernel, "initrd": None, "cmdline": "console=ttyS0"}
    driver.rebuild(libvirt_leg.spec(image=IMAGES[0], uuid=spec.uuid))
    assert boot(spec.uuid) == {"kernel": None, "initrd": None, "cmdline": None}
    with pytest.raises(InvalidImage):  # checked before anything is touched
        driver.rebuild(libvirt_leg.spec(image=ImageRef(IMAGES[1], kernel="no-such-kernel"), uuid=spec.uuid))
    assert state(libvirt_leg, spec.uuid) == PowerState.RUNNING
    assert libvirt_leg.disk(spec.uuid) == (IMAGES[0], 2)


@NEEDS_LIBVIRT
def test_libvirt_domain_is_built_as_promised(libvirt_leg: LibvirtLeg) -> None:
    spec = libvirt_leg.spawn()
    dom = ET.fromstring(libvirt_leg.domain(spec.uuid).XMLDesc(0))
    assert dom.get("type") == "qemu"
    assert dom.findtext("name") == f"wuji-{spec.uuid}"
    assert dom.findtext("title") == spec.name
    assert dom.find("./devices/interface") is None
    assert dom.find("./devices/disk/source").get("file").endswith(f"/{spec.uuid}.qcow2")  # type: ignore[union-attr]
    assert dom.find("./devices/graphics[@type='vnc']").get("listen") == "127.0.0.1"  # type: ignore[union-attr]
    assert dom.find("./devices/serial/log") is None  # serial logs only on a real qemu node


@NEEDS_LIBVIRT
def test_libvirt_domains_listen_on_the_nodes_console_address(test_node_keepalive: None) -> None:
    leg = LibvirtLeg("test:///default", "default-pool", shutdown_timeout=5, console_address="fd00:10::5")
    try:
        spec = leg.spawn()
        gfx = ET.fromstring(leg.domain(spec.uuid).XMLDesc(0)).find("./devices/graphics[@type='vnc']")
        assert gfx is not None and gfx.get("listen") == "fd00:10::5"
    finally:
        leg.cleanup()
    with pytest.raises(ValueError):  # a host name would make libvirt resolve it on the node: addresses only
        LibvirtLeg("test:///default", "default-pool", shutdown_timeout=5, console_address="node1.internal")


@NEEDS_LIBVIRT
def test_libvirt_spawn_failure_midway_cleans_up(libvirt_leg: LibvirtLeg) -> None:
    # A foreign domain squatting on our domain name makes defineXML fail after the
    # overlay was created: spawn must remove the overlay and leave the squatter alone.
    spec = libvirt_leg.spec()
    conn = libvirt_leg.driver.host.get_connection()  # type: ignore[attr-defined]
    squatter = conn.defineXML(
        f"<domain type='test'><name>wuji-{spec.uuid}</name><memory>131072</memory><os><type>hvm</type></os></domain>"
    )
    try:
        with pytest.raises(DriverError):
            libvirt_leg.driver.spawn(spec)
        assert libvirt_leg.disk(spec.uuid) is None
        assert spec.uuid not in libvirt_leg.driver.list_instances()
        assert conn.lookupByName(f"wuji-{spec.uuid}").UUIDString() == squatter.UUIDString()
        libvirt_leg.driver.destroy(squatter.UUIDString())  # not ours by name: left alone
        assert conn.lookupByName(f"wuji-{spec.uuid}").UUIDString() == squatter.UUIDString()
    finally:
        squatter.undefine()


@NEEDS_LIBVIRT
def test_libvirt_reconnects_after_the_connection_drops(libvirt_leg: LibvirtLeg) -> None:
    spec = libvirt_leg.spawn()
    host = libvirt_leg.driver.host  # type: ignore[attr-defined]
    dropped = host.get_connection()
    dropped.close()
    assert libvirt_leg.driver.get_info(spec.uuid).power_state == PowerState.RUNNING
    assert host.get_connection() is not dropped


@NEEDS_LIBVIRT
def test_libvirt_unreachable_node_raises_node_unreachable() -> None:
    from wuji.compute.drivers.libvirt import LibvirtDriver

    driver = LibvirtDriver("test:///nonexistent/node.xml")
    with pytest.raises(NodeUnreachable):
        driver.get_host_stats()


@NEEDS_LIBVIRT
def test_get_driver_caches_libvirt_drivers_per_node(test_node_keepalive: None) -> None:
    driver = get_driver("test:///default", pool="default-pool")
    assert get_driver("test:///default", pool="default-pool") is driver
    assert get_driver("test:///default", pool="other-pool") is not driver
    other = get_driver("test:///default", pool="default-pool", console_address="10.0.0.5")
    assert other is not driver and other.console_address == "10.0.0.5"  # type: ignore[attr-defined]
    assert driver.get_host_stats().hypervisor == "TEST"


# --- the proof: the tiny guest on real QEMU ------------------------------------------------------


BOOT_TIMEOUT = 240  # seconds; a boot takes 5-6 s on a quiet machine, much longer when the cores are shared


def tiny_image(volume: str) -> ImageRef:
    return ImageRef(volume, kernel=tinyguest.KERNEL_VOLUME, initrd=tinyguest.INITRD_VOLUME, cmdline=tinyguest.CMDLINE)


def wait_for_console(leg: Leg, uuid: str, done) -> list[str]:  # type: ignore[no-untyped-def]
    """The guest's serial console, read where the driver says it is logged, once ``done(lines)``."""
    return tinyguest.wait_for_console(leg.driver.serial_log_path(uuid), done, BOOT_TIMEOUT)  # type: ignore[attr-defined]


@pytest.fixture
def system_leg() -> Iterator[LibvirtLeg]:
    made = LibvirtLeg("qemu:///system", "default", shutdown_timeout=1)
    pool = made.pool()
    pool.refresh(0)
    needed = {tinyguest.KERNEL_VOLUME, tinyguest.INITRD_VOLUME, *tinyguest.DISK_VOLUMES}
    missing = sorted(needed - set(pool.listVolumes()))
    if missing:
        made.cleanup()
        pytest.fail(f"the tiny guest is not in the pool ({', '.join(missing)}): run scripts/build-guest-image.sh")
    yield made
    made.cleanup()


@NEEDS_LIBVIRT
@OPT_IN_SYSTEM
def test_real_guest_boots_keeps_its_disk_on_reboot_is_reinstalled_stops_by_acpi_and_is_destroyed(
    system_leg: LibvirtLeg,
) -> None:
    leg, (a, b) = system_leg, tinyguest.DISK_VOLUMES
    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(step: str) -> None:
        nonlocal started
        timings[step] = time.monotonic() - started
        started = time.monotonic()

    spec = leg.spawn(image=tiny_image(a))
    lines = wait_for_console(leg, spec.uuid, lambda ls: tinyguest.READY in ls)
    lap("create to ready")
    assert tinyguest.last_boot(lines)[:2] == [tinyguest.disk_line(a), tinyguest.boot_line(1)]

    # Soft reboot: ACPI power button, the guest powers off, libvirt starts it again on the same disk.
    leg.driver.reboot(spec.uuid, hard=False)
    lines = wait_for_console(leg, spec.uuid, lambda ls: ls.count(tinyguest.READY) == 2)
    lap("soft reboot to ready")
    assert lines.count(tinyguest.BOOTED) == 2 and tinyguest.POWER_BUTTON in lines
    assert tinyguest.last_boot(lines)[:2] == [tinyguest.disk_line(a), tinyguest.boot_line(2)]

    # Reinstall from image B: a new disk (boot counter back to 1), in a new QEMU process (a fresh log).
    leg.driver.rebuild(leg.spec(image=tiny_image(b), uuid=spec.uuid))
    lines = wait_for_console(leg, spec.uuid, lambda ls: tinyguest.READY in ls)
    lap("reinstall to ready")
    assert tinyguest.last_boot(lines)[:2] == [tinyguest.disk_line(b), tinyguest.boot_line(1)]
    assert leg.disk(spec.uuid) == (b, 2)

    # Stop: the guest handles the ACPI power button and powers off by itself, long before the timeout.
    leg.driver.power_off(spec.uuid, timeout=BOOT_TIMEOUT)
    lap("ACPI stop")
    assert state(leg, spec.uuid) == PowerState.SHUTDOWN
    assert leg.domain(spec.uuid).state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert tinyguest.POWER_BUTTON in tinyguest.console_lines(leg.driver.serial_log_path(spec.uuid))  # type: ignore[attr-defined]

    leg.driver.destroy(spec.uuid)
    lap("destroy")
    assert spec.uuid not in leg.driver.list_instances() and leg.disk(spec.uuid) is None
    print("tiny guest timings: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
# --- public IP binding (issue 5, network): verified through the configuration, never by traffic -------------


def test_public_ip_binding_follows_the_capability(leg: Leg) -> None:
    spec = leg.spawn()
    if not leg.driver.capabilities.supports_ip_binding:
        with pytest.raises(NotSupported):
            leg.driver.bind_public_ip(spec.uuid, "203.0.113.7")
        return
    assert leg.driver.get_public_ip(spec.uuid) is None
    leg.driver.bind_public_ip(spec.uuid, "203.0.113.7")
    leg.driver.bind_public_ip(spec.uuid, "203.0.113.7")  # idempotent
    assert leg.driver.get_public_ip(spec.uuid) == "203.0.113.7"
    leg.driver.bind_public_ip(spec.uuid, "203.0.113.9")  # replaces the other
    assert leg.driver.get_public_ip(spec.uuid) == "203.0.113.9"
    leg.driver.unbind_public_ip(spec.uuid)
    leg.driver.unbind_public_ip(spec.uuid)  # no-op when it has none
    assert leg.driver.get_public_ip(spec.uuid) is None
    leg.driver.power_off(spec.uuid, timeout=0)
    leg.driver.bind_public_ip(spec.uuid, "203.0.113.7")  # a stopped instance keeps it for its next boot
    leg.driver.power_on(spec.uuid)
    assert leg.driver.get_public_ip(spec.uuid) == "203.0.113.7"
    assert state(leg, spec.uuid) == PowerState.RUNNING


def test_public_ip_of_unknown_uuid_raises_instance_not_found(leg: Leg) -> None:
    for call in (lambda u: leg.driver.bind_public_ip(u, "203.0.113.7"), leg.driver.unbind_public_ip,
                 leg.driver.get_public_ip):
        with pytest.raises(InstanceNotFound):
            call(str(uuid_lib.uuid4()))


def test_fake_failed_binding_keeps_what_the_instance_had(fake: FakeDriver) -> None:
    spec = InstanceSpec(str(uuid_lib.uuid4()), "x", 1, 128, 2, ImageRef(IMAGES[0]))
    fake.spawn(spec)
    fake.bind_public_ip(spec.uuid, "203.0.113.7")
    fake.fail_next("bind_public_ip", NodeUnreachable())
    with pytest.raises(NodeUnreachable):
        fake.bind_public_ip(spec.uuid, "203.0.113.9")
    assert fake.get_public_ip(spec.uuid) == "203.0.113.7"


@NEEDS_LIBVIRT
def test_libvirt_test_node_records_the_binding_in_the_domain_metadata(libvirt_leg: LibvirtLeg) -> None:
    from wuji.compute.drivers.libvirt import METADATA_NS

    spec = libvirt_leg.spawn()
    libvirt_leg.driver.bind_public_ip(spec.uuid, "203.0.113.7")
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):  # the running guest and its persistent definition
        dom = ET.fromstring(libvirt_leg.domain(spec.uuid).XMLDesc(flags))
        assert dom.findtext(f"./metadata/{{{METADATA_NS}}}network/{{{METADATA_NS}}}public-ip") == "203.0.113.7"
        assert dom.find("./devices/interface") is None  # test:///default cannot attach devices
    libvirt_leg.driver.unbind_public_ip(spec.uuid)
    dom = ET.fromstring(libvirt_leg.domain(spec.uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert dom.find(f"./metadata/{{{METADATA_NS}}}network") is None


@NEEDS_LIBVIRT
@pytest.mark.skipif(os.environ.get("WUJI_TEST_LIBVIRT_SYSTEM") != "1",
                    reason="real QEMU leg is opt-in: WUJI_TEST_LIBVIRT_SYSTEM=1 after scripts/setup-libvirt.sh")
def test_libvirt_system_node_binds_an_isolated_filtered_interface() -> None:
    """Only the domain and network XML are read: nothing is sent to the address."""
    from wuji.compute.drivers.libvirt import PUBLIC_NETWORK

    leg = LibvirtLeg("qemu:///system", "default", shutdown_timeout=1)
    try:
        spec = leg.spawn()
        leg.driver.bind_public_ip(spec.uuid, "203.0.113.7")
        conn = leg.driver.host.get_connection()  # type: ignore[attr-defined]
        network = ET.fromstring(conn.networkLookupByName(PUBLIC_NETWORK).XMLDesc(0))
        assert network.find("forward") is None and network.find("ip") is None  # isolated, no DHCP

        def interfaces(flags: int) -> list[ET.Element]:
            dom = ET.fromstring(leg.domain(spec.uuid).XMLDesc(flags))
            return [i for i in dom.findall("./devices/interface") if i.find("source").get("network") == PUBLIC_NETWORK]

        for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
            (iface,) = interfaces(flags)
            assert iface.find("filterref").get("filter") == "clean-traffic"
            assert iface.find("filterref/parameter[@name='IP']").get("value") == "203.0.113.7"
        leg.driver.bind_public_ip(spec.uuid, "203.0.113.9")
        assert [i.find("filterref/parameter").get("value") for i in interfaces(0)] == ["203.0.113.9"]
        leg.driver.unbind_public_ip(spec.uuid)
        assert interfaces(libvirt.VIR_DOMAIN_XML_INACTIVE) == []
        (live,) = interfaces(0)
        assert live.find("link").get("state") == "down"
        assert leg.driver.get_public_ip(spec.uuid) is None
    finally:
        leg.cleanup()
