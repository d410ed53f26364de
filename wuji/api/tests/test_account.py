"""Account and security over the API (6.1–6.4, 2.2.2): account, profile, login records and sessions;
contact changes are refused here; owner boundaries; lists cost a fixed number of queries."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.accounts.choices import LoginEvent, LoginResult
from wuji.accounts.security_models import LoginRecord
from wuji.audit.models import Instruction
from wuji.core import testing

pytestmark = pytest.mark.django_db


def signed_in(user, agent="agent-a") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("account_login"), {"login": user.email, "password": testing.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    client.get(reverse("portal:dashboard"))
    return client


def record(user, n: int = 1) -> None:
    for _i in range(n):
        accounts.record_login_event(request=None, event=LoginEvent.LOGIN, user=user)


def queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured.captured_queries)


# --- account -----------------------------------------------------------------------------------------

def test_account_shows_contacts_masked_profile_mfa_identity_and_lock(api, customer):
    type(customer).objects.filter(pk=customer.pk).update(phone="+8613800138000")
    accounts.update_profile(user=customer, ip=None, qq="12345", real_name="张三")
    body = api.get("/api/v1/account/").json()
    assert body["email"] == customer.email
    assert body["phone_masked"] == "138****8000"
    assert "13800138000" not in str(body)
    assert body["profile"]["qq"] == "12345" and body["profile"]["real_name"] == "张三"
    assert body["mfa_enabled"] is False
    assert body["identity"] == api.get("/api/v1/identity/").json()  # the identity endpoint's status
    assert body["locked"] is False
    assert body["language"] == customer.language


def test_account_reports_mfa_enabled(api, customer):
    Authenticator.objects.create(user=customer, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert api.get("/api/v1/account/").json()["mfa_enabled"] is True


# --- profile -----------------------------------------------------------------------------------------

def test_profile_patch_goes_through_the_service_and_is_recorded(api, customer):
    response = api.patch("/api/v1/account/profile/", {"city": "赣州", "qq": "123456"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["city"] == "赣州"
    profile = accounts.profile_of(customer)
    assert (profile.city, profile.qq) == ("赣州", "123456")
    entry = Instruction.objects.filter(action="account.profile_update").latest("pk")
    assert entry.channel == "api"


def test_profile_patch_validates_fields(api, customer):
    response = api.patch("/api/v1/account/profile/", {"qq": "0123"}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "qq"
    assert accounts.profile_of(customer).qq == ""


@pytest.mark.parametrize(("field", "value"), [("phone", "13900139000"), ("email", "new@example.com")])
def test_contact_change_is_refused_here(api, customer, field, value):
    response = api.patch("/api/v1/account/profile/", {field: value, "city": "赣州"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "contact_change_not_allowed" and body["field"] == field
    customer.refresh_from_db()
    assert customer.email == "alice@example.com" and customer.phone is None
    assert accounts.profile_of(customer).city == ""


# --- login records -----------------------------------------------------------------------------------

def test_login_records_are_the_callers_own_newest_first(api, customer, other_customer):
    accounts.record_login_event(request=None, event=LoginEvent.LOGIN, user=customer)
    accounts.record_login_event(request=None, event=LoginEvent.FAILED, user=customer,
                                result=LoginResult.WRONG_CREDENTIALS)
    accounts.record_login_event(request=None, event=LoginEvent.LOGIN, user=other_customer)
    body = api.get("/api/v1/account/login-records/").json()
    assert body["next"] is None
    assert [r["event"] for r in body["results"]] == ["failed", "login"]
    mine = set(LoginRecord.objects.filter(user=customer).values_list("pk", flat=True))
    assert {r["id"] for r in body["results"]} == mine


def test_user_b_never_sees_login_records_of_user_a(customer, other_customer, other_api):
    signed_in(customer)
    record(customer, 3)
    body = other_api.get("/api/v1/account/login-records/").json()
    assert body["results"] == []
    assert customer.email not in str(body)


# --- sessions ----------------------------------------------------------------------------------------

def test_sessions_listed_and_one_ended(api, customer):
    laptop, phone = signed_in(customer, "laptop"), signed_in(customer, "phone")
    body = api.get("/api/v1/account/sessions/").json()
    assert {s["user_agent"] for s in body["results"]} == {"laptop", "phone"}
    assert "session_key" not in body["results"][0]
    target = next(s for s in body["results"] if s["user_agent"] == "phone")
    assert api.delete(f"/api/v1/account/sessions/{target['id']}/").status_code == 204
    assert phone.get(reverse("portal:dashboard")).status_code == 302  # signed out on the server
    assert laptop.get(reverse("portal:dashboard")).status_code == 200
    entry = Instruction.objects.filter(action="account.session_end").latest("pk")
    assert entry.channel == "api"
    assert api.delete(f"/api/v1/account/sessions/{target['id']}/").status_code == 404


def test_user_b_gets_404_for_a_session_of_user_a(customer, other_customer, other_api):
    alice = signed_in(customer)
    alices = UserSession.objects.get(user=customer)
    response = other_api.delete(f"/api/v1/account/sessions/{alices.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert UserSession.objects.filter(pk=alices.pk).exists()
    assert alice.get(reverse("portal:dashboard")).status_code == 200
    assert other_api.get("/api/v1/account/sessions/").json()["results"] == []


# --- query counts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/account/login-records/", "/api/v1/account/sessions/"])
def test_list_queries_do_not_grow_with_rows(api, customer, django_assert_max_num_queries, url):
    signed_in(customer, "agent-0")
    record(customer)
    api.get(url)  # the key's last-used time is written on first use (throttled): keep it out of the count
    baseline = queries(api, url)
    assert baseline <= 3  # authentication (with the agreement check), count, rows

    for index in range(1, 6):
        signed_in(customer, f"agent-{index}")
        record(customer)

    with django_assert_max_num_queries(baseline):
        response = api.get(url)
    assert len(response.json()["results"]) >= 6
