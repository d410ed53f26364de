"""Test helpers for real-name verification: valid, distinct test ID numbers and a staff reviewer."""

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from . import services, validators

REVIEWER_EMAIL = "identity-reviewer@example.com"
_serial = itertools.count()


def fake_id_number(index: int, *, address: str = "110101", born: dt.date = dt.date(1990, 3, 7)) -> str:
    """The index-th valid resident ID number of fictitious people (Beijing Dongcheng, one birthday per
    thousand): distinct numbers, so the per-identity account limit never bites by accident."""
    day = born + dt.timedelta(days=index // 1000)
    first17 = f"{address}{day:%Y%m%d}{index % 1000:03d}"
    return first17 + validators.resident_id_check_char(first17)


def reviewer():
    """A staff account that reviews verifications in tests (created once per database)."""
    User = get_user_model()
    staff = User.objects.filter(email=REVIEWER_EMAIL).first()
    if staff is None:
        staff = User.objects.create_user(email=REVIEWER_EMAIL, password=None, is_staff=True)
    return staff


def verify(user, *, name: str = "测试用户", id_number: str | None = None):
    """Submit an individual verification for `user` and approve it as staff, through the services."""
    number = id_number or fake_id_number(user.pk * 10 + next(_serial) % 10)
    verification = services.submit_individual(user, name=name, id_number=number, ip="127.0.0.1")
    return services.approve(verification, reviewer(), reason="测试审核通过")
