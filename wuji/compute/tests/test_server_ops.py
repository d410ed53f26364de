"""Reset password, reinstall with an SSH key, stop with ACPI then force, and the error the customer reads."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wuji.audit.models import Instruction
from wuji.compute import services as compute
from wuji.compute import ssh_keys, tasks
from wuji.compute.choices import Operation, PowerState, TaskState, VmState
from wuji.compute.drivers.base import DriverError, GuestAgentUnavailable, InstanceNotFound, NodeUnreachable
from wuji.compute.models import Server
from wuji.core import clock, testing

from .keys import ECDSA, ECDSA_FINGERPRINT, ED25519, ED25519_FINGERPRINT
from .test_operations import active_server, fake, operate


def rsa_key(bits: int) -> str:
    public = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def instance(server):
    return fake().world.instances[str(server.uuid)]


# --- reset password (重置密码) ----------------------------------------------------------------------


def test_reset_password_sets_a_new_root_password_through_the_guest_agent(customer, catalogue):
    server = active_server(customer, catalogue)
    instruction, password = operate(server, Operation.RESET_PASSWORD, factor="password")
    assert password and len(password) == 16
    assert instruction.params == {"operation": "reset_password", "factor": "password"}
    server.refresh_from_db()
    assert server.task_state == TaskState.RESETTING_PASSWORD
    boots = instance(server).boots
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.task_state, server.vm_state, server.last_error) == ("", VmState.ACTIVE, "")
    assert instance(server).passwords == {"root": password}
    assert instance(server).boots == boots  # no reboot
    assert instruction.outcomes.get().result == "succeeded"
    assert not Instruction.objects.filter(params__icontains=password).exists()


def test_reset_password_without_guest_agent_fails_honestly_and_leaves_the_server_running(customer, catalogue):
    server = active_server(customer, catalogue)
    instance(server).guest_agent = False
    instruction, _password = operate(server, Operation.RESET_PASSWORD)
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.task_state, server.vm_state, server.power_state) == ("", VmState.ACTIVE, PowerState.RUNNING)
    assert "qemu-guest-agent" in server.last_error and "密码未修改" in server.last_error
    assert instance(server).passwords == {}
    outcome = instruction.outcomes.get()
    assert outcome.result == "failed" and "qemu-guest-agent" in outcome.detail
    # The next success clears the error.
    instance(server).guest_agent = True
    operate(server, Operation.RESET_PASSWORD)
    testing.run_tasks()
    server.refresh_from_db()
    assert server.last_error == "" and "root" in instance(server).passwords


@pytest.mark.parametrize("prepare", ["stopped", "in_flight", "suspended"])
def test_reset_password_is_refused_unless_running_and_idle(customer, catalogue, prepare):
    server = active_server(customer, catalogue)
    if prepare == "stopped":
        operate(server, Operation.STOP)
        testing.run_tasks()
    elif prepare == "in_flight":
        operate(server, Operation.REBOOT)
    else:
        assert compute.suspend(server, reason="abuse", actor=None, channel="system")
        testing.run_tasks()
    with pytest.raises(compute.OperationRefused, match="正在进行" if prepare == "in_flight" else "不允许"):
        operate(server, Operation.RESET_PASSWORD)
    refused = Instruction.objects.get(action="server.reset_password")
    assert refused.result == "refused" and refused.detail
    assert instance(server).passwords == {}


def test_reset_password_takes_no_ssh_key(customer, catalogue):
    server = active_server(customer, catalogue)
    with pytest.raises(compute.OperationRefused, match="SSH"):
        operate(server, Operation.RESET_PASSWORD, ssh_key=ED25519)
    Server.objects.get(pk=server.pk, task_state="")
    assert not Instruction.objects.filter(action="server.reset_password").exists()


# --- reinstall with an SSH key -------------------------------------------------------------------------


@pytest.mark.parametrize("new_password", [True, False])
def test_reinstall_installs_the_key_and_logs_only_its_fingerprint(customer, catalogue, new_password):
    server = active_server(customer, catalogue)
    instruction, password = operate(server, Operation.REINSTALL, image=catalogue["other_image"],
                                    ssh_key=f"  {ED25519}\n", new_password=new_password)
    assert bool(password) is new_password
    assert instruction.params == {"operation": "reinstall", "image": catalogue["other_image"].code,
                                  "ssh_key_fingerprint": ED25519_FINGERPRINT, "new_root_password": new_password}
    assert "AAAAC3Nz" not in str(instruction.params)
    testing.run_tasks()
    server.refresh_from_db()
    spec = instance(server).spec
    assert spec.ssh_keys == (ED25519,) and spec.root_password == password
    assert (server.vm_state, server.image) == (VmState.ACTIVE, catalogue["other_image"])


def test_reinstall_without_password_needs_a_key(customer, catalogue):
    server = active_server(customer, catalogue)
    with pytest.raises(compute.OperationRefused, match="无法登录"):
        operate(server, Operation.REINSTALL, image=catalogue["image"], new_password=False)
    server.refresh_from_db()
    assert server.task_state == ""


@pytest.mark.parametrize(("text", "reason"), [
    ("", "请粘贴"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "不支持"),
    ("ssh-ed25519 not*base64!", "无法解码"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDrNThGtLHY4OSrNWk7tGE3oBNP+A0kbhruakxBH9O", "无法解码"),  # cut short
    (ECDSA.replace("ecdsa-sha2-nistp256", "ssh-ed25519", 1), "不符"),
    ("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA -----END OPENSSH PRIVATE KEY-----", "私钥"),
    (ED25519 + " " + "x" * 300, "注释过长"),
    ("ssh-ed25519 " + "A" * ssh_keys.MAX_LINE_CHARS, "过长"),
])
def test_unacceptable_keys_are_refused_with_the_reason(text, reason):
    with pytest.raises(ssh_keys.InvalidKey, match=reason):
        ssh_keys.parse(text)


def test_acceptable_keys_and_their_fingerprints():
    assert ssh_keys.parse(ECDSA).fingerprint == ECDSA_FINGERPRINT
    assert ssh_keys.parse(ED25519).key_type == "ssh-ed25519"
    assert ssh_keys.parse(rsa_key(2048)).key_type == "ssh-rsa"
    with pytest.raises(ssh_keys.InvalidKey, match="2048"):
        ssh_keys.parse(rsa_key(1024))


def test_reinstall_with_an_invalid_key_changes_nothing(customer, catalogue):
    server = active_server(customer, catalogue)
    with pytest.raises(compute.OperationRefused, match="无法解码"):
        operate(server, Operation.REINSTALL, image=catalogue["image"], ssh_key="ssh-ed25519 AAAA%%%")
    server.refresh_from_db()
    assert server.task_state == "" and not Instruction.objects.filter(action="server.reinstall").exists()


# --- stop: ACPI, then force after WUJI_STOP_TIMEOUT_SECONDS ------------------------------------------------


@pytest.mark.parametrize(("ignores_acpi", "how"), [(False, "acpi"), (True, "forced")])
def test_stop_asks_the_guest_then_forces_it_off_after_the_stop_timeout(customer, catalogue, settings,
                                                                       ignores_acpi, how):
    settings.WUJI_STOP_TIMEOUT_SECONDS = 7.5
    server = active_server(customer, catalogue)
    instance(server).ignores_acpi = ignores_acpi
    operate(server, Operation.STOP)
    testing.run_tasks()
    server.refresh_from_db()
    assert (server.vm_state, server.power_state, server.last_error) == (VmState.STOPPED, PowerState.SHUTDOWN, "")
    assert instance(server).last_power_off == (how, 7.5)


# --- what the customer reads when an operation fails --------------------------------------------------------


@pytest.mark.parametrize(("error", "shown"), [
    (NodeUnreachable(detail="qemu+ssh://node-7: connection refused"), "宿主机暂时无法连接"),
    (InstanceNotFound(detail="Domain not found: no domain with matching uuid"), "找不到该服务器"),
    (GuestAgentUnavailable(detail="Guest agent is not responding: not connected"), "qemu-guest-agent"),
    (DriverError(detail="internal error: qemu unexpectedly closed the monitor"), "宿主机执行操作失败"),
    (DriverError("虚拟化平台繁忙，请稍后重试"), "虚拟化平台繁忙"),
])
def test_failed_operation_shows_a_customer_message_never_the_hypervisor_detail(customer, catalogue, error, shown):
    server = active_server(customer, catalogue)
    instruction, _ = operate(server, Operation.REBOOT_HARD)
    fake().fail_next("reboot", error)
    testing.run_tasks()
    server.refresh_from_db()
    assert shown in server.last_error
    assert not error.detail or error.detail not in server.last_error
    assert server.task_state == "" and server.vm_state == VmState.ACTIVE
    assert instruction.outcomes.get().detail == server.last_error


def test_an_interrupted_password_reset_is_recovered_with_a_message_for_the_customer(customer, catalogue):
    server = active_server(customer, catalogue)
    instruction, _ = operate(server, Operation.RESET_PASSWORD)
    Server.objects.filter(pk=server.pk).update(task_state_changed_at=clock.now() - dt.timedelta(hours=1))
    assert tasks.reconcile.call()["recovered"] == 1
    server.refresh_from_db()
    assert (server.task_state, server.vm_state) == ("", VmState.ACTIVE)
    assert "操作超时" in server.last_error and instruction.outcomes.get().result == "failed"
