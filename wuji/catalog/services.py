"""Reading the catalogue: what is on sale and at what price now (3.5)."""

from django.utils.translation import gettext as _

from wuji.core import clock

from .models import HourlyPrice, Image, Plan, Price, Region, ServiceFee, SnapshotPrice


class NotOnSale(Exception):
    pass


def regions():
    return Region.objects.filter(is_active=True)


def plans():
    return Plan.objects.filter(is_active=True)


def images():
    return Image.objects.filter(is_active=True)


def price_in_force(*, plan: Plan, region: Region, cycle: str, at=None) -> Price:
    """The price list row in force at `at` (default now). The server never trusts a client's price."""
    price = (
        Price.objects.filter(plan=plan, region=region, cycle=cycle, effective_from__lte=at or clock.now())
        .order_by("-effective_from")
        .first()
    )
    if price is None:
        raise NotOnSale(_("该配置在此地域暂不销售。"))
    return price


def prices_in_force(at=None) -> dict[tuple[int, int, str], Price]:
    """Every (plan, region, cycle) price in force at `at`, in one query."""
    result = {}
    for price in Price.objects.filter(effective_from__lte=at or clock.now()).order_by("effective_from"):
        result[(price.plan_id, price.region_id, price.cycle)] = price
    return result


def hourly_price_in_force(*, plan: Plan, region: Region, at=None) -> HourlyPrice:
    """The pay-as-you-go unit prices in force at `at` (default now); NotOnSale if there are none."""
    price = (
        HourlyPrice.objects.filter(plan=plan, region=region, effective_from__lte=at or clock.now())
        .order_by("-effective_from")
        .first()
    )
    if price is None:
        raise NotOnSale(_("该配置在此地域暂不支持按量付费。"))
    return price


def hourly_prices_in_force(at=None) -> list[HourlyPrice]:
    """Pay-as-you-go unit prices in force at `at` for plans and regions on sale, smallest plan first: the
    portal's pay-as-you-go page and the API's price list show the same rows (one query)."""
    latest = {}
    rows = (HourlyPrice.objects.filter(effective_from__lte=at or clock.now(), plan__is_active=True,
                                       region__is_active=True)
            .select_related("plan", "region").order_by("effective_from"))
    for price in rows:
        latest[(price.plan_id, price.region_id)] = price
    return sorted(latest.values(), key=lambda p: (p.plan.vcpus, p.plan.memory_mib, p.region.sort_order, p.pk))


def register_image(*, code: str, volume: str, kernel_volume: str = "", initrd_volume: str = "",
                   kernel_cmdline: str = "", name_zh: str | None = None, name_en: str | None = None) -> Image:
    """Create or update the catalogue entry of an OS image whose volumes are already in the nodes' pools.

    Staff tooling (`wuji image register`, the demo): every boot field is set as given, so registering an
    image without a kernel makes it boot its disk again. Names are kept on update unless given; a new
    image is named after its code. Raises ValidationError for an inconsistent entry (e.g. an initrd
    without a kernel), leaving the catalogue unchanged.
    """
    image = Image.objects.filter(code=code).first() or Image(code=code, name_zh=code, name_en=code)
    image.volume, image.kernel_volume, image.initrd_volume = volume, kernel_volume, initrd_volume
    image.kernel_cmdline = kernel_cmdline
    image.name_zh = name_zh or image.name_zh
    image.name_en = name_en or image.name_en
    image.full_clean()
    image.save()
    return image


def snapshot_price_in_force(*, region: Region, at=None) -> SnapshotPrice:
    """The snapshot price in force at `at` (default now); NotOnSale if snapshots are not sold there."""
    price = (
        SnapshotPrice.objects.filter(region=region, effective_from__lte=at or clock.now())
        .order_by("-effective_from")
        .first()
    )
    if price is None:
        raise NotOnSale(_("该地域暂未开放快照服务。"))
    return price


def service_fee_fen(service: str, at=None) -> int:
    """The fee of a platform service (`PlatformService`) in force at `at` (default now), in fen; 0 when the
    fee list has no row in force for it (the service is free)."""
    fee = (
        ServiceFee.objects.filter(service=service, effective_from__lte=at or clock.now())
        .order_by("-effective_from")
        .values_list("amount_fen", flat=True)
        .first()
    )
    return fee or 0
