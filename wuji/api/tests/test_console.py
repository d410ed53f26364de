"""POST /api/v1/servers/<id>/console/: a single-use console token for the owner's running server."""

import datetime as dt

from django.utils.dateparse import parse_datetime

from wuji.audit.models import Instruction
from wuji.compute import console
from wuji.compute.models import ConsoleToken
from wuji.core import testing

from .conftest import active_server
from .test_servers import act


def open_console(client, server_id: int):
    return client.post(f"/api/v1/servers/{server_id}/console/", format="json")


def test_the_owner_gets_a_token_url_and_expiry(api, customer):
    server_id = active_server(api)
    response = open_console(api, server_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"server", "token", "url", "expires_at"}
    assert body["server"] == server_id
    assert body["url"] == f"ws://127.0.0.1:6080/?token={body['token']}"
    grant = ConsoleToken.objects.get()
    assert parse_datetime(body["expires_at"]) == grant.expires_at == grant.created_at + dt.timedelta(seconds=60)
    assert grant.digest != body["token"] and grant.user == customer
    instruction = Instruction.objects.get(action="server.console")
    assert (instruction.channel, instruction.ip) == ("api", "203.0.113.7")
    assert console.redeem(body["token"]).server_id == server_id


def test_another_customers_server_is_not_found(api, other_api):
    server_id = active_server(api)
    response = open_console(other_api, server_id)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not ConsoleToken.objects.exists()


def test_a_stopped_server_is_refused_with_a_conflict(api):
    server_id = active_server(api)
    assert act(api, server_id, "stop").status_code == 202
    testing.run_tasks()
    response = open_console(api, server_id)
    assert response.status_code == 409
    assert response.json()["code"] == "console_not_running"
    assert not ConsoleToken.objects.exists()
