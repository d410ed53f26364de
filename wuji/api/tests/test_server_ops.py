"""API: reset password, reinstall with an SSH key, and the error shown when an operation fails."""

from wuji.audit.models import Instruction
from wuji.compute.drivers import get_driver
from wuji.compute.models import Server
from wuji.compute.tests.keys import ED25519, ED25519_FINGERPRINT
from wuji.core import testing

from .conftest import active_server
from .test_servers import SERVERS, act


def guest(server_id: int):
    return get_driver(testing.FAKE_NODE_URI).world.instances[str(Server.objects.get(pk=server_id).uuid)]


def test_reset_password_returns_the_new_password_once_and_sets_it(api):
    server_id = active_server(api)
    response = act(api, server_id, "reset-password")
    assert response.status_code == 202, response.json()
    body = response.json()
    password = body.pop("root_password")
    assert body == {"server": server_id, "operation": "reset_password", "instruction_seq": body["instruction_seq"]}
    assert api.get(f"{SERVERS}{server_id}/").json()["task_state"] == "resetting_password"
    testing.run_tasks()
    server = api.get(f"{SERVERS}{server_id}/").json()
    assert (server["task_state"], server["last_error"]) == ("", "")
    assert guest(server_id).passwords == {"root": password}
    assert password not in str(server)
    assert password not in str(api.get("/api/v1/instructions/").json())


def test_reset_password_of_a_stopped_server_is_409_and_recorded(api):
    server_id = active_server(api)
    act(api, server_id, "stop")
    testing.run_tasks()
    response = act(api, server_id, "reset-password")
    assert response.status_code == 409
    assert response.json()["code"] == "operation_refused" and "不允许" in response.json()["message"]
    refused = Instruction.objects.get(action="server.reset_password")
    assert (refused.result, refused.channel) == ("refused", "api")


def test_failed_reset_password_shows_the_error_on_the_server_and_in_the_instruction_log(api):
    server_id = active_server(api)
    guest(server_id).guest_agent = False
    seq = act(api, server_id, "reset-password").json()["instruction_seq"]
    testing.run_tasks()
    server = api.get(f"{SERVERS}{server_id}/").json()
    assert (server["task_state"], server["vm_state"], server["power_state"]) == ("", "active", "running")
    assert "qemu-guest-agent" in server["last_error"]
    log = api.get("/api/v1/instructions/").json()["results"]
    outcome = next(item for item in log if item["refers_to"] == seq)
    assert (outcome["result"], outcome["detail"]) == ("failed", server["last_error"])


def test_reinstall_with_an_ssh_key_only(api):
    server_id = active_server(api)
    response = act(api, server_id, "reinstall", {"image": "tiny-linux", "ssh_key": ED25519, "root_password": False})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert "root_password" not in body and body["ssh_key_fingerprint"] == ED25519_FINGERPRINT
    instruction = Instruction.objects.get(seq=body["instruction_seq"])
    assert instruction.params["ssh_key_fingerprint"] == ED25519_FINGERPRINT
    assert "AAAAC3Nz" not in str(instruction.params)
    testing.run_tasks()
    assert guest(server_id).spec.ssh_keys == (ED25519,) and guest(server_id).spec.root_password is None


def test_reinstall_with_an_invalid_ssh_key_is_400_on_the_field(api):
    server_id = active_server(api)
    response = act(api, server_id, "reinstall", {"image": "tiny-linux", "ssh_key": "ssh-ed25519 AAAA%%%"})
    assert response.status_code == 400
    assert response.json()["field"] == "ssh_key" and "无法解码" in response.json()["message"]
    assert api.get(f"{SERVERS}{server_id}/").json()["task_state"] == ""


def test_reinstall_without_password_and_without_key_is_409(api):
    server_id = active_server(api)
    response = act(api, server_id, "reinstall", {"image": "tiny-linux", "root_password": False})
    assert response.status_code == 409 and "无法登录" in response.json()["message"]
    assert api.get(f"{SERVERS}{server_id}/").json()["task_state"] == ""
