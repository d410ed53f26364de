"""Acceptance of the version in force at the next sign-in (clauses 1.1, 11): portal gate, API refusal."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from wuji.agreements import services
from wuji.agreements.models import Acceptance
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.core import testing

from .conftest import publish_revision


@pytest.fixture
def revised(catalogue, customer, frozen):
    """A revision published now (the customer accepted the old version at sign-up), then its date arrives."""
    version = publish_revision(days=7)
    frozen.move_to(version.effective_at)
    return version


def sign_in(user) -> Client:
    client = Client(REMOTE_ADDR="198.51.100.20")
    response = client.post(reverse("account_login"), {"login": user.email, "password": testing.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def test_registration_records_the_version_in_force_with_ip_and_channel(customer):
    acceptance = Acceptance.objects.get(user=customer)
    assert acceptance.version == services.current_version()
    assert (acceptance.ip, acceptance.channel) == ("127.0.0.1", "web")


def test_no_gate_while_the_revision_is_only_pending(catalogue, customer, frozen):
    publish_revision(days=7)
    client = sign_in(customer)
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_sign_in_after_the_revision_takes_effect_leads_to_acceptance_first(revised, customer):
    client = sign_in(customer)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("portal:agreement_accept") + "?next=%2Fdashboard%2F"
    for name in ("portal:servers", "portal:wallet", "portal:home"):
        assert client.get(reverse(name)).url.startswith(reverse("portal:agreement_accept")), name
    page = client.get(response.url)
    assert page.status_code == 200 and page.context["agreement"] == revised
    # still reachable: the agreement itself, language switch, sign-out
    assert client.get(reverse("portal:agreement")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("portal:logout")).status_code == 302
    assert client.get(reverse("portal:dashboard")).url.startswith(reverse("account_login"))


def test_accepting_records_version_time_ip_and_channel_then_goes_on(revised, customer):
    client = sign_in(customer)
    response = client.post(reverse("portal:agreement_accept"), {
        "agreement_version": revised.version, "accept_agreement": "on", "next": "/servers/"})
    assert response.status_code == 302 and response.url == "/servers/"
    acceptance = Acceptance.objects.get(user=customer, version=revised)
    assert (acceptance.ip, acceptance.channel, acceptance.accepted_at) == ("198.51.100.20", "web",
                                                                          revised.effective_at)
    instruction = Instruction.objects.get(action="agreement.accept", owner=customer)
    assert (instruction.channel, instruction.ip, instruction.params) == ("web", "198.51.100.20",
                                                                         {"version": revised.version})
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_accepting_without_the_checkbox_or_for_another_version_is_refused(revised, customer):
    client = sign_in(customer)
    unticked = client.post(reverse("portal:agreement_accept"), {"agreement_version": revised.version})
    assert unticked.status_code == 400 and "请勾选" in unticked.content.decode()
    stale = client.post(reverse("portal:agreement_accept"), {
        "agreement_version": "2022-11-27", "accept_agreement": "on"})
    assert stale.status_code == 400 and "协议版本已更新" in stale.content.decode()
    assert not Acceptance.objects.filter(user=customer, version=revised).exists()


def test_next_is_kept_on_this_site_only(revised, customer):
    client = sign_in(customer)
    response = client.post(reverse("portal:agreement_accept"), {
        "agreement_version": revised.version, "accept_agreement": "on", "next": "https://evil.example/"})
    assert response.url == reverse("portal:dashboard")


def test_staff_are_not_gated_in_the_console(revised):
    staff = get_user_model().objects.create_superuser(email="ops@example.com", password=testing.PASSWORD)
    client = Client()
    client.force_login(staff)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/agreements/agreementversion/").status_code == 200


def test_acceptance_page_is_for_signed_in_users(client, revised):
    response = client.get(reverse("portal:agreement_accept"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


# --- API ----------------------------------------------------------------------------------------------------


def test_api_caller_who_has_not_accepted_gets_403_with_stable_code(revised, customer):
    api = client_for(customer)
    response = api.get("/api/v1/balance/")
    assert response.status_code == 403
    assert response.json()["code"] == "agreement_not_accepted"


def test_api_caller_can_read_and_accept_the_agreement_then_goes_on(revised, customer):
    api = client_for(customer)
    state = api.get("/api/v1/agreement/").json()
    assert state["current"]["version"] == revised.version and state["accepted"] is False
    refused = api.post("/api/v1/agreement/accept/", {"version": "2022-11-27"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "version"
    accepted = api.post("/api/v1/agreement/accept/", {"version": revised.version}, format="json")
    assert accepted.status_code == 201 and accepted.json()["accepted"] is True
    acceptance = Acceptance.objects.get(user=customer, version=revised)
    assert (acceptance.ip, acceptance.channel) == ("203.0.113.7", "api")
    assert api.get("/api/v1/balance/").status_code == 200


def test_api_agreement_read_is_public_and_shows_the_pending_version(client, catalogue, frozen):
    revised = publish_revision(days=7)
    state = client.get("/api/v1/agreement/").json()
    assert state["pending"]["version"] == revised.version and state["accepted"] is None
    assert state["pending"]["effective_at"].startswith("2026-03-09")


def test_api_not_gated_while_the_revision_is_pending(catalogue, customer, frozen):
    publish_revision(days=7)
    with time_machine.travel(services.pending_version().effective_at - dt.timedelta(seconds=1), tick=False):
        assert client_for(customer).get("/api/v1/balance/").status_code == 200
