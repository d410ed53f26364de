"""Sign-in with e-mail or mainland mobile; refusals (wrong password, too many failures, locked account,
wrong TOTP); every event leaves a login record."""

import pytest
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.accounts.choices import LoginEvent, LoginResult
from wuji.accounts.security_models import LoginRecord
from wuji.core import testing

from .helpers import customer_with_phone, enable_totp, totp

LOGIN = "account_login"


def post_login(client, login, password=testing.PASSWORD, **extra):
    return client.post(reverse(LOGIN), {"login": login, "password": password}, REMOTE_ADDR="198.51.100.9",
                       HTTP_USER_AGENT="pytest-browser/1.0", REMOTE_PORT="51234", **extra)


def test_login_with_email_writes_a_record(client, customer):
    response = post_login(client, customer.email)
    assert response.status_code == 302 and response.url == reverse("portal:dashboard")
    record = LoginRecord.objects.get(user=customer, event=LoginEvent.LOGIN)
    assert (record.result, record.ip, record.port, record.user_agent) == (
        LoginResult.SUCCESS, "198.51.100.9", 51234, "pytest-browser/1.0")
    assert record.detail == "password"


@pytest.mark.parametrize("typed", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000"])
def test_login_with_mainland_mobile_in_any_usual_form(client, catalogue, typed):
    user = customer_with_phone("phone@example.com", "13800138000")
    assert user.phone == "+8613800138000"
    response = post_login(client, typed)
    assert response.status_code == 302 and response.url == reverse("portal:dashboard"), response.content.decode()
    assert LoginRecord.objects.filter(user=user, event=LoginEvent.LOGIN).count() == 1


def test_wrong_password_is_refused_and_recorded(client, customer):
    response = post_login(client, customer.email, "wrong-password-1")
    assert response.status_code == 200 and "邮箱/手机号或密码不正确" in response.content.decode()
    record = LoginRecord.objects.get(event=LoginEvent.FAILED)
    assert (record.user, record.identifier, record.result) == (customer, customer.email,
                                                               LoginResult.WRONG_CREDENTIALS)
    assert "_auth_user_id" not in client.session


def test_unknown_account_failure_is_recorded_without_a_user(client, catalogue):
    post_login(client, "nobody@example.com", "whatever-123")
    record = LoginRecord.objects.get(event=LoginEvent.FAILED)
    assert record.user is None and record.identifier == "nobody@example.com"


def test_too_many_failures_per_account_blocks_even_the_right_password(client, customer, settings):
    settings.WUJI_LOGIN_FAILURE_LIMITS = {"account": (3, 900), "ip": (100, 900)}
    for _ in range(3):
        post_login(client, customer.email, "wrong-password-1")
    response = post_login(client, customer.email)
    assert response.status_code == 200 and "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginRecord.objects.filter(user=customer, result=LoginResult.RATE_LIMITED).count() == 1


def test_too_many_failures_per_ip_blocks_other_accounts(client, customer, other_customer, settings):
    settings.WUJI_LOGIN_FAILURE_LIMITS = {"account": (100, 900), "ip": (3, 900)}
    for n in range(3):
        post_login(client, f"guess{n}@example.com", "wrong-password-1")
    response = post_login(client, other_customer.email)
    assert "登录失败次数过多" in response.content.decode() and "_auth_user_id" not in client.session


def test_locked_account_cannot_log_in(client, customer):
    accounts.report_unauthorised_use(user=customer, ip="192.0.2.1")
    response = post_login(client, customer.email)
    assert response.status_code == 200 and "该账户已因报告未授权使用而锁定" in response.content.decode()
    assert LoginRecord.objects.filter(user=customer, result=LoginResult.LOCKED).exists()
    # With the wrong password the lock is not revealed.
    response = post_login(client, customer.email, "wrong-password-1")
    assert "锁定" not in response.content.decode()


def test_logout_ends_the_session_on_the_server_and_is_recorded(client, customer):
    from django.contrib.sessions.models import Session

    post_login(client, customer.email)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("portal:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert LoginRecord.objects.filter(user=customer, event=LoginEvent.LOGOUT).exists()


def test_login_with_totp_and_wrong_totp_refused(client, customer):
    secret = enable_totp(customer)
    response = post_login(client, customer.email)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    wrong = "000000" if totp(secret) != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert LoginRecord.objects.filter(user=customer, event=LoginEvent.FAILED,
                                      result=LoginResult.WRONG_FACTOR).exists()
    response = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(customer.pk)
    login = LoginRecord.objects.get(user=customer, event=LoginEvent.LOGIN)
    assert login.detail == "password+totp"
    assert LoginRecord.objects.filter(user=customer, event=LoginEvent.MFA_VERIFIED).exists()


def test_password_change_is_recorded(client, customer):
    client.force_login(customer)
    response = client.post(reverse("account_change_password"), {
        "oldpassword": testing.PASSWORD, "password1": "Another-Secret-77", "password2": "Another-Secret-77"})
    assert response.status_code == 302
    assert LoginRecord.objects.filter(user=customer, event=LoginEvent.PASSWORD_CHANGE).exists()


def test_login_records_page_shows_only_my_records(client, customer, other_customer):
    post_login(client, other_customer.email, "wrong-password-1")
    post_login(client, customer.email)
    page = client.get(reverse("portal:login_records"))
    rows = list(page.context["page"])
    assert rows and all(r.user == customer for r in rows)
    assert other_customer.email not in page.content.decode()
