"""API keys in the portal: the secret is shown once, the key works, revoking stops it."""

from django.urls import reverse

from wuji.api import services as api_keys
from wuji.api.models import ApiKey

from .conftest import step_up


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
    assert api_keys.authenticate(key.key_id, secret) == key
    assert secret not in key.secret_hash

    again = alice_client.get(reverse("portal:api_keys"))
    assert again.context["created"] is None and secret not in again.content.decode()
    assert key.key_id in again.content.decode() and "deploy bot" in again.content.decode()

    response = alice_client.post(reverse("portal:api_key_revoke", args=[key.pk]), follow=True)
    assert f"密钥 {key.key_id} 已吊销。" in response.content.decode()
    key.refresh_from_db()
    assert not key.is_active and api_keys.authenticate(key.key_id, secret) is None
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
