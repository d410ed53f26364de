"""User data rights (decision 0031): the download of one's own data in the portal and over the API — step-up
verification first, only the user's own rows, the identity number masked, each download a recorded instruction."""

import json

import pytest
from django.urls import reverse

from wuji.accounts.tests.helpers import enable_totp, totp
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.compliance.choices import DataCategory
from wuji.identity import services as identity
from wuji.identity.models import Verification
from wuji.portal.tests.conftest import step_up

from .test_disclosures import log_in_record

pytestmark = pytest.mark.django_db


def downloads(user):
    return Instruction.objects.filter(owner=user, action="account.data_export")


def assert_only_own(document: dict, user, other) -> None:
    """Every section is the user's: the other customer's e-mail, login address and instructions are absent."""
    assert document["subject"] == user.pk and sorted(document["data"]) == sorted(DataCategory.values())
    text = json.dumps(document, ensure_ascii=False)
    assert other.email not in text and "198.51.100.99" not in text
    assert "203.0.113.5" in [r["ip"] for r in document["data"]["logins"]]
    own_seqs = set(Instruction.objects.filter(owner=user).values_list("seq", flat=True))
    assert {row["seq"] for row in document["data"]["instructions"]} <= own_seqs


@pytest.fixture
def records(customer, other_customer):
    log_in_record(customer, "203.0.113.5")
    log_in_record(other_customer, "198.51.100.99")


def test_the_portal_download_needs_step_up_verification_first(client, customer, records):
    client.force_login(customer)
    response = client.post(reverse("portal:data_export"))
    assert response.status_code == 302 and response.url.startswith(reverse("portal:step_up"))
    assert "operation=data_export" in response.url
    assert not downloads(customer).exists()


def test_the_portal_download_is_the_users_own_data_with_the_identity_number_masked(client, customer,
                                                                                   other_customer, records):
    client.force_login(customer)
    step_up(client, "data_export")
    response = client.post(reverse("portal:data_export"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert_only_own(document, customer, other_customer)
    verification = Verification.objects.get(user=customer)
    assert [v["number"] for v in document["data"]["identity"]] == [verification.number_masked]
    assert identity.number_of(verification) not in response.content.decode()
    [instruction] = downloads(customer)
    assert instruction.channel == "web" and instruction.ip == "203.0.113.9"
    assert instruction.params["factor"] == "password" and len(instruction.params["sha256"]) == 64


def test_the_download_is_offered_on_the_security_page(client, customer):
    client.force_login(customer)
    page = client.get(reverse("portal:security")).content.decode()
    assert 'data-testid="my-data"' in page and reverse("portal:data_export") in page


def test_the_portal_download_refuses_get(client, customer):
    client.force_login(customer)
    assert client.get(reverse("portal:data_export")).status_code == 405


def test_the_api_download_needs_a_step_up_code(customer, records):
    response = client_for(customer).post("/api/v1/account/data-export/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "step_up_required"
    assert not downloads(customer).exists()


def test_a_wrong_api_step_up_code_is_refused(customer):
    enable_totp(customer)
    response = client_for(customer).post("/api/v1/account/data-export/", {"step_up_totp": "000000"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "step_up_failed"
    assert not downloads(customer).exists()


def test_each_api_caller_gets_only_their_own_data(customer, other_customer, records):
    secret = enable_totp(other_customer)
    response = client_for(other_customer).post("/api/v1/account/data-export/", {"step_up_totp": totp(secret)},
                                               format="json")
    assert response.status_code == 200
    document = response.json()
    assert document["subject"] == other_customer.pk
    text = json.dumps(document, ensure_ascii=False)
    assert customer.email not in text and "203.0.113.5" not in text
    assert downloads(other_customer).get().channel == "api" and not downloads(customer).exists()
