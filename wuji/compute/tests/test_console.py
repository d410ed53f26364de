"""Console tokens: issued to the owner (or staff) of a running server, stored hashed, single use, 60 s."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from wuji.accounts import services as accounts
from wuji.audit.models import Instruction
from wuji.compute import console
from wuji.compute.choices import Operation, TaskState
from wuji.compute.drivers import get_driver
from wuji.compute.models import ConsoleToken, Node, Server
from wuji.compute.tasks import driver_for
from wuji.compute.validators import validate_console_address
from wuji.core import crypto, testing

from .test_operations import active_server, fake, operate


def issue(server, user=None):
    return console.issue_token(user or server.owner, server, channel="web", ip="203.0.113.9")


@pytest.fixture
def server(customer, catalogue):
    return active_server(customer, catalogue)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(email="ops@example.com", password=None, is_staff=True)


def test_the_token_is_returned_once_and_only_its_keyed_hash_is_stored(server):
    issued = issue(server)
    grant = ConsoleToken.objects.get()
    assert len(issued.token) >= 40
    assert grant.digest == crypto.keyed_hash(issued.token, "console-token") != issued.token
    stored = [str(value) for value in ConsoleToken.objects.values_list().get()]
    assert not any(issued.token in value for value in stored)
    assert (grant.user, grant.server, grant.used_at) == (server.owner, server, None)
    assert grant.expires_at - grant.created_at == dt.timedelta(seconds=60) and issued.expires_at == grant.expires_at
    assert issued.url == f"ws://127.0.0.1:6080/?token={issued.token}"
    instruction = Instruction.objects.get(action="server.console")
    assert (instruction.actor, instruction.channel, instruction.ip, instruction.result, instruction.target_id) == (
        server.owner, "web", "203.0.113.9", "accepted", str(server.pk))
    assert issued.token not in str(instruction.params) + instruction.detail


def test_a_token_opens_the_console_once(server):
    issued = issue(server)
    target = console.redeem(issued.token)
    info = fake().get_console(str(server.uuid))
    assert (target.server_id, target.host, target.port) == (server.pk, "127.0.0.1", info.port)
    assert ConsoleToken.objects.get().used_at is not None
    outcome = Instruction.objects.get(action="server.console", result="succeeded")
    assert outcome.refers_to.result == "accepted"
    with pytest.raises(console.ConsoleRefused, match="已使用过") as refused:
        console.redeem(issued.token)
    assert refused.value.code == "used"


def test_a_token_expires_after_60_seconds(server):
    issued = issue(server)
    with time_machine.travel(issued.expires_at - dt.timedelta(seconds=1), tick=False):
        kept = issue(server)  # the same instant: still valid 59 s after the first
    with time_machine.travel(issued.expires_at, tick=False):
        with pytest.raises(console.ConsoleRefused, match="已过期") as refused:
            console.redeem(issued.token)
        assert refused.value.code == "expired"
        assert console.redeem(kept.token).server_id == server.pk
    assert ConsoleToken.objects.filter(used_at__isnull=True).count() == 1  # the expired one was not consumed


def test_an_unknown_token_is_refused(server):
    issue(server)
    with pytest.raises(console.ConsoleRefused, match="无效") as refused:
        console.redeem("not-a-token")
    assert refused.value.code == "invalid"


def test_another_customer_gets_no_token(server, other_customer):
    with pytest.raises(Server.DoesNotExist):
        issue(server, other_customer)
    assert not ConsoleToken.objects.exists() and not Instruction.objects.filter(action="server.console").exists()


def test_staff_may_open_any_console(server, staff):
    issued = issue(server, staff)
    instruction = Instruction.objects.get(action="server.console")
    assert (instruction.actor, instruction.owner) == (staff, server.owner)
    assert console.redeem(issued.token).server_id == server.pk


def test_a_token_of_a_server_pushed_away_since_is_refused(server, other_customer):
    issued = issue(server)
    Server.objects.filter(pk=server.pk).update(owner=other_customer)  # as a push would, within the 60 s
    with pytest.raises(console.ConsoleRefused) as refused:
        console.redeem(issued.token)
    assert refused.value.code == "invalid"
    assert Instruction.objects.get(action="server.console", result="failed").detail == str(refused.value)


def test_no_console_for_a_stopped_server(server):
    operate(server, Operation.STOP)
    testing.run_tasks()
    with pytest.raises(console.ConsoleRefused, match="运行中时") as refused:
        issue(server)
    assert refused.value.code == "not_running"
    assert Instruction.objects.get(action="server.console").result == "refused"
    assert not ConsoleToken.objects.exists()


def test_no_console_while_an_operation_is_in_flight(server):
    operate(server, Operation.REBOOT)
    with pytest.raises(console.ConsoleRefused, match="正在进行") as refused:
        issue(server)
    assert refused.value.code == "busy"
    assert Server.objects.get(pk=server.pk).task_state == TaskState.REBOOTING


def test_a_token_of_a_server_stopped_since_is_refused(server):
    issued = issue(server)
    operate(server, Operation.STOP)
    testing.run_tasks()
    with pytest.raises(console.ConsoleRefused, match="运行中时"):
        console.redeem(issued.token)


def test_no_console_on_a_node_without_consoles(server):
    node = Node.objects.create(name="test-node", region=server.region, uri="test:///default", vcpus=8,
                               memory_mib=8192, disk_gib=100)
    Server.objects.filter(pk=server.pk).update(node=node)
    with pytest.raises(console.ConsoleRefused, match="不提供") as refused:
        issue(server)
    assert refused.value.code == "unsupported"


def test_an_unreachable_node_refuses_the_redemption_cleanly(server):
    issued = issue(server)
    fake().set_reachable(False)
    with pytest.raises(console.ConsoleRefused, match="暂时无法连接") as refused:
        console.redeem(issued.token)
    assert refused.value.code == "unavailable"
    assert Instruction.objects.filter(action="server.console", result="failed").exists()


def test_issuing_purges_tokens_long_expired(server):
    old = issue(server)
    with time_machine.travel(old.expires_at + console.PURGE_AFTER + dt.timedelta(seconds=1), tick=False):
        issue(server)
    assert ConsoleToken.objects.count() == 1
    with pytest.raises(console.ConsoleRefused) as refused:
        console.redeem(old.token)
    assert refused.value.code == "invalid"


@pytest.mark.parametrize(("uri", "listen", "expected"), [
    ("qemu:///system", "127.0.0.1", "127.0.0.1"),
    ("qemu:///system", "0.0.0.0", "127.0.0.1"),
    ("qemu+ssh://root@node7.internal/system", "::", "node7.internal"),
    ("qemu+tls://node8.internal/system", "10.0.0.8", "10.0.0.8"),
])
def test_the_display_address_the_proxy_dials(uri, listen, expected):
    assert console.reachable_host(uri, listen) == expected


# --- issue 5: remotevnc — the node's console address, the staff console ------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.10", "::1", "fd12:3456::1"])
def test_a_node_console_address_on_a_management_network_is_accepted(address):
    validate_console_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "203.0.113.9", "172.32.0.1", "0.0.0.0", "::", "2400:3200::1"])
def test_a_public_or_wildcard_console_address_is_refused(catalogue, address):
    node = Node(name="remote", region=catalogue["region"], uri="qemu+ssh://root@node1/system", vcpus=8,
                memory_mib=8192, disk_gib=100, console_address=address)
    with pytest.raises(ValidationError, match="不得暴露在公网上") as refused:
        node.full_clean()
    assert set(refused.value.message_dict) == {"console_address"}


def test_the_node_settings_reach_the_driver(catalogue):
    node = Node.objects.get(uri=testing.FAKE_NODE_URI)
    node.console_address = "10.0.0.7"
    assert driver_for(node) is get_driver(node.uri, node.virt_type, node.storage_pool, "10.0.0.7")
    assert driver_for(node) is not get_driver(node.uri, node.virt_type, node.storage_pool)


@pytest.fixture
def staff_client(client, catalogue):
    accounts.create_staff(email="root@example.com", password=testing.PASSWORD)
    client.login(email="root@example.com", password=testing.PASSWORD)
    return client


def staff_console_url(server) -> str:
    return reverse("admin:compute_server_console", args=[server.pk])


def test_staff_open_a_customers_console_from_the_admin_with_a_reason(server, staff_client):
    change_page = staff_client.get(reverse("admin:compute_server_change", args=[server.pk]))
    assert staff_console_url(server).encode() in change_page.content
    page = staff_client.get(staff_console_url(server))
    assert page.status_code == 200 and b'name="reason"' in page.content and not ConsoleToken.objects.exists()
    assert staff_client.post(staff_console_url(server)).status_code == 200  # no reason: nothing issued
    assert not ConsoleToken.objects.exists()
    page = staff_client.post(staff_console_url(server), {"reason": "客户工单 #42：系统无法启动"})
    grant = ConsoleToken.objects.select_related("user", "instruction").get()
    assert grant.user.email == "root@example.com" and grant.server == server
    assert (grant.instruction.channel, grant.instruction.owner, grant.instruction.params) == (
        "staff", server.owner, {"reason": "客户工单 #42：系统无法启动"})
    assert page.context["issued"].url.encode() in page.content
    assert page.headers["Cache-Control"].startswith("max-age=0")  # the page carries a token
    assert console.redeem(page.context["issued"].token).server_id == server.pk


def test_a_refused_staff_console_returns_to_the_server(server, staff_client):
    operate(server, Operation.STOP)
    testing.run_tasks()
    response = staff_client.post(staff_console_url(server), {"reason": "检查"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:compute_server_change", args=[server.pk])
    assert "运行中时" in response.content.decode() and not ConsoleToken.objects.exists()
    assert Instruction.objects.get(action="server.console").params == {"reason": "检查"}


def test_the_staff_console_is_for_staff_only(server, client, other_customer):
    client.force_login(other_customer)
    for response in (client.get(staff_console_url(server)), client.post(staff_console_url(server), {"reason": "x"})):
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    clerk = get_user_model().objects.create_user(email="clerk@example.com", password=None, is_staff=True)
    client.force_login(clerk)  # staff without the permission to view servers
    assert client.post(staff_console_url(server), {"reason": "x"}).status_code == 403
    assert not ConsoleToken.objects.exists() and not Instruction.objects.filter(action="server.console").exists()


def test_the_portal_console_stays_owner_only_for_staff(server, staff_client):
    response = staff_client.post(reverse("portal:server_console", args=[server.pk]))
    assert response.status_code == 404 and not ConsoleToken.objects.exists()
