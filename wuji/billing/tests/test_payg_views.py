"""Pay-as-you-go in the portal, the API and the console; owner boundaries (B gets 404 for A's meter)."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.billing.models import Meter
from wuji.core import testing
from wuji.ledger import services as ledger

from .payg_helpers import buy


def api_client(user) -> APIClient:
    return client_for(user)


BODY = {"region": "cn-ganzhou", "plan": "s1", "image": "debian-12", "name": "api-payg"}


def test_api_creates_a_payg_server_once_per_key_and_reads_its_meter(customer, catalogue):
    client = api_client(customer)
    response = client.post("/api/v1/payg/servers/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="pg-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["root_password"] and body["running_per_hour"] == "0.06000000" and body["debt_fen"] == 0
    replay = client.post("/api/v1/payg/servers/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="pg-1")
    assert replay.status_code == 201 and replay.json()["root_password"] is None
    assert Meter.objects.filter(customer=customer).count() == 1
    reused = client.post("/api/v1/payg/servers/", {**BODY, "plan": "s2"}, format="json", HTTP_IDEMPOTENCY_KEY="pg-1")
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"
    meter = client.get(f"/api/v1/payg/servers/{body['server']}/")
    assert meter.status_code == 200 and meter.json()["rate"] in ("none", "running")
    assert client.get("/api/v1/payg/servers/").json()["results"][0]["server"] == body["server"]


def test_api_refusals_name_the_problem(customer, catalogue):
    client = api_client(customer)
    missing_key = client.post("/api/v1/payg/servers/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="")
    assert missing_key.status_code == 400 and missing_key.json()["field"] == "Idempotency-Key"
    bad_plan = client.post("/api/v1/payg/servers/", {**BODY, "plan": "nope"}, format="json",
                           HTTP_IDEMPOTENCY_KEY="pg-2")
    assert bad_plan.status_code == 400 and bad_plan.json()["field"] == "plan"
    poor = testing.make_customer("poor@example.com", balance_fen=10_00)
    refused = api_client(poor).post("/api/v1/payg/servers/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="pg-3")
    assert refused.status_code == 402 and "100.00" in refused.json()["message"]
    assert not Meter.objects.exists()


def test_owner_boundaries_in_api_and_portal(customer, other_customer, catalogue, client):
    meter = buy(customer, catalogue)
    assert api_client(other_customer).get(f"/api/v1/payg/servers/{meter.server_id}/").status_code == 404
    assert api_client(other_customer).get("/api/v1/payg/servers/").json()["results"] == []
    client.force_login(other_customer)
    assert client.get(f"/servers/{meter.server_id}/meter/").status_code == 404
    client.force_login(customer)
    page = client.get(f"/servers/{meter.server_id}/meter/")
    assert page.status_code == 200 and "按量计费" in page.content.decode()
    server_page = client.get(f"/servers/{meter.server_id}/").content.decode()
    assert 'data-testid="payg-meter"' in server_page


def test_portal_buys_a_payg_server(customer, catalogue, client):
    client.force_login(customer)
    page = client.get("/buy/payg/")
    assert page.status_code == 200 and "0.06000000" in page.content.decode()
    assert "/buy/payg/" in client.get("/buy/").content.decode()
    form = {"region": catalogue["region"].pk, "plan": catalogue["plan"].pk, "image": catalogue["image"].pk,
            "name": "web", "idempotency_key": "3f1c2b9e-0000-4000-8000-000000000001"}
    response = client.post("/buy/payg/", form)
    meter = Meter.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == f"/servers/{meter.server_id}/"
    assert client.post("/buy/payg/", form).status_code == 302 and Meter.objects.count() == 1
    assert ledger.balances(customer)["cash"] == 100_00


def test_portal_refusal_is_shown_and_changes_nothing(catalogue, client):
    poor = testing.make_customer("poor@example.com", balance_fen=10_00)
    client.force_login(poor)
    form = {"region": catalogue["region"].pk, "plan": catalogue["plan"].pk, "image": catalogue["image"].pk,
            "name": "web", "idempotency_key": "3f1c2b9e-0000-4000-8000-000000000002"}
    response = client.post("/buy/payg/", form)
    assert response.status_code == 200 and "100.00" in response.content.decode()
    assert not Meter.objects.exists()


@pytest.mark.django_db
def test_console_meters_are_read_only_and_settlement_runs_from_an_action(customer, catalogue, client):
    meter = buy(customer, catalogue)
    staff = get_user_model().objects.create_superuser(email="ops@example.com", password="Correct-Horse-42")
    client.force_login(staff)
    assert client.get(f"/console/billing/meter/{meter.pk}/change/").status_code == 200
    assert client.get("/console/billing/meter/add/").status_code == 403
    response = client.post("/console/billing/meter/", {"action": "settle_now", "_selected_action": [meter.pk]})
    assert response.status_code == 302
    assert Instruction.objects.filter(action="payg.settle", actor=staff).count() == 1
