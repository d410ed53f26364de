"""Portal: reset password (step-up, shown once), reinstall with an SSH key, and the error after a failure."""

from django.urls import reverse

from wuji.audit.models import Instruction
from wuji.compute.choices import TaskState, VmState
from wuji.compute.drivers import get_driver
from wuji.compute.tests.keys import ED25519, ED25519_FINGERPRINT
from wuji.core import testing

from .conftest import act, buy_server, messages_of, step_up


def guest(server):
    return get_driver(testing.FAKE_NODE_URI).world.instances[str(server.uuid)]


def server_page(client, server):
    return client.get(reverse("portal:server", args=[server.pk]))


def test_reset_password_button_only_for_a_running_idle_server(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    page = server_page(alice_client, server)
    assert page.context["can_reset_password"] and 'data-operation="reset_password"' in page.content.decode()
    act(alice_client, server, "stop")
    testing.run_tasks()
    page = server_page(alice_client, server)
    assert not page.context["can_reset_password"]
    assert 'data-operation="reset_password"' not in page.content.decode()


def test_reset_password_needs_step_up_first(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    response = act(alice_client, server, "reset_password")
    assert response.status_code == 302 and response.url.startswith(reverse("portal:step_up"))
    assert "operation=reset_password" in response.url
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE
    assert not Instruction.objects.filter(action="server.reset_password").exists()


def test_reset_password_shows_the_new_password_once_and_sets_it(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    server_page(alice_client, server)  # the initial password, consumed
    step_up(alice_client, "reset_password")
    act(alice_client, server, "reset_password")
    page = server_page(alice_client, server)
    password = page.context["root_password"]
    assert password and password in page.content.decode()
    assert server_page(alice_client, server).context["root_password"] is None
    instruction = Instruction.objects.get(action="server.reset_password")
    assert instruction.params == {"operation": "reset_password", "factor": "password"}
    testing.run_tasks()
    assert guest(server).passwords == {"root": password}
    listing = alice_client.get(reverse("portal:instructions")).content.decode()
    assert "重置密码" in listing and password not in listing


def test_failed_reset_password_shows_the_error_and_the_failed_outcome(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    guest(server).guest_agent = False
    step_up(alice_client, "reset_password")
    act(alice_client, server, "reset_password")
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.task_state, server.vm_state) == (TaskState.NONE, VmState.ACTIVE)
    page = server_page(alice_client, server).content.decode()
    assert "最近一次错误" in page and "qemu-guest-agent" in page
    listing = alice_client.get(reverse("portal:instructions")).content.decode()
    assert "qemu-guest-agent" in listing and "失败" in listing


def test_reinstall_with_only_an_ssh_key_shows_no_password(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    server_page(alice_client, server)
    step_up(alice_client, "reinstall")
    act(alice_client, server, "reinstall", image=catalogue["other_image"].pk, ssh_key=ED25519, key_only="on")
    assert server_page(alice_client, server).context["root_password"] is None
    instruction = Instruction.objects.get(action="server.reinstall")
    assert instruction.params["ssh_key_fingerprint"] == ED25519_FINGERPRINT
    assert instruction.params["new_root_password"] is False
    testing.run_tasks()
    assert guest(server).spec.ssh_keys == (ED25519,)


def test_reinstall_with_an_invalid_key_is_refused_with_the_reason(alice_client, catalogue):
    server = buy_server(alice_client, catalogue)
    step_up(alice_client, "reinstall")
    response = act(alice_client, server, "reinstall", image=catalogue["image"].pk, ssh_key="ssh-dss AAAAB3Nz")
    assert any("不支持的 SSH 公钥类型" in m for m in messages_of(alice_client.get(response.url)))
    server.refresh_from_db()
    assert server.task_state == TaskState.NONE
    assert not Instruction.objects.filter(action="server.reinstall").exists()
