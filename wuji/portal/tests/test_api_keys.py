"""API keys in the portal: scopes, IP allow-list and expiry chosen at creation; the secret is shown once, the
key signs requests, revoking stops it."""

import datetime as dt

import pytest
from django.urls import reverse

from wuji.api import services as api_keys
from wuji.api.models import ApiKey
from wuji.api.testing import SignedAPIClient
from wuji.core import clock, crypto

from .conftest import step_up

BALANCE = "/api/v1/balance/"


def works(key_id: str, secret: str, remote_addr: str = "127.0.0.1") -> bool:
    return SignedAPIClient(key_id, secret, REMOTE_ADDR=remote_addr).get(BALANCE).status_code == 200


def test_create_shows_the_secret_once_then_revoke(alice_client, customer):
    step_up(alice_client, "api_key_create")
    response = alice_client.post(reverse("portal:api_keys"), {"name": "deploy bot"})
    assert response.status_code == 302 and response.url == reverse("portal:api_keys")
    key = ApiKey.objects.get(owner=customer)
    page = alice_client.get(response.url)
    created = page.context["created"]
    assert created["key_id"] == key.key_id and created["name"] == "deploy bot"
    secret = created["secret"]
    assert secret in page.content.decode()
    assert works(key.key_id, secret)
    assert secret not in key.secret_encrypted and crypto.decrypt(key.secret_encrypted) == secret
    assert key.scopes == [] and key.allowed_ips == [] and key.expires_at is None  # read-only by default

    again = alice_client.get(reverse("portal:api_keys"))
    assert again.context["created"] is None and secret not in again.content.decode()
    assert key.key_id in again.content.decode() and "deploy bot" in again.content.decode()

    response = alice_client.post(reverse("portal:api_key_revoke", args=[key.pk]), follow=True)
    assert f"密钥 {key.key_id} 已吊销。" in response.content.decode()
    key.refresh_from_db()
    assert not key.is_active and not works(key.key_id, secret)
    assert "已吊销" in response.content.decode()


def test_key_needs_a_name(alice_client, customer):
    step_up(alice_client, "api_key_create")
    response = alice_client.post(reverse("portal:api_keys"), {"name": "   "})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert not ApiKey.objects.exists()


def test_too_many_keys_is_a_form_error(alice_client, customer):
    step_up(alice_client, "api_key_create")
    for i in range(api_keys.MAX_ACTIVE_KEYS):
        api_keys.create_key(owner=customer, name=f"k{i}", ip=None)
    response = alice_client.post(reverse("portal:api_keys"), {"name": "one more"})
    assert "最多可同时拥有 10 个有效密钥。" in str(response.context["form"].errors["name"])


def test_revoke_is_post_only(alice_client, customer):
    key, _ = api_keys.create_key(owner=customer, name="k", ip=None)
    assert alice_client.get(reverse("portal:api_key_revoke", args=[key.pk])).status_code == 405


def test_create_with_scopes_ip_allow_list_and_expiry(alice_client, customer):
    step_up(alice_client, "api_key_create")
    tomorrow = clock.local_now().date() + dt.timedelta(days=1)
    response = alice_client.post(reverse("portal:api_keys"), {
        "name": "ops", "scopes": ["servers", "billing"], "allowed_ips": "198.51.100.0/24\n2001:db8::/32, 127.0.0.1",
        "expires_at": tomorrow.isoformat()})
    assert response.status_code == 302
    key = ApiKey.objects.get(owner=customer)
    assert key.scopes == ["billing", "servers"]
    assert key.allowed_ips == ["198.51.100.0/24", "2001:db8::/32", "127.0.0.1/32"]
    assert key.expires_at == dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(), tzinfo=clock.SHANGHAI)
    secret = alice_client.get(reverse("portal:api_keys")).context["created"]["secret"]
    assert works(key.key_id, secret) and not works(key.key_id, secret, remote_addr="203.0.113.7")

    page = alice_client.get(reverse("portal:api_keys")).content.decode()
    assert "服务器" in page and "费用与财务" in page and "2001:db8::/32" in page and "198.51.100.0/24" in page
    assert key.expires_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") in page
    assert secret not in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"allowed_ips": "10.0.0.0/33"}, "allowed_ips", "不是有效的 IP 地址或网段"),
    ({"allowed_ips": "203.0.113.7/24"}, "allowed_ips", "主机位须为 0"),
    ({"allowed_ips": "not-an-ip"}, "allowed_ips", "不是有效的 IP 地址或网段"),
    ({"expires_at": "2020-01-01"}, "expires_at", "到期时间须晚于当前时间"),
    ({"scopes": ["root"]}, "scopes", ""),
])
def test_bad_choices_are_field_errors(alice_client, customer, data, field, message):
    step_up(alice_client, "api_key_create")
    response = alice_client.post(reverse("portal:api_keys"), {"name": "k", **data})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not ApiKey.objects.exists()


def test_the_service_refuses_what_the_form_would_not_catch(customer):
    with pytest.raises(api_keys.ApiKeyError) as refused:
        api_keys.create_key(owner=customer, name="k", ip=None, scopes=["servers", "root"])
    assert refused.value.field == "scopes"
    with pytest.raises(api_keys.ApiKeyError) as refused:
        api_keys.create_key(owner=customer, name="k", ip=None, expires_at=clock.now())
    assert refused.value.field == "expires_at"
    with pytest.raises(api_keys.ApiKeyError) as refused:
        api_keys.create_key(owner=customer, name="k", ip=None,
                            allowed_ips=[f"192.0.2.{i}" for i in range(api_keys.MAX_ALLOWED_NETWORKS + 1)])
    assert refused.value.field == "allowed_ips"
    assert not ApiKey.objects.exists()


def test_creation_is_recorded_with_its_limits(alice_client, customer):
    from wuji.audit.models import Instruction

    step_up(alice_client, "api_key_create")
    alice_client.post(reverse("portal:api_keys"), {"name": "ro", "allowed_ips": "192.0.2.0/24"})
    params = Instruction.objects.get(action="apikey.create", owner=customer).params
    assert params["scopes"] == [] and params["allowed_ips"] == ["192.0.2.0/24"] and params["expires_at"] is None


def test_legacy_and_expired_keys_are_marked(alice_client, customer):
    legacy, _ = api_keys.create_key(owner=customer, name="old", ip=None)
    expired, _ = api_keys.create_key(owner=customer, name="gone", ip=None)
    ApiKey.objects.filter(pk=legacy.pk).update(secret_encrypted="")
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=clock.now() - dt.timedelta(days=1))
    page = alice_client.get(reverse("portal:api_keys")).content.decode()
    assert "需更换" in page and "已过期" in page
