"""API: a server's snapshots — list, create (idempotent), revert, delete, refusals, owner boundary."""

from wuji.compute.models import Snapshot
from wuji.core import testing

from .conftest import active_server


def url(server_id, *rest) -> str:
    return "/".join([f"/api/v1/servers/{server_id}/snapshots", *map(str, rest), ""])


def take(api, server_id, key="snap-1", name="nightly"):
    return api.post(url(server_id), {"name": name}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_create_list_revert_delete(api):
    server_id = active_server(api)
    created = take(api, server_id)
    assert created.status_code == 202 and created.json()["state"] == "creating"
    replay = take(api, server_id)
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == created.json()
    testing.run_tasks()
    listed = api.get(url(server_id)).json()["results"]
    assert [(s["name"], s["state"], s["power_state"]) for s in listed] == [("nightly", "available", "running")]
    snapshot_id = listed[0]["id"]

    refused = api.post(url(server_id, snapshot_id, "revert"))
    assert refused.status_code == 409 and "关机" in refused.json()["message"]
    assert api.post(f"/api/v1/servers/{server_id}/stop/").status_code == 202
    testing.run_tasks()
    reverted = api.post(url(server_id, snapshot_id, "revert"))
    assert reverted.status_code == 202 and reverted.json()["snapshot"] == snapshot_id
    testing.run_tasks()
    assert api.get(url(server_id, snapshot_id)).json()["state"] == "available"

    assert api.delete(url(server_id, snapshot_id)).status_code == 202
    testing.run_tasks()
    assert api.get(url(server_id)).json()["results"] == []
    assert api.get(url(server_id, snapshot_id)).status_code == 404


def test_create_needs_an_idempotency_key_and_refusals_are_409(api, settings):
    settings.WUJI_SNAPSHOTS_PER_SERVER = 1
    server_id = active_server(api)
    assert api.post(url(server_id), {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="").status_code == 400
    take(api, server_id)
    testing.run_tasks()
    refused = take(api, server_id, key="snap-2", name="second")
    assert refused.status_code == 409 and refused.json()["code"] == "operation_refused"
    assert Snapshot.objects.count() == 1


def test_someone_elses_server_and_snapshots_are_404(api, other_api):
    server_id = active_server(api)
    take(api, server_id)
    testing.run_tasks()
    snapshot_id = Snapshot.objects.get().pk
    assert other_api.get(url(server_id)).status_code == 404
    assert take(other_api, server_id, key="bob").status_code == 404
    assert other_api.get(url(server_id, snapshot_id)).status_code == 404
    assert other_api.post(url(server_id, snapshot_id, "revert")).status_code == 404
    assert other_api.delete(url(server_id, snapshot_id)).status_code == 404
    bobs = active_server(other_api, key="bob-order")
    assert other_api.get(url(bobs, snapshot_id)).status_code == 404  # Alice's snapshot under Bob's server
    assert Snapshot.objects.get().state == "available" and Snapshot.objects.count() == 1
