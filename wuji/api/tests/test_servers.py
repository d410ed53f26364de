import pytest

from wuji.audit.models import Instruction
from wuji.core import testing

from .conftest import active_server, buy

SERVERS = "/api/v1/servers/"


def act(client, server_id: int, action: str, body: dict | None = None):
    return client.post(f"{SERVERS}{server_id}/{action}/", body or {}, format="json")


def test_server_detail_and_list(api):
    server_id = buy(api).json()["server"]
    building = api.get(f"{SERVERS}{server_id}/").json()
    assert (building["vm_state"], building["task_state"], building["power_state"]) == ("building", "spawning",
                                                                                        "nostate")
    testing.run_tasks()
    server = api.get(f"{SERVERS}{server_id}/").json()
    assert set(server) == {"id", "uuid", "name", "region", "plan", "image", "vcpus", "memory_mib", "disk_gib",
                           "vm_state", "task_state", "power_state", "suspension_reason", "last_error", "created_at",
                           "expires_at", "public_ip", "public_ip_state", "blackhole_until"}
    assert (server["name"], server["region"], server["plan"], server["image"]) == ("web-1", "cn-ganzhou", "s1",
                                                                                  "debian-12")
    assert (server["vcpus"], server["memory_mib"], server["disk_gib"]) == (1, 1024, 20)
    assert (server["vm_state"], server["task_state"], server["power_state"]) == ("active", "", "running")
    assert api.get(SERVERS).json()["results"] == [server]


@pytest.mark.parametrize(("body", "operation"), [({}, "reboot"), ({"hard": False}, "reboot"),
                                                 ({"hard": True}, "reboot_hard")])
def test_reboot_is_accepted_recorded_and_carried_out(api, customer, body, operation):
    server_id = active_server(api)
    response = act(api, server_id, "reboot", body)
    assert response.status_code == 202, response.json()
    accepted = response.json()
    assert accepted == {"server": server_id, "operation": operation, "instruction_seq": accepted["instruction_seq"]}
    instruction = Instruction.objects.get(seq=accepted["instruction_seq"])
    assert (instruction.action, instruction.channel, instruction.ip, instruction.owner) == (
        f"server.{operation}", "api", "203.0.113.7", customer)
    assert api.get(f"{SERVERS}{server_id}/").json()["task_state"] in ("rebooting", "rebooting_hard")

    testing.run_tasks()
    assert api.get(f"{SERVERS}{server_id}/").json()["task_state"] == ""
    assert instruction.outcomes.get().result == "succeeded"


def test_stop_then_start(api):
    server_id = active_server(api)
    assert act(api, server_id, "stop").status_code == 202
    testing.run_tasks()
    assert api.get(f"{SERVERS}{server_id}/").json()["vm_state"] == "stopped"
    assert act(api, server_id, "start").status_code == 202
    testing.run_tasks()
    assert api.get(f"{SERVERS}{server_id}/").json()["vm_state"] == "active"


def test_reinstall_shows_the_new_password_once_and_changes_the_image(api):
    server_id = active_server(api)
    response = act(api, server_id, "reinstall", {"image": "tiny-linux"})
    assert response.status_code == 202, response.json()
    password = response.json()["root_password"]
    assert len(password) == 16
    instruction = Instruction.objects.get(seq=response.json()["instruction_seq"])
    assert instruction.params == {"operation": "reinstall", "image": "tiny-linux", "factor": "api_key"}
    testing.run_tasks()
    server = api.get(f"{SERVERS}{server_id}/").json()
    assert (server["image"], server["vm_state"]) == ("tiny-linux", "active")
    assert password not in str(server)


@pytest.mark.parametrize("body", [{}, {"image": "windows-95"}])
def test_reinstall_needs_an_available_image(api, body):
    server_id = active_server(api)
    response = act(api, server_id, "reinstall", body)
    assert response.status_code == 400
    assert response.json()["field"] == "image"
    assert api.get(f"{SERVERS}{server_id}/").json()["task_state"] == ""


def test_second_operation_while_one_is_in_flight_is_409_and_recorded_as_refused(api):
    server_id = active_server(api)
    assert act(api, server_id, "reboot").status_code == 202
    response = act(api, server_id, "stop")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "operation_refused"
    assert "正在进行" in body["message"]
    refused = Instruction.objects.get(action="server.stop")
    assert (refused.result, refused.channel) == ("refused", "api")


def test_operation_not_allowed_in_the_current_state_is_409(api):
    server_id = buy(api).json()["server"]  # still building
    response = act(api, server_id, "reboot")
    assert response.status_code == 409
    assert response.json()["code"] == "operation_refused"


def test_start_of_a_running_server_is_409(api):
    server_id = active_server(api)
    response = act(api, server_id, "start")
    assert response.status_code == 409
    assert "不允许" in response.json()["message"]


def test_unknown_server_is_404(api, catalogue):
    assert api.get(f"{SERVERS}999999/").status_code == 404
    response = act(api, 999999, "reboot")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
