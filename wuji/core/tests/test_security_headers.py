"""Every response carries a Content Security Policy without inline script, frame protection and a
Permissions-Policy; CSRF protects forms (issue 8, decision 0040)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from wuji.core import testing

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.parametrize(("url", "status"), [("/", 200), ("/register/", 200), ("/accounts/login/", 200),
                                             ("/api/v1/servers/", 401), ("/no-such-page/", 404)])
def test_every_response_forbids_inline_script_and_framing(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    policy = directives(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'", "ws://127.0.0.1:6080"]  # the console's WebSocket
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_logged_in_portal_has_no_inline_script(client, customer):
    client.login(email=customer.email, password=testing.PASSWORD)
    for name in ("portal:dashboard", "portal:servers", "portal:wallet", "portal:security"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        html = response.content.decode()
        inline = [tag for tag in re.findall(r"<script\b[^>]*>", html)
                  if "src=" not in tag and "application/json" not in tag]
        assert inline == [], f"{name} has inline script {inline}"
        assert not re.search(r"\son[a-z]+=\"", html), f"{name} has an inline event handler"
        assert directives(response)["script-src"] == ["'self'"]


def test_only_the_staff_console_allows_inline_styles(admin_client):
    response = admin_client.get("/console/")
    assert response.status_code == 200
    assert directives(response)["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives(response)["script-src"] == ["'self'"]


def test_forms_are_csrf_protected(customer):
    strict = Client(enforce_csrf_checks=True)
    strict.login(email=customer.email, password=testing.PASSWORD)
    response = strict.post(reverse("portal:wallet"), {"amount": "10"})
    assert response.status_code == 403
