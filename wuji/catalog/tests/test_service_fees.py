"""The service fee list (服务费价目表): effective-dated one-off fees of platform services, free without a row."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from wuji.catalog import services as catalog
from wuji.catalog.choices import PlatformService
from wuji.catalog.models import ServiceFee

PUSH = PlatformService.SERVER_PUSH
T0 = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def fee(amount_fen, at):
    return ServiceFee.objects.create(service=PUSH, amount_fen=amount_fen, effective_from=at)


def test_a_service_without_a_row_is_free(db):
    assert catalog.service_fee_fen(PUSH, at=T0) == 0


def test_the_row_in_force_applies_and_a_later_one_replaces_it_only_from_its_moment(db):
    fee(5_00, T0)
    fee(0, T0 + 2 * DAY)  # made free again
    fee(8_00, T0 + 4 * DAY)
    assert catalog.service_fee_fen(PUSH, at=T0 - DAY) == 0  # before the first row
    assert catalog.service_fee_fen(PUSH, at=T0) == 5_00
    assert catalog.service_fee_fen(PUSH, at=T0 + 3 * DAY) == 0
    assert catalog.service_fee_fen(PUSH, at=T0 + 4 * DAY - dt.timedelta(seconds=1)) == 0
    assert catalog.service_fee_fen(PUSH, at=T0 + 5 * DAY) == 8_00


def test_one_row_per_service_and_moment(db):
    fee(5_00, T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        fee(6_00, T0)


def test_a_negative_fee_is_refused(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        fee(-1, T0)


def test_staff_add_rows_but_cannot_edit_them(client, db):
    client.force_login(get_user_model().objects.create_superuser(email="root@example.com",
                                                                 password="Correct-Horse-42"))
    row = fee(5_00, T0)
    added = client.post("/console/catalog/servicefee/add/", {
        "service": PUSH, "amount_fen": 0, "effective_from_0": "2027-02-01", "effective_from_1": "00:00:00"})
    assert added.status_code == 302 and catalog.service_fee_fen(PUSH, at=T0 + 60 * DAY) == 0
    listing = client.get("/console/catalog/servicefee/")
    assert listing.status_code == 200 and "服务器转让手续费" in listing.content.decode()
    assert client.post(f"/console/catalog/servicefee/{row.pk}/change/", {
        "service": PUSH, "amount_fen": 1, "effective_from_0": "2027-01-01", "effective_from_1": "08:00:00",
    }).status_code == 403
    row.refresh_from_db()
    assert row.amount_fen == 5_00
