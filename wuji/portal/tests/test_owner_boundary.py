"""Everyone sees only their own: user B gets 404 for each of user A's objects and changes nothing."""

import uuid

import pytest
from django.urls import reverse

from wuji.api import services as api_keys
from wuji.audit.models import Instruction
from wuji.compute.choices import TaskState
from wuji.payments import services as payments

from .conftest import buy_server


@pytest.fixture
def alices_things(client, customer, catalogue, settings):
    settings.WUJI_SANDBOX_PAYMENTS = True
    client.force_login(customer)
    server = buy_server(client, catalogue)
    topup = payments.create_topup(customer=customer, amount_fen=1000, channel="sandbox", ip=None)
    key, _secret = api_keys.create_key(owner=customer, name="alice-ci", ip=None)
    client.logout()
    return {"server": server, "topup": topup, "key": key}


def test_bob_gets_404_on_each_of_alices_objects(client, other_customer, alices_things):
    server, topup, key = alices_things["server"], alices_things["topup"], alices_things["key"]
    client.force_login(other_customer)
    before = Instruction.objects.count()

    assert client.get(reverse("portal:server", args=[server.pk])).status_code == 404
    for operation in ("start", "stop", "reboot", "reboot_hard", "reinstall", "reset_password"):
        response = client.post(reverse("portal:server_action", args=[server.pk]),
                               {"operation": operation, "idempotency_key": str(uuid.uuid4()), "image": server.image_id})
        assert response.status_code == 404, operation
    for method in ("get", "post"):  # issue 5: console
        assert getattr(client, method)(reverse("portal:server_console", args=[server.pk])).status_code == 404
    for action in ("bind", "unbind"):  # issue 5: network
        response = client.post(reverse("portal:server_ip_action", args=[server.pk]),
                               {"action": action, "idempotency_key": str(uuid.uuid4())})
        assert response.status_code == 404, action
    pay = reverse("portal:sandbox_pay", args=[topup.out_trade_no])
    assert client.get(pay).status_code == 404
    assert client.post(pay).status_code == 404
    assert client.post(reverse("portal:api_key_revoke", args=[key.pk])).status_code == 404

    server.refresh_from_db()
    key.refresh_from_db()
    topup.refresh_from_db()
    assert server.task_state == TaskState.NONE and key.is_active and topup.status == "pending"
    assert Instruction.objects.count() == before


def test_bob_lists_show_none_of_alices(client, other_customer, alices_things):
    server, key = alices_things["server"], alices_things["key"]
    client.force_login(other_customer)
    assert client.get(reverse("portal:servers")).context["servers"] == []
    assert server.name not in client.get(reverse("portal:dashboard")).content.decode()
    assert key.key_id not in client.get(reverse("portal:api_keys")).content.decode()
    wallet = client.get(reverse("portal:wallet"))
    assert list(wallet.context["topups"]) == [] and alices_things["topup"].out_trade_no not in wallet.content.decode()
    log = client.get(reverse("portal:instructions"))
    assert {i.owner_id for i in log.context["page"].object_list} == {other_customer.pk}
    export = client.get(reverse("portal:instructions_csv")).content.decode("utf-8-sig")
    assert "order.place" not in export and "apikey.create" not in export


def test_alice_still_reaches_her_own(client, customer, alices_things):
    client.force_login(customer)
    assert client.get(reverse("portal:server", args=[alices_things["server"].pk])).status_code == 200
    assert client.get(reverse("portal:sandbox_pay", args=[alices_things["topup"].out_trade_no])).status_code == 200


def test_anonymous_is_sent_to_login_for_each_object(client, alices_things):
    server, topup, key = alices_things["server"], alices_things["topup"], alices_things["key"]
    for method, url in [("get", reverse("portal:server", args=[server.pk])),
                        ("post", reverse("portal:server_action", args=[server.pk])),
                        ("get", reverse("portal:sandbox_pay", args=[topup.out_trade_no])),
                        ("post", reverse("portal:api_key_revoke", args=[key.pk]))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith(reverse("account_login")), url
