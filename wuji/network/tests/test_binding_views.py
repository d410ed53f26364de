"""Bind, unbind and blackholes in the portal, the API and the console: owner boundaries, refusals, what the
customer sees."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from wuji.audit.models import Instruction
from wuji.compute.tests.test_operations import active_server, operate
from wuji.core import clock, testing
from wuji.network import services as network
from wuji.network.choices import AddressState
from wuji.network.models import Blackhole, IpAllocation, IpPool

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


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser(email="ops@example.com", password="Correct-Horse-42")


def ip_action(client, server, action: str, key: str = "2b4bb4c6-0d55-4a43-9a6e-5b0f4a1c9d01"):
    return client.post(f"/servers/{server.pk}/ip/", {"action": action, "idempotency_key": key}, follow=True)


# --- Portal ---------------------------------------------------------------------------------------------------


def test_portal_owner_unbinds_and_binds_again(client, customer, server):
    client.force_login(customer)
    page = client.get(f"/servers/{server.pk}/").content.decode()
    assert 'data-testid="server-network"' in page and 'data-ip-action="unbind"' in page
    done = ip_action(client, server, "unbind").content.decode()
    assert "指令已受理：解绑公网 IP" in done
    again = ip_action(client, server, "unbind").content.decode()  # the same form twice: carried out once
    assert "未重复执行" in again
    testing.run_tasks()
    page = client.get(f"/servers/{server.pk}/").content.decode()
    assert "该服务器没有公网 IP" in page and 'data-ip-action="bind"' in page
    ip_action(client, server, "bind", key="0f0e7c33-2c51-4c38-bb0c-3c1de3f7a0aa")
    testing.run_tasks()
    assert IpAllocation.objects.get(server=server, released_at__isnull=True).state == AddressState.BOUND
    actions = list(Instruction.objects.filter(result="accepted", channel="web").values_list("action", flat=True))
    assert {"server.unbind_ip", "server.bind_ip"} <= set(actions)


def test_portal_shows_a_refusal_and_other_owners_get_404(client, customer, other_customer, server):
    client.force_login(customer)
    operate(server, "stop")
    assert "有操作正在进行" in ip_action(client, server, "unbind").content.decode()
    client.force_login(other_customer)
    assert ip_action(client, server, "unbind").status_code == 404
    assert client.post(f"/servers/{server.pk}/ip/", {"action": "bind"}).status_code == 404
    assert not Instruction.objects.filter(action="server.unbind_ip", actor=other_customer).exists()


def test_portal_shows_the_blackhole_and_its_expected_release(client, customer, server):
    network.blackhole(server, reason="DDoS 攻击", actor=None, duration=dt.timedelta(hours=24))
    testing.run_tasks()
    client.force_login(customer)
    page = client.get(f"/servers/{server.pk}/").content.decode()
    until = clock.local_now() + dt.timedelta(hours=24)
    assert 'data-testid="blackhole"' in page and f"{until:%Y-%m-%d %H:%M}" in page and "DDoS 攻击" in page
    assert "data-ip-action" not in page  # neither bind nor unbind while held


# --- API ------------------------------------------------------------------------------------------------------


def test_api_unbind_and_bind_are_accepted_and_carried_out(customer, server):
    api = api_client(customer)
    response = api.post(f"/api/v1/servers/{server.pk}/unbind-ip/")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body == {"server": server.pk, "operation": "unbind_ip", "instruction_seq": body["instruction_seq"],
                    "address": "203.0.113.2"}
    assert Instruction.objects.get(seq=body["instruction_seq"]).channel == "api"
    testing.run_tasks()
    detail = api.get(f"/api/v1/servers/{server.pk}/").json()
    assert (detail["public_ip"], detail["public_ip_state"], detail["blackhole_until"]) == (None, None, None)
    refused = api.post(f"/api/v1/servers/{server.pk}/unbind-ip/")
    assert refused.status_code == 409 and "没有公网 IP" in refused.json()["message"]
    assert api.post(f"/api/v1/servers/{server.pk}/bind-ip/").status_code == 202
    assert api.get(f"/api/v1/servers/{server.pk}/").json()["public_ip_state"] == "pending"
    testing.run_tasks()
    assert api.get(f"/api/v1/servers/{server.pk}/").json()["public_ip_state"] == "bound"
    assert api.post(f"/api/v1/servers/{server.pk}/bind-ip/").status_code == 409


def test_api_other_owners_get_404_and_nothing_changes(other_customer, server):
    theirs = api_client(other_customer)
    for action in ("bind-ip", "unbind-ip"):
        assert theirs.post(f"/api/v1/servers/{server.pk}/{action}/").status_code == 404
    assert network.address_of(server) == "203.0.113.2"


def test_api_detail_shows_the_blackhole(customer, server):
    hole = network.blackhole(server, reason="攻击", actor=None, duration=dt.timedelta(hours=2))
    detail = api_client(customer).get(f"/api/v1/servers/{server.pk}/").json()
    assert (detail["public_ip"], detail["public_ip_state"]) == ("203.0.113.2", "held")
    assert dt.datetime.fromisoformat(detail["blackhole_until"]) == hole.ends_at
    refused = api_client(customer).post(f"/api/v1/servers/{server.pk}/unbind-ip/")
    assert refused.status_code == 409 and "黑洞封堵中" in refused.json()["message"]


# --- Console --------------------------------------------------------------------------------------------------

SERVERS = "/console/network/serveraddress/"


def test_console_blackhole_unbind_and_bind_with_reasons(client, staff, customer, server):
    client.force_login(staff)
    listing = client.get(SERVERS).content.decode()
    assert "203.0.113.2" in listing
    assert client.get(f"{SERVERS}{server.pk}/change/").status_code == 200  # read-only page
    assert client.get(f"{SERVERS}add/").status_code == 403
    ask = client.post(SERVERS, {"action": "blackhole_selected", "_selected_action": [server.pk]})
    assert ask.status_code == 200 and 'name="hours"' in ask.content.decode()
    done = client.post(SERVERS, {"action": "blackhole_selected", "_selected_action": [server.pk], "apply": "1",
                                 "reason": "DDoS", "hours": "6"})
    assert done.status_code == 302
    hole = Blackhole.objects.get()
    assert (hole.started_by, hole.ends_at - hole.started_at) == (staff, dt.timedelta(hours=6))
    testing.run_tasks()
    # Unbinding is refused while held; the console says why and moves on.
    refused = client.post(SERVERS, {"action": "unbind_selected", "_selected_action": [server.pk], "apply": "1",
                                    "reason": "x"}, follow=True)
    assert "黑洞封堵中" in refused.content.decode()
    assert "DDoS" in client.get("/console/network/blackhole/").content.decode()
    lifted = client.post("/console/network/blackhole/", {"action": "lift_selected", "_selected_action": [hole.pk],
                                                          "apply": "1", "reason": "攻击已停止"})
    assert lifted.status_code == 302
    testing.run_tasks()
    client.post(SERVERS, {"action": "unbind_selected", "_selected_action": [server.pk], "apply": "1",
                          "reason": "违规使用"})
    testing.run_tasks()
    assert network.address_of(server) is None
    client.post(SERVERS, {"action": "bind_selected", "_selected_action": [server.pk], "apply": "1",
                          "reason": "恢复"})
    testing.run_tasks()
    assert network.address_of(server) == "203.0.113.2"
    staff_actions = set(Instruction.objects.filter(actor=staff, channel="staff").values_list("action", flat=True))
    assert {"server.blackhole", "server.blackhole_lift", "server.unbind_ip", "server.bind_ip"} <= staff_actions


def test_console_finds_who_held_an_address_at_a_moment(client, staff, customer, other_customer, server):
    before = clock.local_now()
    clock.advance(dt.timedelta(days=2))
    network.unbind(server, actor=customer, channel="web")
    testing.run_tasks()
    clock.advance(dt.timedelta(days=1))
    later = active_server(other_customer, catalogue_of(server), key="later")
    client.force_login(staff)
    url = "/console/network/ipallocation/holder/"
    assert "查询某一时刻的地址持有人" in client.get("/console/network/ipallocation/").content.decode()
    then = client.get(url, {"address": "203.0.113.2", "at": f"{before + dt.timedelta(days=1):%Y-%m-%d %H:%M:%S}"})
    assert then.status_code == 200
    page = then.content.decode()
    assert page.count('data-testid="holder"') == 1 and customer.email in page and other_customer.email not in page
    soon = clock.local_now() + dt.timedelta(minutes=1)
    now = client.get(url, {"address": "203.0.113.2", "at": f"{soon:%Y-%m-%d %H:%M:%S}"}).content.decode()
    assert other_customer.email in now and str(later.uuid) in now
    bad = client.get(url, {"address": "203.0.113", "at": "yesterday"}).content.decode()
    assert "data-testid=\"holder\"" not in bad and "errorlist" in bad


def catalogue_of(server) -> dict:
    return {"region": server.region, "plan": server.plan, "image": server.image}
