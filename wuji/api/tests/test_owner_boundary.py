"""Everyone sees only their own (rule 9): user B gets 404 — never 403 — on each of user A's objects."""

import pytest

from wuji.audit import services as audit
from wuji.compute import services as compute

from .conftest import active_server

ENDPOINTS = [
    ("get", "/api/v1/servers/{server}/", None),
    ("post", "/api/v1/servers/{server}/start/", None),
    ("post", "/api/v1/servers/{server}/stop/", None),
    ("post", "/api/v1/servers/{server}/reboot/", {"hard": True}),
    ("post", "/api/v1/servers/{server}/reinstall/", {"image": "tiny-linux"}),
    ("post", "/api/v1/servers/{server}/reset-password/", None),
    ("get", "/api/v1/orders/{order}/", None),
    ("get", "/api/v1/instructions/{instruction}/", None),
    ("get", "/api/v1/topups/{topup}/", None),
    ("post", "/api/v1/servers/{server}/console/", None),  # issue 5: console
    ("get", "/api/v1/servers/{server}/migrations/", None),  # issue 5: migview
]


@pytest.fixture
def alices_objects(api, customer, sandbox) -> dict:
    server_id = active_server(api)
    return {
        "server": server_id,
        "order": api.get("/api/v1/orders/").json()["results"][0]["id"],
        "instruction": audit.instructions_for(customer).first().seq,
        "topup": api.post("/api/v1/topups/", {"amount_fen": 100}, format="json").json()["out_trade_no"],
    }


def call(client, method: str, url: str, body: dict | None):
    return getattr(client, method)(url, body, format="json") if method == "post" else client.get(url)


@pytest.mark.parametrize(("method", "template", "body"), ENDPOINTS)
def test_other_customer_gets_404_and_changes_nothing(api, other_api, customer, alices_objects, method, template,
                                                     body):
    url = template.format(**alices_objects)
    instructions_before = audit.instructions_for(customer).count()

    response = call(other_api, method, url, body)

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": response.json()["message"], "field": None,
                               "request_id": response["X-Request-Id"]}
    server = compute.servers_of(customer).get(pk=alices_objects["server"])
    assert (server.vm_state, server.task_state) == ("active", "")
    assert audit.instructions_for(customer).count() == instructions_before
    assert call(api, method, url, body).status_code != 404  # the URL is real: its owner reaches it


@pytest.mark.parametrize(("url", "key", "obj"), [
    ("/api/v1/servers/", "id", "server"),
    ("/api/v1/orders/", "id", "order"),
    ("/api/v1/topups/", "out_trade_no", "topup"),
    ("/api/v1/instructions/", "seq", "instruction"),
])
def test_other_customers_lists_do_not_show_them(other_api, alices_objects, url, key, obj):
    response = other_api.get(url)
    assert response.status_code == 200
    assert alices_objects[obj] not in [row[key] for row in response.json()["results"]]


def test_other_customers_export_does_not_contain_them(other_api, customer, alices_objects):
    export = other_api.get("/api/v1/instructions/export.csv").content.decode("utf-8-sig")
    assert "order.place" not in export and "topup.create" not in export
