"""Issue 7 coverage (decision 0044), account and security: API keys (list, read, revoke — never create), function
restrictions, the security overview and ending every portal session; each refusal and the owner boundary."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from wuji.accounts import contacts, restrictions
from wuji.accounts import services as accounts
from wuji.accounts.choices import RestrictedFunction
from wuji.api import services as api_keys
from wuji.api.testing import SignedAPIClient
from wuji.audit.models import Instruction

from .conftest import client_for
from .test_account import signed_in

pytestmark = pytest.mark.django_db


# --- API keys ------------------------------------------------------------------------------------------------

def test_keys_are_listed_without_secrets_newest_first(api, customer, other_customer):
    second, secret = api_keys.create_key(owner=customer, name="deploy", ip=None)
    client_for(other_customer)  # bob's key is not alice's
    body = api.get("/api/v1/account/api-keys/").json()
    assert [k["name"] for k in body["results"]] == ["deploy", "tests"]
    assert body["results"][0] == {"id": second.pk, "key_id": second.key_id, "name": "deploy",
                                  "created_at": body["results"][0]["created_at"], "last_used_at": None,
                                  "revoked_at": None, "is_active": True}
    assert secret not in str(body) and "secret" not in str(body)
    assert api.get(f"/api/v1/account/api-keys/{second.pk}/").json()["key_id"] == second.key_id


def test_revoking_a_key_is_recorded_and_the_key_stops_working(api, customer):
    key, secret = api_keys.create_key(owner=customer, name="ci", ip=None)
    response = api.post(f"/api/v1/account/api-keys/{key.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False and response.json()["revoked_at"]
    record = Instruction.objects.get(action="apikey.revoke")
    assert (record.channel, record.owner_id, record.ip) == ("api", customer.pk, "203.0.113.7")
    revoked = SignedAPIClient(key.key_id, secret, REMOTE_ADDR="203.0.113.7")
    assert revoked.get("/api/v1/account/").json()["code"] == "key_invalid"


def test_revoking_a_revoked_key_is_a_conflict_and_records_nothing_more(api, customer):
    key, _secret = api_keys.create_key(owner=customer, name="ci", ip=None)
    assert api.post(f"/api/v1/account/api-keys/{key.pk}/revoke/").status_code == 200
    again = api.post(f"/api/v1/account/api-keys/{key.pk}/revoke/")
    assert again.status_code == 409 and again.json()["code"] == "api_key_revoked"
    assert Instruction.objects.filter(action="apikey.revoke").count() == 1


def test_keys_filter_by_active(api, customer):
    key, _secret = api_keys.create_key(owner=customer, name="old", ip=None)
    api_keys.revoke_key(key=key, actor=customer, ip=None)

    active = [row["id"] for row in api.get("/api/v1/account/api-keys/?active=true").json()["results"]]
    revoked = [row["id"] for row in api.get("/api/v1/account/api-keys/?active=false").json()["results"]]

    assert key.pk in revoked and key.pk not in active and len(active) == 1  # the key signing these requests
    assert api.get("/api/v1/account/api-keys/?active=maybe").json()["field"] == "active"


def test_a_key_cannot_be_created_through_the_api(api, customer):
    response = api.post("/api/v1/account/api-keys/", {"name": "x"}, format="json")
    assert response.status_code == 405
    assert api_keys.keys_of(customer).count() == 1  # only the fixture's key


def test_another_customers_key_is_not_found_and_stays_active(api, other_customer):
    bobs, _secret = api_keys.create_key(owner=other_customer, name="bob", ip=None)
    assert api.get(f"/api/v1/account/api-keys/{bobs.pk}/").status_code == 404
    response = api.post(f"/api/v1/account/api-keys/{bobs.pk}/revoke/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    bobs.refresh_from_db()
    assert bobs.is_active and not Instruction.objects.filter(action="apikey.revoke").exists()


# --- Restrictions ---------------------------------------------------------------------------------------------

def test_open_restrictions_are_listed_with_reason_and_lifted_ones_are_not(api, customer, other_customer):
    purchase, withdrawal = restrictions.restrict(
        user=customer, functions=[RestrictedFunction.PURCHASE, RestrictedFunction.WITHDRAWAL], reason="涉嫌欺诈",
        actor=None)
    restrictions.restrict(user=other_customer, functions=[RestrictedFunction.RENEWAL], reason="bob", actor=None)
    restrictions.lift(restriction=withdrawal, actor=None, reason="已核实")
    body = api.get("/api/v1/account/restrictions/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert [(r["id"], r["function"], r["reason"]) for r in body["results"]] == [(purchase.pk, "purchase", "涉嫌欺诈")]
    assert body["results"][0]["function_label"] == str(RestrictedFunction.label("purchase"))


def test_no_restrictions_is_an_empty_list(api):
    assert api.get("/api/v1/account/restrictions/").json()["results"] == []


# --- Security overview ------------------------------------------------------------------------------------------

def test_security_overview_shows_methods_question_flags_and_restrictions_never_the_answer(api, customer):
    Authenticator.objects.create(user=customer, type=Authenticator.Type.TOTP, data={"secret": "x"})
    accounts.set_security_question(user=customer, question="第一只宠物的名字？", answer="旺财", ip=None)
    flag = contacts.flag_invalid_contact(customer, "email", None, "退信")
    restrictions.restrict(user=customer, functions=[RestrictedFunction.RENEWAL], reason="欠费", actor=None)
    body = api.get("/api/v1/account/security/").json()
    assert body["email"] == customer.email and body["phone_masked"] is None
    assert body["mfa"] == {"totp": True, "webauthn": False, "recovery_codes": False}
    assert body["security_question"]["question"] == "第一只宠物的名字？"
    assert "旺财" not in str(body)
    assert [f["id"] for f in body["contact_flags"]] == [flag.pk] and body["contact_flags"][0]["reason"] == "退信"
    assert [r["function"] for r in body["restrictions"]] == ["renewal"]
    assert body["linked_accounts"] == [] and body["session_count"] == 0


def test_security_overview_is_the_callers_own(api, other_customer):
    Authenticator.objects.create(user=other_customer, type=Authenticator.Type.TOTP, data={"secret": "x"})
    contacts.flag_invalid_contact(other_customer, "email", None, "bob")
    body = api.get("/api/v1/account/security/").json()
    assert body["mfa"]["totp"] is False and body["contact_flags"] == []


# --- Sessions ----------------------------------------------------------------------------------------------------

def test_end_all_signs_every_portal_session_out_and_keeps_the_key(api, customer, other_customer):
    browser = signed_in(customer)
    bobs_browser = signed_in(other_customer, agent="agent-b")
    assert api.get("/api/v1/account/security/").json()["session_count"] == 1
    response = api.post("/api/v1/account/sessions/end-all/")
    assert response.status_code == 200 and response.json() == {"ended": response.json()["ended"]}
    assert response.json()["ended"] >= 1
    assert browser.get(reverse("portal:dashboard")).status_code == 302  # signed out
    assert bobs_browser.get(reverse("portal:dashboard")).status_code == 200  # bob's session is not alice's
    assert api.get("/api/v1/account/sessions/").json()["results"] == []
    record = Instruction.objects.get(action="account.session_end_all")
    assert (record.channel, record.owner_id) == ("api", customer.pk)
