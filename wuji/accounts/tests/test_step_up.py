"""Step-up verification (clause 3.1.2): refused without it; password, TOTP or SMS code authorise the
operation and the instruction records which factor did."""

import time

import pytest
from django.urls import reverse

from wuji.accounts import otp
from wuji.api import services as api_keys
from wuji.api.models import ApiKey
from wuji.audit.models import Instruction
from wuji.core import testing
from wuji.portal.tests.conftest import act, buy_server

from .helpers import customer_with_phone, enable_totp, last_sms_code, totp


@pytest.fixture
def alice_client(client, customer):
    client.force_login(customer)
    return client


def verify(client, operation, factor, secret):
    return client.post(reverse("portal:step_up"), {"operation": operation, "factor": factor, "secret": secret,
                                                   "verify": "1", "next": "/servers/"})


def test_reinstall_without_step_up_is_sent_to_verification(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    response = act(alice_client, server, "reinstall", image=catalogue["other_image"].pk)
    assert response.status_code == 302 and response.url.startswith(reverse("portal:step_up"))
    assert "operation=reinstall" in response.url
    assert not Instruction.objects.filter(action="server.reinstall").exists()


def test_reinstall_after_password_records_the_factor(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    assert verify(alice_client, "reinstall", "password", testing.PASSWORD).url == "/servers/"
    act(alice_client, server, "reinstall", image=catalogue["other_image"].pk)
    assert Instruction.objects.get(action="server.reinstall").params["factor"] == "password"


def test_wrong_password_is_refused(alice_client, catalogue):
    response = verify(alice_client, "reinstall", "password", "not-my-password")
    assert response.status_code == 200 and "密码不正确" in response.content.decode()


def test_step_up_expires_after_the_window(alice_client, catalogue, settings):
    import time_machine

    server = buy_server(alice_client, catalogue)
    verify(alice_client, "reinstall", "password", testing.PASSWORD)
    with time_machine.travel(time.time() + 11 * 60, tick=False):
        response = act(alice_client, server, "reinstall", image=catalogue["other_image"].pk)
    assert response.url.startswith(reverse("portal:step_up"))


def test_totp_authorises_and_wrong_totp_is_refused(alice_client, customer, catalogue):
    secret = enable_totp(customer)
    server = buy_server(alice_client, catalogue)
    wrong = "000000" if totp(secret) != "000000" else "111111"
    assert "验证码不正确" in verify(alice_client, "reinstall", "totp", wrong).content.decode()
    assert verify(alice_client, "reinstall", "totp", totp(secret)).status_code == 302
    act(alice_client, server, "reinstall", image=catalogue["other_image"].pk)
    assert Instruction.objects.get(action="server.reinstall").params["factor"] == "totp"


def test_sms_code_authorises_api_key_creation_and_wrong_code_is_refused(client, catalogue, settings):
    settings.WUJI_OTP_ADDRESS_LIMITS = [(100, 60)]
    user = customer_with_phone("sms@example.com", "13900139000")
    client.force_login(user)
    response = client.post(reverse("portal:api_keys"), {"name": "ci"})
    assert response.url.startswith(reverse("portal:step_up")) and not ApiKey.objects.exists()
    client.post(reverse("portal:step_up"), {"operation": "api_key_create", "send": "sms", "next": "/api-keys/"})
    code = last_sms_code(user.phone)
    wrong = "000000" if code != "000000" else "111111"
    response = verify(client, "api_key_create", "sms", wrong)
    assert response.status_code == 200 and "验证码错误" in response.content.decode()
    assert verify(client, "api_key_create", "sms", code).status_code == 302
    client.post(reverse("portal:api_keys"), {"name": "ci"})
    key = ApiKey.objects.get(owner=user)
    assert Instruction.objects.get(action="apikey.create", target_id=str(key.pk)).params["factor"] == "sms"


def test_expired_sms_code_is_refused(client, catalogue, settings):
    settings.WUJI_OTP_ADDRESS_LIMITS = [(100, 60)]
    import time_machine

    user = customer_with_phone("late@example.com", "13700137000")
    client.force_login(user)
    client.post(reverse("portal:step_up"), {"operation": "reinstall", "send": "sms", "next": "/"})
    code = last_sms_code(user.phone)
    with time_machine.travel(time.time() + 6 * 60, tick=False):
        response = verify(client, "reinstall", "sms", code)
    assert response.status_code == 200 and "验证码已过期" in response.content.decode()


def test_password_is_not_enough_for_a_withdrawal(alice_client, customer):
    response = verify(alice_client, "withdrawal", "password", testing.PASSWORD)
    assert response.status_code == 200 and "该验证方式不可用" in response.content.decode()


def test_step_up_off_for_an_operation(rf, customer, settings):
    from wuji.accounts import services as accounts

    settings.WUJI_STEP_UP = {**settings.WUJI_STEP_UP, "reinstall": None}
    request = rf.get("/")
    request.user = customer
    assert accounts.require_step_up(request, "reinstall") == "none"


def test_api_cannot_create_keys(customer):
    with pytest.raises(api_keys.ApiKeyError):
        api_keys.create_key(owner=customer, name="from-api", ip=None, channel="api")
    assert not ApiKey.objects.exists()


def test_code_send_is_rate_limited(client, catalogue):
    user = customer_with_phone("limit@example.com", "13600136000")
    client.force_login(user)
    client.post(reverse("portal:step_up"), {"operation": "reinstall", "send": "sms", "next": "/"})
    response = client.post(reverse("portal:step_up"), {"operation": "reinstall", "send": "sms", "next": "/"})
    assert "验证码发送过于频繁" in response.content.decode()
    assert otp  # the limits themselves are tested with the OTP service
