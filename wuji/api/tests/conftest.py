"""API test fixtures: customers with API keys and clients that send them."""

import pytest
from rest_framework.test import APIClient

from wuji.api import services as api_keys
from wuji.api.scopes import Scope
from wuji.api.testing import SignedAPIClient
from wuji.core import testing

CLIENT_IP = "203.0.113.7"


def client_for(user, scopes=tuple(Scope.values), **options) -> SignedAPIClient:
    """A client signing every request with a new key of `user` (all scopes unless told), from CLIENT_IP."""
    key, secret = api_keys.create_key(owner=user, name="tests", ip="127.0.0.1", scopes=scopes, **options)
    return SignedAPIClient(key.key_id, secret, REMOTE_ADDR=CLIENT_IP)


@pytest.fixture
def api(customer) -> APIClient:
    return client_for(customer)


@pytest.fixture
def other_api(other_customer) -> APIClient:
    return client_for(other_customer)


@pytest.fixture
def sandbox(settings):
    settings.WUJI_SANDBOX_PAYMENTS = True


def order_body(**overrides) -> dict:
    body = {"region": "cn-ganzhou", "plan": "s1", "image": "debian-12", "cycle": "monthly", "name": "web-1"}
    body.update(overrides)
    return body


def buy(client: APIClient, key: str = "order-1", **overrides):
    """POST an order with an Idempotency-Key; returns the response."""
    return client.post("/api/v1/orders/", order_body(**overrides), format="json", HTTP_IDEMPOTENCY_KEY=key)


def active_server(client: APIClient, key: str = "order-1") -> int:
    """Buy a server through the API and let the worker build it; returns its id."""
    response = buy(client, key=key)
    assert response.status_code == 201, response.json()
    testing.run_tasks()
    return response.json()["server"]
