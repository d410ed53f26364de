"""The demo catalogue: two regions (mainland, Hong Kong), three plans, two OS images, one compute node.

The one node is in the mainland region; the Hong Kong region is on sale but has no node yet, so an
order there is refused as sold out (售罄) until staff add a node — the demo shows that refusal too.
With WUJI_DEMO_QEMU=1, `wuji demo` adds that node: the real qemu:///system of this machine, where the
"tiny-linux" image is the tiny bootable guest of scripts/build-guest-image.sh (decision 0021).

Used by `wuji demo` and by the tests, so the demo is exactly what the tests exercise.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from wuji.agreements import services as agreements
from wuji.catalog import services as catalog
from wuji.catalog.choices import PlatformService
from wuji.catalog.models import HourlyPrice, Plan, Price, Region, ServiceFee, SnapshotPrice
from wuji.compute import tinyguest
from wuji.compute.models import Node

AGREEMENT_FILE = Path(__file__).resolve().parent.parent / "agreements" / "fixtures" / "service-agreement-2022-11-27.md"
EPOCH = dt.datetime(2022, 11, 27, tzinfo=dt.UTC)

REGIONS = [
    # code, zh, en, mainland, order
    ("cn-ganzhou", "华东-赣州", "China East (Ganzhou)", True, 1),
    ("hk", "中国香港", "Hong Kong", False, 2),
]
PLANS = [
    # code, zh, en, vcpus, memory MiB, disk GiB, Mbps, monthly price in fen per region
    ("s1", "入门型 1核1G", "Starter 1 vCPU 1 GiB", 1, 1024, 20, 3, {"cn-ganzhou": 2900, "hk": 3900}),
    ("s2", "标准型 2核2G", "Standard 2 vCPU 2 GiB", 2, 2048, 40, 5, {"cn-ganzhou": 5900, "hk": 7900}),
    ("s4", "进阶型 4核8G", "Advanced 4 vCPU 8 GiB", 4, 8192, 80, 10, {"cn-ganzhou": 19900, "hk": 25900}),
]
# Pay-as-you-go unit prices in 元/hour (8 places): (running, stopped — the disk only) per plan and region.
HOURLY_PRICES = {
    "s1": {"cn-ganzhou": ("0.06000000", "0.00500000"), "hk": ("0.08000000", "0.00500000")},
    "s2": {"cn-ganzhou": ("0.12000000", "0.01000000"), "hk": ("0.16000000", "0.01000000")},
    "s4": {"cn-ganzhou": ("0.40000000", "0.02000000"), "hk": ("0.52000000", "0.02000000")},
}
# Snapshots: 元 per GiB of the server's disk per hour (about 0.15 元 per GiB-month); Hong Kong sells none yet.
SNAPSHOT_PRICES = {"cn-ganzhou": "0.00020000"}
# One-off service fees in fen. The push is free: it is the only transfer clause 3.2 allows, so it should cost
# nothing next to the forbidden ways of handing a server over (decision 0023); staff add a row to charge.
SERVICE_FEES = {PlatformService.SERVER_PUSH: 0}
IMAGES = [
    ("debian-12", "Debian 12", "Debian 12", "debian-12.qcow2"),
    ("tiny-linux", "Tiny Linux（演示）", "Tiny Linux (demo)", "tiny-linux.qcow2"),
]


@transaction.atomic
def load_catalogue(*, node_uri: str = "test:///default", storage_pool: str = "default-pool") -> dict:
    """Create or update the demo catalogue and the agreement in force. Idempotent."""
    regions = {}
    for code, zh, en, mainland, order in REGIONS:
        regions[code], _ = Region.objects.update_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "is_mainland": mainland, "sort_order": order}
        )
    for code, zh, en, vcpus, memory, disk, mbps, prices in PLANS:
        plan, _ = Plan.objects.update_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "vcpus": vcpus, "memory_mib": memory,
                                 "disk_gib": disk, "bandwidth_mbps": mbps},
        )
        for region_code, monthly in prices.items():
            # A quarter at 5% off, a year at the price of ten months (the providers' usual 买十送二).
            cycles = (("monthly", monthly), ("quarterly", monthly * 3 * 95 // 100), ("yearly", monthly * 10))
            for cycle, amount in cycles:
                Price.objects.get_or_create(plan=plan, region=regions[region_code], cycle=cycle,
                                            effective_from=EPOCH, defaults={"amount_fen": amount})
        for region_code, (running, stopped) in HOURLY_PRICES.get(code, {}).items():
            HourlyPrice.objects.get_or_create(
                plan=plan, region=regions[region_code], effective_from=EPOCH,
                defaults={"running_per_hour": Decimal(running), "stopped_per_hour": Decimal(stopped)})
    for code, zh, en, volume in IMAGES:  # boot fields cleared: a demo without QEMU boots nothing for real
        catalog.register_image(code=code, volume=volume, name_zh=zh, name_en=en)
    for region_code, per_gib_hour in SNAPSHOT_PRICES.items():
        SnapshotPrice.objects.get_or_create(region=regions[region_code], effective_from=EPOCH,
                                            defaults={"per_gib_hour": Decimal(per_gib_hour)})
    for service, amount in SERVICE_FEES.items():
        ServiceFee.objects.get_or_create(service=service, effective_from=EPOCH, defaults={"amount_fen": amount})
    node, _ = Node.objects.update_or_create(
        name="demo-node-1",
        defaults={"region": regions["cn-ganzhou"], "uri": node_uri, "virt_type": "qemu",
                  "storage_pool": storage_pool, "vcpus": 64, "memory_mib": 262144, "disk_gib": 4000},
    )
    agreements.publish(version="2022-11-27", title="武极云用户服务协议", body=AGREEMENT_FILE.read_text("utf-8"),
                       effective_at=EPOCH)
    return {"regions": regions, "node": node}


QEMU_NODE = "demo-qemu-1"


@transaction.atomic
def add_qemu_node() -> Node:
    """The demo's Hong Kong node on this machine's real libvirtd, with "tiny-linux" as the tiny guest.

    Needs scripts/setup-libvirt.sh (the daemon) and scripts/build-guest-image.sh (the volumes). Other
    images have no volume on that node: an order of them there fails with "image not available".
    """
    catalog.register_image(code=tinyguest.DEMO_IMAGE_CODE, volume=tinyguest.DISK_VOLUMES[0],
                           kernel_volume=tinyguest.KERNEL_VOLUME, initrd_volume=tinyguest.INITRD_VOLUME,
                           kernel_cmdline=tinyguest.CMDLINE)
    node, _ = Node.objects.update_or_create(
        name=QEMU_NODE,
        defaults={"region": Region.objects.get(code="hk"), "uri": "qemu:///system", "virt_type": "qemu",
                  "storage_pool": "default", "vcpus": 4, "memory_mib": 8192, "disk_gib": 200},
    )
    return node


def image_volumes() -> list[str]:
    return [volume for *_, volume in IMAGES]
