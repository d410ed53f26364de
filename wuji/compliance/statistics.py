"""Identity statistics for operations (6.5): counts of real-name verifications by region, type, state and month,
with small counts suppressed so that no individual can be singled out.

Region is the province (GB/T 2260) read from the masked number, which keeps the first four characters: the
first two digits of a resident ID, the third and fourth of a unified social credit code (its registration
authority's division code). Nothing is decrypted.

Suppression rule (decision 0030): the finest cells are region × type × state × month. A published number is a
sum of such cells; it is published only when none of them holds 1–4. Otherwise it shows "<5" when the sum itself
is below five, and "—" when it is larger (a total, or a cell summed over months, hidden so that the small count
inside it cannot be recovered by subtraction). Zero is shown. Every number on the page is therefore a sum of
cells that are 0 or ≥ 5, and no combination of them says anything about a hidden cell.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, When
from django.db.models.functions import Substr, TruncMonth
from django.utils.translation import gettext_lazy as _

from wuji.identity.choices import VerificationKind, VerificationStatus
from wuji.identity.models import Verification

SMALL = range(1, 5)
SUPPRESSED = "<5"
HIDDEN = "—"

PROVINCES = {
    "11": _("北京"), "12": _("天津"), "13": _("河北"), "14": _("山西"), "15": _("内蒙古"), "21": _("辽宁"),
    "22": _("吉林"), "23": _("黑龙江"), "31": _("上海"), "32": _("江苏"), "33": _("浙江"), "34": _("安徽"),
    "35": _("福建"), "36": _("江西"), "37": _("山东"), "41": _("河南"), "42": _("湖北"), "43": _("湖南"),
    "44": _("广东"), "45": _("广西"), "46": _("海南"), "50": _("重庆"), "51": _("四川"), "52": _("贵州"),
    "53": _("云南"), "54": _("西藏"), "61": _("陕西"), "62": _("甘肃"), "63": _("青海"), "64": _("宁夏"),
    "65": _("新疆"), "71": _("台湾"), "81": _("香港"), "82": _("澳门"), "83": _("台湾"),
}
OTHER_REGION = "99"  # a code outside GB/T 2260's provinces (some credit codes): one "other" row


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    cells: list[str]
    total: str


@dataclass(frozen=True)
class Table:
    month: str | None
    months: list[str]
    columns: list[tuple[str, str]]
    rows: list[Row]
    column_totals: list[str]
    grand_total: str


def shown(counts: list[int]) -> str:
    """How a sum of finest cells is published: its value, or "<5"/"—" when any of them is small."""
    total = sum(counts)
    if not any(n in SMALL for n in counts):
        return str(total)
    return SUPPRESSED if total in SMALL else HIDDEN


def _finest_counts() -> dict[tuple[str, str, str, str], int]:
    """(region, kind, status, "YYYY-MM") → count, aggregated in the database from the masked prefix."""
    region = Case(When(kind=VerificationKind.INDIVIDUAL, then=Substr("number_masked", 1, 2)),
                  default=Substr("number_masked", 3, 2), output_field=CharField())
    rows = (Verification.objects.annotate(region=region, month=TruncMonth("submitted_at"))
            .values("region", "kind", "status", "month").annotate(n=Count("pk")).order_by())
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for row in rows:
        code = row["region"] if row["region"] in PROVINCES else OTHER_REGION
        code = "71" if code == "83" else code  # Taiwan residents' permits and IDs: one region
        counts[(code, row["kind"], row["status"], f"{row['month']:%Y-%m}")] += row["n"]
    return counts


def _region_label(code: str) -> str:
    return str(PROVINCES.get(code, _("其他")))


def identity_table(month: str | None = None) -> Table:
    """Rows: regions; columns: type × state; margins: totals. `month` ("YYYY-MM") limits to one month."""
    finest = _finest_counts()
    months = sorted({key[3] for key in finest}, reverse=True)
    columns = [(kind, status) for kind in VerificationKind.values() for status in VerificationStatus.values()]
    regions = sorted({key[0] for key in finest})

    def counts(region=None, column=None) -> list[int]:
        return [n for (r, kind, status, m), n in finest.items()
                if (region is None or r == region) and (column is None or (kind, status) == column)
                and (month is None or m == month)]

    rows = [Row(code=region, label=_region_label(region),
                cells=[shown(counts(region, column)) for column in columns], total=shown(counts(region)))
            for region in regions if counts(region)]
    return Table(month=month, months=months,
                 columns=[(VerificationKind.label(k), VerificationStatus.label(s)) for k, s in columns],
                 rows=rows, column_totals=[shown(counts(column=column)) for column in columns],
                 grand_total=shown(counts()))
