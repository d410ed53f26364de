"""Server push through the API and the portal: step-up, idempotency, owner boundaries (someone else's push or
server is 404), and the console's read-only list."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from wuji.accounts.tests.helpers import enable_totp, totp
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.compute import push as pushes
from wuji.compute.choices import PushState
from wuji.compute.models import ServerPush
from wuji.core import testing
from wuji.payments.tests.helpers import staff

from .test_operations import active_server
from .test_push import set_fee

PUSHES = "/api/v1/pushes/"


@pytest.fixture
def server(customer, catalogue):
    return active_server(customer, catalogue)


@pytest.fixture
def intruder(catalogue):
    return testing.make_customer("eve@example.com", balance_fen=100_00)


def offered(server, receiver="bob@example.com"):
    return pushes.offer(server=server, receiver_login=receiver, actor=server.owner, channel="web", ip=None,
                        idempotency_key=str(uuid.uuid4()))


# --- API ----------------------------------------------------------------------------------------------------------


def test_api_offer_and_accept_need_step_up_and_an_idempotency_key(server, customer, other_customer):
    api, other_api = client_for(customer), client_for(other_customer)
    body = {"server": server.pk, "receiver": "bob@example.com"}
    assert api.post(PUSHES, body, format="json", HTTP_IDEMPOTENCY_KEY="").json()["code"] == "idempotency_key_required"
    denied = api.post(PUSHES, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert denied.status_code == 403 and denied.json()["code"] == "step_up_required"
    body["step_up_totp"] = totp(enable_totp(customer))
    created = api.post(PUSHES, body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["direction"], data["state"], data["server"]) == ("outgoing", "offered", server.pk)
    assert Instruction.objects.get(action="server.push_offer", result="accepted").params["factor"] == "totp"
    incoming = other_api.get(PUSHES, {"direction": "incoming"}).json()["results"]
    assert [p["id"] for p in incoming] == [data["id"]] and incoming[0]["sender"] != customer.email
    accept_url = f"{PUSHES}{data['id']}/accept/"
    assert other_api.post(accept_url, {}, format="json", HTTP_IDEMPOTENCY_KEY="a-1").status_code == 403
    code = {"step_up_totp": totp(enable_totp(other_customer))}
    accepted = other_api.post(accept_url, code, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert other_api.get(f"/api/v1/servers/{server.pk}/").status_code == 200
    assert api.get(f"/api/v1/servers/{server.pk}/").status_code == 404


def test_api_refusals_name_their_code(server, customer, settings):
    settings.WUJI_STEP_UP = {**settings.WUJI_STEP_UP, "server_push": {}}
    api = client_for(customer)
    unknown = api.post(PUSHES, {"server": server.pk, "receiver": "nobody@example.com"}, format="json",
                       HTTP_IDEMPOTENCY_KEY="p-1")
    assert unknown.status_code == 400 and (unknown.json()["code"], unknown.json()["field"]) == (
        "receiver_unknown", "receiver")


def test_api_owner_boundaries(server, customer, other_customer, intruder, settings):
    settings.WUJI_STEP_UP = {**settings.WUJI_STEP_UP, "server_push": {}}
    push = offered(server)
    eve, bob, alice = client_for(intruder), client_for(other_customer), client_for(customer)
    # Someone else's server cannot be offered; someone else's push is not found.
    steal = eve.post(PUSHES, {"server": server.pk, "receiver": "eve@example.com"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="x")
    assert steal.status_code == 400 and steal.json()["code"] == "not_found"
    assert eve.get(f"{PUSHES}{push.pk}/").status_code == 404
    for verb in ("accept", "decline", "cancel"):
        assert eve.post(f"{PUSHES}{push.pk}/{verb}/", {}, format="json",
                        HTTP_IDEMPOTENCY_KEY=f"x-{verb}").status_code == 404
    # The sender cannot accept its own offer; the receiver cannot withdraw it.
    assert alice.post(f"{PUSHES}{push.pk}/accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x").status_code == 404
    assert bob.post(f"{PUSHES}{push.pk}/cancel/", format="json").status_code == 404
    assert eve.get(PUSHES).json()["results"] == []
    declined = bob.post(f"{PUSHES}{push.pk}/decline/", format="json")
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    push.refresh_from_db()
    assert push.state == PushState.DECLINED


# --- Portal -------------------------------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_portal_offer_from_the_server_page_then_accept_after_step_up(server, customer, other_customer):
    alice, bob = signed_in(customer), signed_in(other_customer)
    page = alice.get(reverse("portal:server", args=[server.pk])).content.decode()
    assert "转让（Push）" in page and 'data-testid="push-offer"' in page
    form = {"receiver": "bob@example.com", "idempotency_key": str(uuid.uuid4())}
    response = alice.post(reverse("portal:push_offer", args=[server.pk]), form)
    assert response.status_code == 302 and response.url.startswith(reverse("portal:step_up"))
    assert not ServerPush.objects.exists()
    form["step_up_totp"] = totp(enable_totp(customer))
    response = alice.post(reverse("portal:push_offer", args=[server.pk]), form)
    assert response.url == reverse("portal:pushes")
    push = ServerPush.objects.get()
    assert 'data-testid="push-cancel"' in alice.get(reverse("portal:server", args=[server.pk])).content.decode()
    listing = bob.get(reverse("portal:pushes")).content.decode()
    assert server.name in listing and 'data-testid="push-accept"' in listing and customer.email not in listing
    response = bob.post(reverse("portal:push_accept", args=[push.pk]))
    assert response.url.startswith(reverse("portal:step_up"))  # acceptance needs step-up, like reinstall
    response = bob.post(reverse("portal:push_accept", args=[push.pk]),
                        {"step_up_totp": totp(enable_totp(other_customer))})
    assert response.url == reverse("portal:server", args=[server.pk])
    assert bob.get(response.url).status_code == 200
    assert alice.get(reverse("portal:server", args=[server.pk])).status_code == 404


def test_portal_server_page_shows_the_catalogue_push_fee(server, customer):
    alice, url = signed_in(customer), reverse("portal:server", args=[server.pk])
    assert "转让手续费" not in alice.get(url).content.decode()  # the demo catalogue: free
    set_fee(5_00)
    assert "转让手续费 ¥5.00" in alice.get(url).content.decode()


def test_portal_refusal_is_shown_and_owner_boundaries_hold(server, customer, other_customer, intruder, settings):
    settings.WUJI_STEP_UP = {**settings.WUJI_STEP_UP, "server_push": {}}
    alice, eve = signed_in(customer), signed_in(intruder)
    response = alice.post(reverse("portal:push_offer", args=[server.pk]),
                          {"receiver": "alice@example.com", "idempotency_key": str(uuid.uuid4())}, follow=True)
    assert "不能把服务器转让给自己" in response.content.decode()
    assert eve.post(reverse("portal:push_offer", args=[server.pk]),
                    {"receiver": "eve@example.com", "idempotency_key": str(uuid.uuid4())}).status_code == 404
    push = offered(server)
    for name in ("portal:push_accept", "portal:push_decline", "portal:push_cancel"):
        assert eve.post(reverse(name, args=[push.pk])).status_code == 404
    assert alice.post(reverse("portal:push_accept", args=[push.pk])).status_code == 404
    assert signed_in(other_customer).post(reverse("portal:push_cancel", args=[push.pk])).status_code == 404
    response = alice.post(reverse("portal:push_cancel", args=[push.pk]), follow=True)
    assert "已撤回该转让" in response.content.decode()
    push.refresh_from_db()
    assert push.state == PushState.CANCELLED


# --- Console ------------------------------------------------------------------------------------------------------


def test_console_lists_pushes_read_only(server, other_customer):
    push = offered(server)
    admin = staff("ops@wuji.test")
    admin.is_superuser = True
    admin.save()
    client = signed_in(admin)
    listing = client.get(reverse("admin:compute_serverpush_changelist"))
    assert listing.status_code == 200 and server.name in listing.content.decode()
    assert client.get(reverse("admin:compute_serverpush_add")).status_code == 403
    change = client.get(reverse("admin:compute_serverpush_change", args=[push.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
