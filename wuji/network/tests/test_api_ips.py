"""Issue 7 coverage (decision 0044): the customer's public IPs and a server's public IP card over the API, from
the same service the portal's card reads; owner boundaries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuji.compute.tests.test_operations import active_server
from wuji.core import clock, testing
from wuji.network import services as network
from wuji.network.models import IpPool

from .test_views import api_client


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


@pytest.fixture
def server(customer, catalogue):
    network.save_pool(IpPool(name="gz", region=catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1"),
                      actor=None, channel="staff")
    return active_server(customer, catalogue)


def test_server_ip_card_shows_a_bound_address_and_what_may_be_done(customer, server):
    body = api_client(customer).get(f"/api/v1/servers/{server.pk}/ip/").json()
    assert body["server"] == server.pk and (body["address"], body["state"]) == ("203.0.113.2", "bound")
    assert body["blackhole"] is None and body["last_error"] == ""
    assert (body["can_bind"], body["can_unbind"]) == (False, True)


def test_server_ip_card_shows_a_blackholes_reason_and_end(customer, server):
    hole = network.blackhole(server, reason="DDoS 攻击", actor=None, duration=dt.timedelta(hours=2))
    body = api_client(customer).get(f"/api/v1/servers/{server.pk}/ip/").json()
    assert body["state"] == "held" and body["blackhole"]["reason"] == "DDoS 攻击"
    assert dt.datetime.fromisoformat(body["blackhole"]["ends_at"]) == hole.ends_at
    assert (body["can_bind"], body["can_unbind"]) == (False, False)  # the service refuses unbinding while held


def test_server_ip_card_without_an_address(customer, server):
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    body = api_client(customer).get(f"/api/v1/servers/{server.pk}/ip/").json()
    assert (body["address"], body["state"], body["blackhole"]) == (None, None, None)
    assert (body["can_bind"], body["can_unbind"]) == (True, False)


def test_ip_list_shows_only_the_callers_addresses(customer, other_customer, catalogue, server):
    active_server(other_customer, catalogue, key="bob")
    hole = network.blackhole(server, reason="攻击", actor=None, duration=dt.timedelta(hours=2))
    body = api_client(customer).get("/api/v1/ips/").json()
    [row] = body["results"]
    assert (row["address"], row["state"], row["server"], row["region"]) == ("203.0.113.2", "held", server.pk,
                                                                            catalogue["region"].code)
    assert dt.datetime.fromisoformat(row["blackhole_until"]) == hole.ends_at
    assert [r["address"] for r in api_client(other_customer).get("/api/v1/ips/").json()["results"]] == ["203.0.113.3"]


def test_released_addresses_leave_the_list(customer, server):
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    assert api_client(customer).get("/api/v1/ips/").json()["results"] == []


def test_another_customers_server_ip_is_not_found(other_customer, server):
    response = api_client(other_customer).get(f"/api/v1/servers/{server.pk}/ip/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_ip_list_costs_the_same_queries_for_many_addresses(customer, catalogue, server):
    api = api_client(customer)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/ips/").status_code == 200
        return len(captured.captured_queries)

    api.get("/api/v1/ips/")  # the key's first use writes last_used_at
    one = count()
    for key in ("b", "c"):
        active_server(customer, catalogue, key=key)
    network.blackhole(server, reason="攻击", actor=None, duration=dt.timedelta(hours=2))
    assert len(api.get("/api/v1/ips/").json()["results"]) == 3
    assert count() == one
