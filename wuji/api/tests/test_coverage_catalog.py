"""Issue 7 coverage (decision 0044): pay-as-you-go unit prices over the API, the rows the portal's page shows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from wuji.catalog import services as catalog
from wuji.catalog.models import HourlyPrice
from wuji.core import clock

pytestmark = pytest.mark.django_db


def test_hourly_prices_in_force_for_plans_on_sale(api, customer, catalogue, client):
    plan, region = catalogue["plan"], catalogue["region"]
    HourlyPrice.objects.filter(plan=plan, region=region).delete()
    HourlyPrice.objects.create(plan=plan, region=region, running_per_hour=Decimal("0.05"),
                               stopped_per_hour=Decimal("0.01"), effective_from=clock.now() - dt.timedelta(days=2))
    current = HourlyPrice.objects.create(plan=plan, region=region, running_per_hour=Decimal("0.04"),
                                         stopped_per_hour=Decimal("0"),
                                         effective_from=clock.now() - dt.timedelta(days=1))
    HourlyPrice.objects.create(plan=plan, region=region, running_per_hour=Decimal("0.03"),
                               stopped_per_hour=Decimal("0"), effective_from=clock.now() + dt.timedelta(days=1))
    rows = api.get("/api/v1/catalog/hourly-prices/").json()["results"]
    mine = [r for r in rows if (r["plan"], r["region"]) == (plan.code, region.code)]
    [row] = mine
    assert (row["running_per_hour"], Decimal(row["stopped_per_hour"])) == ("0.04000000", 0)
    assert dt.datetime.fromisoformat(row["effective_from"]) == current.effective_from
    assert len(rows) == len(catalog.hourly_prices_in_force())
    client.force_login(customer)  # the portal's page lists the same rows
    assert list(client.get(reverse("portal:payg_buy")).context["prices"]) == catalog.hourly_prices_in_force()


def test_plans_off_sale_are_not_listed(api, catalogue):
    plan = catalogue["plan"]
    HourlyPrice.objects.create(plan=plan, region=catalogue["region"], running_per_hour=Decimal("0.04"),
                               stopped_per_hour=Decimal("0"), effective_from=clock.now() - dt.timedelta(days=1))
    type(plan).objects.filter(pk=plan.pk).update(is_active=False)
    rows = api.get("/api/v1/catalog/hourly-prices/").json()["results"]
    assert plan.code not in {r["plan"] for r in rows}
