"""The console page and the server page's 「远程控制台」 button: owner only, a token per POST, no inline script."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from wuji.compute import console
from wuji.compute.models import ConsoleToken
from wuji.core import testing

from .conftest import act, buy_server


@pytest.fixture
def server(alice_client, catalogue):
    return buy_server(alice_client, catalogue)


def console_url(server) -> str:
    return reverse("portal:server_console", args=[server.pk])


def test_the_server_page_offers_the_console_while_running(alice_client, server):
    page = alice_client.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert 'data-testid="open-console"' in page and console_url(server) in page
    act(alice_client, server, "stop")
    testing.run_tasks()
    page = alice_client.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert 'data-testid="open-console"' not in page


def test_opening_the_page_issues_nothing_until_asked(alice_client, server):
    response = alice_client.get(console_url(server))
    assert response.status_code == 200
    assert 'data-testid="connect-console"' in response.content.decode()
    assert "console.js" not in response.content.decode()
    assert not ConsoleToken.objects.exists()


def test_posting_issues_a_token_into_the_noVNC_screen(alice_client, server):
    response = alice_client.post(console_url(server), REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    page = response.content.decode()
    url = re.search(r'data-url="(ws://127\.0\.0\.1:6080/\?token=[^"]+)"', page).group(1)
    assert console.redeem(url.split("token=")[1]).server_id == server.pk
    assert 'type="module"' in page and "portal/console.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script (CSP)
    assert "no-store" in response["Cache-Control"]  # the page carries a token


def test_another_customer_gets_404_and_no_token(client, server, other_customer):
    client.force_login(other_customer)
    assert client.get(console_url(server)).status_code == 404
    assert client.post(console_url(server)).status_code == 404
    assert not ConsoleToken.objects.exists()


def test_a_refusal_returns_to_the_server_page_with_the_reason(alice_client, server):
    act(alice_client, server, "stop")
    testing.run_tasks()
    response = alice_client.post(console_url(server), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:server", args=[server.pk])
    assert "服务器运行中时才能打开远程控制台。" in response.content.decode()
    assert not ConsoleToken.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(server):
    response = Client().post(console_url(server))
    assert response.status_code == 302 and "login" in response.url
