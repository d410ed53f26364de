import pytest
from rest_framework.test import APIClient

from wuji.api import services as api_keys

from .conftest import client_for

BALANCE = "/api/v1/balance/"


@pytest.mark.parametrize("url", [BALANCE, "/api/v1/servers/", "/api/v1/catalog/regions/", "/api/v1/instructions/"])
def test_no_key_is_401_with_the_bearer_challenge(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_valid_key_authenticates_its_owner(api, customer):
    response = api.get(BALANCE)
    assert response.status_code == 200
    assert response.json()["cash_fen"] == 100_00


def test_wrong_secret_is_401(customer):
    key, _secret = api_keys.create_key(owner=customer, name="k", ip=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.key_id}.not-the-secret")
    response = client.get(BALANCE)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("header", ["Bearer ", "Bearer no-dot-here", "Bearer .secret-only", "Bearer AKUNKNOWN.secret"])
def test_malformed_or_unknown_key_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(BALANCE).status_code == 401


def test_revoked_key_is_401(customer):
    client = client_for(customer)
    assert client.get(BALANCE).status_code == 200
    key = api_keys.keys_of(customer).get()
    api_keys.revoke_key(key=key, actor=customer, ip=None)
    response = client.get(BALANCE)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_deactivated_owner_is_401(customer):
    client = client_for(customer)
    type(customer).objects.filter(pk=customer.pk).update(is_active=False)
    assert client.get(BALANCE).status_code == 401


def test_schema_needs_no_key(db):
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/servers/{id}/reboot/" in response.content
