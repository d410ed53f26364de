"""Images that boot a kernel directly (decision 0021): registration, the wiring into the driver, the
demo's real QEMU node, and (opt-in, WUJI_TEST_LIBVIRT_SYSTEM=1) a paid server booting the tiny guest."""

import io
import os

import pytest
from django.core.management import CommandError, call_command

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.catalog.models import Image
from wuji.compute import tinyguest
from wuji.compute.choices import VmState
from wuji.compute.drivers import InvalidImage, get_driver
from wuji.compute.hypervisors import prepare_demo_hypervisors
from wuji.compute.models import Node
from wuji.compute.tasks import customer_error, driver_for
from wuji.core import demo, testing

TINY = {"volume": "tiny-a.qcow2", "kernel": "tiny-vmlinux", "initrd": "tiny-initrd.img", "cmdline": "console=ttyS0"}


def register(code: str, **options) -> None:
    call_command("image", "register", code, stdout=io.StringIO(), **options)


def boot_fields(code: str) -> tuple[str, str, str, str]:
    image = Image.objects.get(code=code)
    return image.volume, image.kernel_volume, image.initrd_volume, image.kernel_cmdline


def order(customer, catalogue, image, region=None):
    placed, _ = billing.place_order(customer=customer, region=region or catalogue["region"], plan=catalogue["plan"],
                                    image=image, cycle="monthly", name="tiny", idempotency_key=f"tiny-{image.code}",
                                    channel="web", ip="127.0.0.1")
    testing.run_tasks()
    placed.server.refresh_from_db()
    return placed.server


def test_register_creates_then_updates_an_image_and_can_make_it_boot_its_disk_again(db):
    register("tiny", **TINY)
    image = Image.objects.get(code="tiny")
    assert (image.name_zh, image.name_en, image.is_active) == ("tiny", "tiny", True)
    assert boot_fields("tiny") == tuple(TINY.values())
    register("tiny", volume="tiny-b.qcow2", kernel="tiny-vmlinux", name_en="Tiny")
    assert boot_fields("tiny") == ("tiny-b.qcow2", "tiny-vmlinux", "", "")
    assert Image.objects.get(code="tiny").name_en == "Tiny"
    register("tiny", volume="tiny-b.qcow2")  # no kernel: boots its disk through the firmware
    assert boot_fields("tiny") == ("tiny-b.qcow2", "", "", "")
    assert Image.objects.filter(code="tiny").count() == 1


@pytest.mark.parametrize("options", [{"initrd": "tiny-initrd.img"}, {"cmdline": "console=ttyS0"}])
def test_register_refuses_boot_options_without_a_kernel_and_changes_nothing(db, options):
    register("tiny", **TINY)
    with pytest.raises(CommandError, match="内核卷"):
        register("tiny", volume="other.qcow2", **options)
    assert boot_fields("tiny") == tuple(TINY.values())


def test_a_server_of_a_kernel_image_needs_the_kernel_on_its_node(customer, catalogue):
    register("tiny", **TINY)
    tiny = Image.objects.get(code="tiny")
    node_driver = get_driver(testing.FAKE_NODE_URI)
    node_driver.add_image(TINY["volume"])  # the disk's base only: the kernel is missing on the node
    failed = order(customer, catalogue, tiny)
    assert failed.vm_state == VmState.RELEASED  # the spawn failed, the order was refunded
    assert Instruction.objects.filter(owner=customer, result="failed", detail=customer_error(InvalidImage())).exists()
    assert str(failed.uuid) not in node_driver.list_instances()
    node_driver.add_image(TINY["kernel"])
    node_driver.add_image(TINY["initrd"])
    server = order(testing.make_customer("carol@example.com", balance_fen=100_00), catalogue, tiny)
    assert server.vm_state == VmState.ACTIVE
    assert node_driver.disks[str(server.uuid)].image == TINY["volume"]


def test_demo_qemu_node_serves_the_tiny_guest_and_a_plain_demo_restores_the_catalogue(catalogue):
    node = demo.add_qemu_node()
    assert (node.region.code, node.uri, node.virt_type) == ("hk", "qemu:///system", "qemu")
    assert boot_fields(tinyguest.DEMO_IMAGE_CODE) == (
        tinyguest.DISK_VOLUMES[0], tinyguest.KERNEL_VOLUME, tinyguest.INITRD_VOLUME, tinyguest.CMDLINE
    )
    assert Image.objects.get(code=tinyguest.DEMO_IMAGE_CODE).name_zh == "Tiny Linux（演示）"  # names kept
    demo.add_qemu_node()  # idempotent
    assert Node.objects.filter(name=demo.QEMU_NODE).count() == 1
    demo.load_catalogue(node_uri=testing.FAKE_NODE_URI, storage_pool="default")
    assert boot_fields(tinyguest.DEMO_IMAGE_CODE) == ("tiny-linux.qcow2", "", "", "")


def test_demo_test_hypervisor_gets_the_kernel_volumes_too(catalogue):
    pytest.importorskip("libvirt")
    register("tiny", **TINY)
    Node.objects.filter(name="demo-node-1").update(uri="test:///default", storage_pool="default-pool")
    prepare_demo_hypervisors(log=lambda _message: None)
    driver = driver_for(Node.objects.get(name="demo-node-1"))
    pool = driver.host.get_connection().storagePoolLookupByName("default-pool")
    assert {TINY["volume"], TINY["kernel"], TINY["initrd"]} <= set(pool.listVolumes())


@pytest.mark.skipif(os.environ.get("WUJI_TEST_LIBVIRT_SYSTEM") != "1", reason="real QEMU is opt-in")
def test_a_paid_server_on_the_real_qemu_node_boots_the_tiny_guest(customer, catalogue):
    pytest.importorskip("libvirt")
    node = demo.add_qemu_node()
    server = order(customer, catalogue, Image.objects.get(code=tinyguest.DEMO_IMAGE_CODE), region=node.region)
    driver = driver_for(node)
    try:
        assert (server.node, server.vm_state) == (node, VmState.ACTIVE), server.last_error
        lines = tinyguest.wait_for_console(
            driver.serial_log_path(str(server.uuid)), lambda ls: tinyguest.READY in ls, timeout=240
        )
        assert tinyguest.last_boot(lines)[:2] == [tinyguest.disk_line(tinyguest.DISK_VOLUMES[0]),
                                                 tinyguest.boot_line(1)]
    finally:
        driver.destroy(str(server.uuid))
