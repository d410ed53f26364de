"""Issue 7 coverage (decision 0044): announcements, the status overview and a server's maintenance windows over
the API, from the services the public pages and the server page use; owner boundary on a server's windows."""

from rest_framework.test import APIClient

from wuji.api.tests.conftest import client_for
from wuji.core import clock
from wuji.status import services
from wuji.status.choices import IncidentStatus
from wuji.status.models import Announcement, Incident, MaintenanceWindow

from .support import hours
from .test_status_page import announce


def window(ops, title, *, starts_in=30, **where):
    return services.save_window(MaintenanceWindow(
        title=title, description="说明", starts_at=clock.now() + hours(starts_in),
        ends_at=clock.now() + hours(starts_in + 2), impact="brief", **where), actor=ops)


def test_announcements_are_public_newest_first_and_future_ones_hidden(db, ops):
    old = announce(ops, title="旧公告")
    clock.advance(hours(1))
    new = announce(ops, title="新公告", level="important")
    body = APIClient().get("/api/v1/announcements/").json()
    assert [a["id"] for a in body["results"]] == [new.pk, old.pk]
    assert body["results"][0]["level"] == "important" and "400-000-0000" in body["results"][0]["body"]
    assert APIClient().get(f"/api/v1/announcements/{old.pk}/").json()["title"] == "旧公告"


def test_an_announcement_not_yet_published_is_not_found(db, ops):
    later = services.save_announcement(Announcement(title="预告", body="", level="info",
                                                    published_from=clock.now() + hours(5)), actor=ops)
    assert APIClient().get("/api/v1/announcements/").json()["results"] == []
    response = APIClient().get(f"/api/v1/announcements/{later.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_status_overview_matches_status_json(client, world, ops):
    incident = services.open_incident(Incident(title="广州地域网络丢包", region=world["region"]), message="排查中。",
                                      actor=ops)
    incident.nodes.set([world["gz2"]])
    services.publish_window(window(ops, "存储扩容", region=world["hk"]), actor=ops)
    window(ops, "草稿")  # never published: not shown
    body = APIClient().get("/api/v1/status/").json()
    legacy = client.get("/status.json").json()
    assert body["status"] == legacy["status"] == "incident"
    [shown] = body["incidents"]["open"]
    assert (shown["title"], shown["region"], shown["nodes"], shown["status"]) == (
        "广州地域网络丢包", "cn-ganzhou", ["gz-2"], IncidentStatus.INVESTIGATING)
    assert shown["updates"][0]["message"] == "排查中。"
    assert [(w["title"], w["regions"]) for w in body["maintenance"]] == [("存储扩容", ["hk"])]
    assert [w["title"] for w in legacy["maintenance"]] == ["存储扩容"]


def test_server_maintenance_lists_windows_touching_the_server_only(world, ops, customer):
    services.publish_window(window(ops, "赣州维护", region=world["region"]), actor=ops)
    on_node = window(ops, "gz-2 维护", starts_in=40)
    on_node.nodes.set([world["gz2"]])
    services.publish_window(on_node, actor=ops)
    services.publish_window(window(ops, "香港维护", region=world["hk"]), actor=ops)
    body = client_for(customer).get(f"/api/v1/servers/{world['alice'].pk}/maintenance/").json()
    assert [w["title"] for w in body] == ["赣州维护"]  # region-wide yes, bob's node and Hong Kong no


def test_another_customers_server_maintenance_is_not_found(world, other_customer):
    response = client_for(other_customer).get(f"/api/v1/servers/{world['alice'].pk}/maintenance/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
