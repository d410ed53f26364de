"""The public status page, /status.json, announcements and the portal banner (no login needed)."""

import pytest

from wuji.core import clock
from wuji.status import services
from wuji.status.choices import AnnouncementLevel, IncidentStatus
from wuji.status.models import Announcement, Incident, MaintenanceWindow

from .support import hours


@pytest.fixture
def incident(world, ops):
    clock.advance(-hours(2))
    incident = services.open_incident(Incident(title="广州地域网络丢包", region=world["region"]),
                                      message="部分线路丢包，正在排查。", actor=ops)
    clock.reset()
    incident.nodes.set([world["gz2"]])
    return incident


def announce(ops, title="春节期间客服安排", level=AnnouncementLevel.INFO, **extra):
    return services.save_announcement(Announcement(title=title, body="**值班电话**：400-000-0000", level=level,
                                                   published_from=clock.now() - hours(1), **extra), actor=ops)


def test_status_page_is_public_and_shows_open_incidents_with_updates(client, incident, ops):
    services.post_update(incident, status=IncidentStatus.IDENTIFIED, message="运营商光缆中断。", actor=ops)
    page = client.get("/status/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="incident"' in html and "广州地域网络丢包" in html
    assert "运营商光缆中断。" in html and "部分线路丢包，正在排查。" in html


def test_resolved_incident_moves_to_the_past_and_the_page_is_green(client, incident, ops):
    before = clock.now()
    services.post_update(incident, status=IncidentStatus.RESOLVED, message="已恢复。", actor=ops)
    incident.refresh_from_db()
    assert before <= incident.resolved_at <= clock.now()
    html = client.get("/status/").content.decode()
    assert 'data-status="operational"' in html and "广州地域网络丢包" in html
    with pytest.raises(services.StatusRefused):
        services.post_update(incident, status=IncidentStatus.MONITORING, message="again", actor=ops)
    clock.advance(hours(24 * 31))
    assert "广州地域网络丢包" not in client.get("/status/").content.decode()


def test_status_json_lists_incidents_and_maintenance(client, incident, ops, world):
    window = services.save_window(MaintenanceWindow(
        title="存储扩容", description="不影响使用。", region=world["hk"], starts_at=clock.now() + hours(30),
        ends_at=clock.now() + hours(32), impact="none"), actor=ops)
    draft = services.save_window(MaintenanceWindow(
        title="草稿维护", description="x", region=world["hk"], starts_at=clock.now() + hours(30),
        ends_at=clock.now() + hours(32)), actor=ops)
    services.publish_window(window, actor=ops)
    data = client.get("/status.json").json()
    assert data["status"] == "incident"
    [open_incident] = data["incidents"]["open"]
    assert open_incident["title"] == "广州地域网络丢包" and open_incident["region"] == "cn-ganzhou"
    assert open_incident["nodes"] == ["gz-2"] and open_incident["status"] == "investigating"
    assert open_incident["updates"][0]["message"] == "部分线路丢包，正在排查。"
    assert [w["title"] for w in data["maintenance"]] == ["存储扩容"]  # drafts are not public
    assert data["maintenance"][0]["regions"] == ["hk"]
    assert draft.title not in client.get("/status/").content.decode()


def test_opening_an_incident_needs_staff_and_a_message(world, customer, ops):
    with pytest.raises(services.StatusRefused):
        services.open_incident(Incident(title="x", region=world["region"]), message="m", actor=customer)
    with pytest.raises(services.StatusRefused):
        services.open_incident(Incident(title="x", region=world["region"]), message=" ", actor=ops)
    assert not Incident.objects.exists()


def test_announcements_are_public_and_rendered_from_markdown(client, ops):
    item = announce(ops)
    future = services.save_announcement(Announcement(title="未来公告", level="info",
                                                     published_from=clock.now() + hours(5)), actor=ops)
    assert "春节期间客服安排" in client.get("/announcements/").content.decode()
    assert "未来公告" not in client.get("/announcements/").content.decode()
    detail = client.get(f"/announcements/{item.pk}/").content.decode()
    assert "<strong>值班电话</strong>" in detail
    assert client.get(f"/announcements/{future.pk}/").status_code == 404


def test_banner_shows_current_announcements_and_dismiss_works_without_script(client, ops, customer):
    item = announce(ops, title="重要：机房电力检修", level=AnnouncementLevel.IMPORTANT)
    announce(ops, title="已下线的公告", published_until=clock.now() - hours(0.5))
    client.force_login(customer)
    html = client.get("/dashboard/").content.decode()
    assert "重要：机房电力检修" in html and "已下线的公告" not in html
    assert "status/banner.js" in html and "<script>" not in html  # a module file, no inline script
    response = client.post(f"/announcements/{item.pk}/dismiss/", {"next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert "重要：机房电力检修" not in client.get("/dashboard/").content.decode()


def test_dismiss_by_fetch_answers_204_and_refuses_foreign_redirects(client, ops):
    item = announce(ops)
    assert client.post(f"/announcements/{item.pk}/dismiss/", headers={"X-Requested-With": "fetch"}).status_code == 204
    other = announce(ops, title="另一条")
    response = client.post(f"/announcements/{other.pk}/dismiss/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get(f"/announcements/{item.pk}/dismiss/").status_code == 405
