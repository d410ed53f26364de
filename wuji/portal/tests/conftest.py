"""Portal test helpers: the customer's journey is driven through the Django test client."""

import uuid

import pytest
from django.urls import reverse

from wuji.agreements import services as agreements
from wuji.core import testing

EMAIL = "carol@example.com"
PASSWORD = "Wuji-Portal-2024!"


@pytest.fixture
def sandbox(settings):
    settings.WUJI_SANDBOX_PAYMENTS = True


@pytest.fixture
def alice_client(client, customer):
    client.force_login(customer)
    return client


def order_data(catalogue, **overrides) -> dict:
    data = {
        "region": catalogue["region"].pk, "plan": catalogue["plan"].pk, "image": catalogue["image"].pk,
        "cycle": "monthly", "name": "web-1", "expected_amount": 2900, "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def buy_server(client, catalogue, *, run: bool = True):
    """Buy a server through the confirm form and (by default) let the worker provision it."""
    from wuji.compute.models import Server

    response = client.post(reverse("portal:buy_confirm"), order_data(catalogue))
    assert response.status_code == 302, response.content.decode()[:2000]
    server = Server.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[-1])
    if run:
        testing.run_tasks()
        server.refresh_from_db()
    return server


def act(client, server, operation: str, **extra):
    data = {"operation": operation, "idempotency_key": str(uuid.uuid4()), **extra}
    return client.post(reverse("portal:server_action", args=[server.pk]), data)


def step_up(client, operation: str, password: str = testing.PASSWORD):
    """Pass step-up verification for `operation` with the account password (clause 3.1.2)."""
    response = client.post(reverse("portal:step_up"), {"operation": operation, "factor": "password",
                                                       "secret": password, "verify": "1", "next": "/"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def register(client, **overrides):
    """Register EMAIL through the form, accepting the agreement in force, from a documentation IP."""
    data = {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD,
            "agreement_version": agreements.current_version().version, "accept_agreement": "on"}
    data.update(overrides)
    return client.post(reverse("portal:register"), data, REMOTE_ADDR="203.0.113.7")
