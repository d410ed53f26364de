"""Identity statistics (6.5): region from the masked number, small cells shown as "<5", and every total (or
all-months cell) that would let a hidden cell be recovered by subtraction hidden too."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from wuji.compliance.statistics import HIDDEN, SUPPRESSED, identity_table, shown
from wuji.identity.choices import VerificationKind, VerificationStatus
from wuji.identity.models import Verification

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = dt.datetime(2026, 11, 14, 10, tzinfo=SHANGHAI)
OCTOBER = dt.datetime(2026, 10, 14, 10, tzinfo=SHANGHAI)
_users = itertools.count()


def verification(masked: str, *, kind=VerificationKind.INDIVIDUAL, status=VerificationStatus.APPROVED,
                 at=NOVEMBER) -> Verification:
    user = get_user_model().objects.create_user(email=f"stat{next(_users)}@example.com", password=None)
    return Verification.objects.create(user=user, kind=kind, status=status, name="统计样本", number_encrypted="x",
                                       number_hash=f"h{user.pk}", number_masked=masked, provider="test",
                                       submitted_at=at)


@pytest.mark.parametrize("counts, expected", [
    ([], "0"), ([0], "0"), ([5], "5"), ([1], SUPPRESSED), ([4], SUPPRESSED), ([3, 0], SUPPRESSED),
    ([5, 2], HIDDEN), ([7, 9], "16"), ([2, 2], SUPPRESSED), ([3, 3], HIDDEN),
])
def test_a_number_is_published_only_when_no_small_cell_is_inside(counts, expected):
    assert shown(counts) == expected


@pytest.fixture
def sample(db):
    for _ in range(5):
        verification("1101**********1234")  # Beijing, November
    for _ in range(2):
        verification("1101**********1234", at=OCTOBER)  # Beijing, October: a small cell
    for _ in range(2):
        verification("3101**********5678")  # Shanghai
    verification("9131************", kind=VerificationKind.ENTERPRISE)  # credit code registered in Shanghai
    verification("91X1************", kind=VerificationKind.ENTERPRISE, status=VerificationStatus.PENDING)


def cell(table, region: str, kind: str, status: str) -> str:
    row = next(r for r in table.rows if r.code == region)
    labels = (VerificationKind.label(kind), VerificationStatus.label(status))
    return row.cells[table.columns.index(labels)]


def column_total(table, kind: str, status: str) -> str:
    return table.column_totals[table.columns.index((VerificationKind.label(kind), VerificationStatus.label(status)))]


def test_one_month_small_cells_and_the_totals_that_would_reveal_them_are_hidden(sample):
    table = identity_table("2026-11")
    individual, enterprise = VerificationKind.INDIVIDUAL, VerificationKind.ENTERPRISE
    approved = VerificationStatus.APPROVED
    assert table.months == ["2026-11", "2026-10"]
    assert cell(table, "11", individual, approved) == "5"
    assert next(r for r in table.rows if r.code == "11").total == "5"
    assert cell(table, "31", individual, approved) == SUPPRESSED
    assert cell(table, "31", enterprise, approved) == SUPPRESSED
    assert next(r for r in table.rows if r.code == "31").total == SUPPRESSED  # 2 + 1: itself small
    assert column_total(table, individual, approved) == HIDDEN  # 5 + 2 would give Shanghai's 2 away
    assert table.grand_total == HIDDEN
    assert cell(table, "99", enterprise, VerificationStatus.PENDING) == SUPPRESSED  # unknown division code
    assert cell(table, "11", individual, VerificationStatus.REJECTED) == "0"


def test_all_months_hide_a_sum_that_would_reveal_a_small_month(sample):
    """Beijing: 5 in November (published there) + 2 in October; 7 over all months would give October away."""
    assert cell(identity_table("2026-10"), "11", VerificationKind.INDIVIDUAL, VerificationStatus.APPROVED) == SUPPRESSED
    every_month = identity_table()
    assert cell(every_month, "11", VerificationKind.INDIVIDUAL, VerificationStatus.APPROVED) == HIDDEN
    assert "7" not in [c for row in every_month.rows for c in [*row.cells, row.total]]


def test_the_console_page_needs_the_statistics_permission(client, sample):
    url = reverse("admin:compliance_identity_statistics")
    staff = get_user_model().objects.create_user(email="ops@example.com", password=None, is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_identity_statistics"))
    response = client.get(url, {"month": "2026-11"})
    assert response.status_code == 200
    assert response.context["table"] == identity_table("2026-11") and "&lt;5" in response.content.decode()
    assert client.get(url, {"month": "1999-01"}).status_code == 404
    customer = get_user_model().objects.create_user(email="cust@example.com", password=None)
    client.force_login(customer)
    assert client.get(url).status_code == 302  # not staff: the console's login page
