"""Chinese is the default; English is chosen by Accept-Language, by the language cookie or the switch."""

from django.conf import settings
from django.urls import reverse

from wuji.core import testing

from .conftest import act, buy_server, messages_of, order_data


def test_chinese_by_default(alice_client):
    html = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert 'lang="zh-Hans"' in html
    assert "钱包" in html and "现金余额" in html and "指令记录" in html


def test_english_from_accept_language(alice_client):
    html = alice_client.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="en"' in html
    for text in ("Wallet", "Servers", "Instruction log", "API keys", "Cash balance", "Buy a server", "Log out"):
        assert text in html, text
    assert "钱包" not in html and "现金余额" not in html


def test_english_from_the_language_cookie(client, catalogue):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("portal:register")).content.decode()
    assert "I have read and agree to" in html and "Wuji Cloud User Service Agreement" in html
    home = client.get(reverse("portal:home")).content.decode()
    assert "China East (Ganzhou)" in home and "Starter 1 vCPU 1 GiB" in home


def test_language_switch_sets_the_cookie_and_returns(client, catalogue):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:buy")})
    assert response.status_code == 302 and response.url == reverse("portal:buy")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = client.get(reverse("portal:home")).content.decode()
    assert "Sign up" in home


def test_refusals_in_english(client, catalogue):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    poor = testing.make_customer("poor@example.com", balance_fen=10_00)
    client.force_login(poor)
    response = client.post(reverse("portal:buy_confirm"), order_data(catalogue))
    assert "Insufficient balance: 19.00 yuan more is needed; please top up first." in response.content.decode()
    response = client.post(reverse("portal:wallet"), {"amount": "1.234"})
    assert response.status_code == 404  # the sandbox is off by default: no top-up form at all


def test_operation_refusal_in_english(client, customer, catalogue):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(customer)
    server = buy_server(client, catalogue)
    act(client, server, "reboot")
    response = act(client, server, "stop")
    message = messages_of(client.get(response.url))[-1]
    assert message == "An operation is already in progress on this server (Rebooting); please wait until it finishes."
    page = client.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert "Running" in page and "Rebooting" in page


def test_topup_form_errors_in_english(client, customer, sandbox):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(customer)
    response = client.post(reverse("portal:wallet"), {"amount": "abc"})
    assert "Enter a valid amount in yuan, with at most two decimal places." in response.content.decode()


def test_registration_errors_in_english(client, catalogue):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("portal:register"), {"email": "x@example.com", "password1": "Long-enough-99",
                                                        "password2": "Long-enough-99", "agreement_version": "old"})
    assert "Please read and tick your agreement to the Wuji Cloud User Service Agreement." in response.content.decode()
    response = client.post(reverse("portal:register"), {"email": "x@example.com", "password1": "Long-enough-99",
                                                        "password2": "Long-enough-99", "agreement_version": "old",
                                                        "accept_agreement": "on"})
    assert "Please read and accept the current version of the user agreement." in response.content.decode()
