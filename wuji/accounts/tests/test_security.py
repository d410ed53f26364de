"""Sessions (2.2.2), report unauthorised use (2.2.1), login-record retention (6.4), profile and contacts
(6.2), security question and recovery (6.1), phone registration; owner boundaries."""

import datetime as dt

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.accounts.choices import CaseState, LoginEvent
from wuji.accounts.security_models import LoginRecord, SecurityCase, SecurityQuestion
from wuji.agreements import services as agreements
from wuji.api import services as api_keys
from wuji.api.testing import SignedAPIClient
from wuji.audit.models import Instruction
from wuji.core import clock, testing
from wuji.notifications.models import Notice

from .helpers import customer_with_phone, last_mail_code, last_sms_code


def signed_in(user, agent="agent-a") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("account_login"), {"login": user.email, "password": testing.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    client.get(reverse("portal:dashboard"))
    return client


# --- sessions ----------------------------------------------------------------------------------------

def test_sessions_listed_and_one_ended(customer):
    first, second = signed_in(customer, "laptop"), signed_in(customer, "phone")
    page = first.get(reverse("portal:sessions"))
    sessions = page.context["sessions"]
    assert {s.user_agent for s in sessions} == {"laptop", "phone"}
    other = next(s for s in sessions if s.user_agent == "phone")
    response = first.post(reverse("portal:session_end", args=[other.pk]))
    assert response.status_code == 302
    assert second.get(reverse("portal:dashboard")).status_code == 302  # signed out on the server
    assert first.get(reverse("portal:dashboard")).status_code == 200


def test_end_all_sessions(customer):
    first, second = signed_in(customer, "laptop"), signed_in(customer, "phone")
    first.post(reverse("portal:session_end_all"))
    assert first.get(reverse("portal:dashboard")).status_code == 302
    assert second.get(reverse("portal:dashboard")).status_code == 302
    assert not UserSession.objects.filter(user=customer).exists()


def test_end_all_others_keeps_this_one(customer):
    first, second = signed_in(customer, "laptop"), signed_in(customer, "phone")
    first.post(reverse("portal:session_end_all"), {"keep_current": "1"})
    assert first.get(reverse("portal:dashboard")).status_code == 200
    assert second.get(reverse("portal:dashboard")).status_code == 302


def test_user_b_cannot_end_or_see_a_session_of_user_a(customer, other_customer):
    alice, bob = signed_in(customer), signed_in(other_customer)
    alices = UserSession.objects.get(user=customer)
    assert bob.post(reverse("portal:session_end", args=[alices.pk])).status_code == 404
    assert alice.get(reverse("portal:dashboard")).status_code == 200
    assert customer.email not in bob.get(reverse("portal:sessions")).content.decode()


def test_user_b_does_not_see_login_records_of_user_a(customer, other_customer):
    signed_in(customer)
    bob = signed_in(other_customer)
    records = list(bob.get(reverse("portal:login_records")).context["page"])
    assert records and {r.user_id for r in records} == {other_customer.pk}


# --- report unauthorised use -------------------------------------------------------------------------

def test_report_unauthorised_use_end_to_end(customer, admin_client):
    alice, elsewhere = signed_in(customer, "mine"), signed_in(customer, "intruder")
    key, secret = api_keys.create_key(owner=customer, name="bot", ip=None)
    page = alice.get(reverse("portal:report_unauthorised"))
    assert page.status_code == 200
    assert alice.post(reverse("portal:report_unauthorised"), {}).status_code == 200  # confirmation required
    assert not SecurityCase.objects.exists()
    response = alice.post(reverse("portal:report_unauthorised"), {"confirm": "on", "description": "不是我"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.locked_at is not None
    case = SecurityCase.objects.get(user=customer)
    assert case.state == CaseState.OPEN and case.keys_revoked == 1 and case.sessions_ended >= 2
    assert elsewhere.get(reverse("portal:dashboard")).status_code == 302
    assert alice.get(reverse("portal:dashboard")).status_code == 302
    assert SignedAPIClient(key.key_id, secret).get("/api/v1/balance/").status_code == 401
    assert Instruction.objects.filter(action="account.report_unauthorised_use", owner=customer).exists()
    notice = Notice.objects.get(recipient=customer, event="accounts.account_locked")
    assert notice.mandatory and notice.deliveries.filter(channel="email").exists()
    # Staff unlock from the console after review.
    response = admin_client.post(reverse("admin:accounts_securitycase_changelist"), {
        "action": "unlock", "_selected_action": [case.pk], "apply": "1", "resolution": "核实为本人误操作"})
    assert response.status_code == 302
    case.refresh_from_db()
    customer.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.resolved_by is not None and customer.locked_at is None
    assert Instruction.objects.filter(action="account.unlock", channel="staff").exists()
    assert signed_in(customer).get(reverse("portal:dashboard")).status_code == 200


def test_a_session_that_outlives_the_lock_is_ended(customer):
    client = signed_in(customer)
    type(customer).objects.filter(pk=customer.pk).update(locked_at=clock.now())
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_unlock_needs_a_resolution(customer):
    case = accounts.report_unauthorised_use(user=customer, ip=None)
    with pytest.raises(accounts.AccountError):
        accounts.unlock_account(case=case, staff=None, resolution=" ")


# --- retention ---------------------------------------------------------------------------------------

def test_retention_keeps_180_days(customer, settings):
    from wuji.accounts import tasks

    settings.WUJI_LOGIN_RECORD_RETENTION_DAYS = 30  # below the floor: 180 days still apply
    now = clock.now()
    for days in (10, 179, 181, 400):
        LoginRecord.objects.create(user=customer, event=LoginEvent.LOGIN, created_at=now - dt.timedelta(days=days))
    tasks.purge_login_records.call()
    kept = sorted((now - r.created_at).days for r in LoginRecord.objects.filter(user=customer))
    assert kept == [10, 179]


def test_retention_job_is_scheduled():
    from wuji.core.scheduler import registered_jobs

    assert "accounts.purge_login_records" in {job.name for job in registered_jobs()}


# --- registration with a phone -----------------------------------------------------------------------

def register_data(**extra):
    data = {"email": "new@example.com", "password1": "Wuji-Portal-2024!", "password2": "Wuji-Portal-2024!",
            "agreement_version": agreements.current_version().version, "accept_agreement": "on"}
    data.update(extra)
    return data


def test_register_with_phone_verified_by_sms(client, catalogue):
    response = client.post(reverse("portal:register"), register_data(phone="138 0013 8000", send_code="1"))
    assert response.status_code == 200 and "验证码已发送" in response.content.decode()
    code = last_sms_code("+8613800138000")
    response = client.post(reverse("portal:register"), register_data(phone="13800138000", phone_code=code))
    assert response.status_code == 302 and response.url == reverse("portal:dashboard")
    from wuji.accounts.models import User

    assert User.objects.get(email="new@example.com").phone == "+8613800138000"


def test_register_with_wrong_phone_code_is_refused(client, catalogue):
    client.post(reverse("portal:register"), register_data(phone="13800138000", send_code="1"))
    code = last_sms_code("+8613800138000")
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(reverse("portal:register"), register_data(phone="13800138000", phone_code=wrong))
    assert response.status_code == 200 and "验证码错误" in response.content.decode()
    from wuji.accounts.models import User

    assert not User.objects.filter(email="new@example.com").exists()


def test_register_phone_without_code_is_refused(client, catalogue):
    response = client.post(reverse("portal:register"), register_data(phone="13800138000"))
    assert "请填写短信验证码" in response.content.decode()


# --- profile, contacts, security question, recovery --------------------------------------------------

def test_profile_is_edited_in_the_portal(client, customer):
    client.force_login(customer)
    response = client.post(reverse("portal:profile"), {
        "real_name": "张三", "address": "江西省赣州市章贡区", "nationality": "中国", "province": "江西",
        "city": "赣州", "time_zone": "Asia/Shanghai", "post_code": "341000", "fax": "", "homepage": "",
        "job_title": "运维"})
    assert response.status_code == 302
    assert accounts.profile_of(customer).city == "赣州"
    assert Instruction.objects.filter(action="account.profile_update").exists()


def test_email_change_needs_new_and_old_codes(client, customer, settings):
    client.force_login(customer)
    client.post(reverse("portal:step_up"), {"operation": "contact_change", "factor": "password",
                                            "secret": testing.PASSWORD, "verify": "1", "next": "/"})
    url = reverse("portal:contact_change", args=["email"])
    client.post(url, {"start": "1", "new_address": "alice.new@example.com"})
    new_code = last_mail_code("alice.new@example.com")
    old_code = last_mail_code(customer.email)
    response = client.post(url, {"confirm": "1", "new_address": "alice.new@example.com", "new_code": new_code,
                                 "old_code": "000000" if old_code != "000000" else "111111"})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.email == "alice@example.com"
    settings.WUJI_OTP_ADDRESS_LIMITS = [(100, 60)]
    client.post(url, {"start": "1", "new_address": "alice.new@example.com"})
    new_code, old_code = last_mail_code("alice.new@example.com"), last_mail_code("alice@example.com")
    response = client.post(url, {"confirm": "1", "new_address": "alice.new@example.com", "new_code": new_code,
                                 "old_code": old_code})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "alice.new@example.com"
    assert Instruction.objects.get(action="account.email_change").params["factor"] == "password"


def test_contact_change_needs_step_up(client, customer):
    client.force_login(customer)
    response = client.get(reverse("portal:contact_change", args=["phone"]))
    assert response.url.startswith(reverse("portal:step_up"))


def test_security_answer_is_stored_hashed_and_recovery_needs_code_and_answer(client, catalogue, settings):
    settings.WUJI_OTP_ADDRESS_LIMITS = [(100, 60)]
    user = customer_with_phone("q@example.com", "13500135000")
    accounts.set_security_question(user=user, question="我的小学？", answer="  Hong Qi  ", ip=None)
    row = SecurityQuestion.objects.get(user=user)
    assert "hong" not in row.answer_hash.lower() and accounts.check_security_answer(user, "hong qi")
    client.post(reverse("portal:recover"), {"start": "1", "identifier": "13500135000"})
    code = last_sms_code("+8613500135000")
    response = client.post(reverse("portal:recover"), {"recover": "1", "identifier": "13500135000", "code": code,
                                                       "answer": "wrong", "new_password": "Brand-New-Pass-99"})
    assert "密保答案不正确" in response.content.decode()
    client.post(reverse("portal:recover"), {"start": "1", "identifier": "13500135000"})
    code = last_sms_code("+8613500135000")
    response = client.post(reverse("portal:recover"), {"recover": "1", "identifier": "13500135000", "code": code,
                                                       "answer": "HONG QI", "new_password": "Brand-New-Pass-99"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-New-Pass-99")


def test_security_pages_need_login(client, catalogue):
    for name in ("portal:security", "portal:profile", "portal:sessions", "portal:login_records",
                 "portal:report_unauthorised", "portal:security_question"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("account_login")), name


def test_security_overview_renders(client, customer):
    client.force_login(customer)
    page = client.get(reverse("portal:security"))
    assert page.status_code == 200 and "两步验证" in page.content.decode()
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("socialaccount_connections")).status_code == 200


def test_sessions_cleanup_when_session_store_row_missing(customer):
    signed_in(customer)
    Session.objects.all().delete()
    assert accounts.sessions_of(customer) == []


def test_only_providers_with_credentials_are_offered(rf, settings, db):
    from allauth.socialaccount.adapter import get_adapter

    request = rf.get("/")
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert get_adapter(request).list_providers(request) == []
    settings.SOCIALACCOUNT_PROVIDERS = {"qq": {"APPS": [{"client_id": "101", "secret": "s"}]},
                                        "weixin": {"APPS": [{"client_id": "wx1", "secret": "s"}]}}
    assert {p.id for p in get_adapter(request).list_providers(request)} == {"qq", "weixin"}
