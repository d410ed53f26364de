"""The public IP in the portal and the API (owner boundary, no query per row) and in the console."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from wuji.api import services as api_keys
from wuji.api.scopes import Scope
from wuji.api.testing import SignedAPIClient
from wuji.audit.models import Instruction
from wuji.compute.tests.test_operations import active_server
from wuji.network import services as network
from wuji.network.models import IpAllocation, IpPool
from wuji.notifications.models import Notice


@pytest.fixture
def pool(catalogue):
    return network.save_pool(IpPool(name="gz-1", region=catalogue["region"], cidr="203.0.113.0/28",
                                    gateway="203.0.113.1"), actor=None, channel="staff")


def api_client(user) -> APIClient:
    key, secret = api_keys.create_key(owner=user, name="tests", ip="127.0.0.1", scopes=Scope.values)
    return SignedAPIClient(key.key_id, secret, REMOTE_ADDR="127.0.0.1")


@pytest.fixture
def staff_client(client, db):
    staff = get_user_model().objects.create_superuser(email="ops@example.com", password="Correct-Horse-42")
    client.force_login(staff)
    client.staff = staff
    return client


def test_portal_shows_the_owner_its_ip_and_others_get_404(client, customer, other_customer, catalogue, pool):
    server = active_server(customer, catalogue)
    client.force_login(customer)
    page = client.get(f"/servers/{server.pk}/")
    assert page.status_code == 200 and "203.0.113.2" in page.content.decode()
    client.force_login(other_customer)
    assert client.get(f"/servers/{server.pk}/").status_code == 404
    assert "203.0.113.2" not in client.get("/servers/").content.decode()


def test_portal_says_none_without_a_public_ip(client, customer, catalogue):
    server = active_server(customer, catalogue)  # no pool in the region
    client.force_login(customer)
    assert "203.0.113" not in client.get(f"/servers/{server.pk}/").content.decode()


def test_api_gives_the_owner_its_ip_and_others_nothing(customer, other_customer, catalogue, pool):
    server = active_server(customer, catalogue)
    mine = api_client(customer)
    assert mine.get(f"/api/v1/servers/{server.pk}/").json()["public_ip"] == "203.0.113.2"
    assert mine.get("/api/v1/servers/").json()["results"][0]["public_ip"] == "203.0.113.2"
    theirs = api_client(other_customer)
    assert theirs.get(f"/api/v1/servers/{server.pk}/").status_code == 404
    assert theirs.get("/api/v1/servers/").json()["results"] == []


def test_api_list_costs_no_query_per_server(customer, catalogue, pool):
    api = api_client(customer)
    active_server(customer, catalogue, key="a")

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/servers/").status_code == 200
        return len(captured.captured_queries)

    count()  # the key's first use writes its last-used time once
    one = count()
    active_server(customer, catalogue, key="b")
    active_server(customer, catalogue, key="c")
    assert [row["public_ip"] for row in api.get("/api/v1/servers/").json()["results"]].count(None) == 0
    assert count() == one


def test_console_refuses_an_invalid_pool_with_the_error_on_the_form(staff_client, catalogue):
    response = staff_client.post("/console/network/ippool/add/", {
        "name": "bad", "region": catalogue["region"].pk, "cidr": "203.0.113.0/24", "gateway": "198.51.100.1",
        "excluded": "", "is_enabled": "on"})
    assert response.status_code == 200 and "网关必须位于该网段内" in response.content.decode()
    assert not IpPool.objects.exists()
    response = staff_client.post("/console/network/ippool/add/", {
        "name": "good", "region": catalogue["region"].pk, "cidr": "203.0.113.0/24", "gateway": "203.0.113.1",
        "excluded": "203.0.113.2", "is_enabled": "on"})
    assert response.status_code == 302 and IpPool.objects.get().name == "good"
    assert Instruction.objects.get(action="ip_pool.create").actor == staff_client.staff


def test_console_history_is_read_only_searchable_and_changes_ip_from_an_action(staff_client, customer, catalogue,
                                                                            pool):
    server = active_server(customer, catalogue)
    allocation = IpAllocation.objects.get(server=server)
    listing = staff_client.get("/console/network/ipallocation/?q=203.0.113.2")
    assert listing.status_code == 200 and customer.email in listing.content.decode()
    assert staff_client.get("/console/network/ipallocation/add/").status_code == 403
    assert staff_client.post(f"/console/network/ipallocation/{allocation.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    url = "/console/network/ipallocation/"
    ask = staff_client.post(url, {"action": "change_ip_selected", "_selected_action": [allocation.pk]})
    assert ask.status_code == 200 and "reason" in ask.content.decode()  # the reason form first
    done = staff_client.post(url, {"action": "change_ip_selected", "_selected_action": [allocation.pk],
                                   "apply": "1", "reason": "被投诉滥用"})
    assert done.status_code == 302
    assert network.address_of(server) == "203.0.113.3"
    assert Instruction.objects.get(action="server.change_ip").actor == staff_client.staff
    assert Notice.objects.filter(recipient=customer, event="network.ip_changed").count() == 1
