"""The console pages: every list opens, and the actions go through the services (refusals shown, not 500)."""

import pytest
from django.contrib.auth import get_user_model

from wuji.core import clock, testing
from wuji.notifications.models import Notice
from wuji.status.choices import IncidentStatus, MaintenanceState
from wuji.status.models import Incident, MaintenanceWindow, SlaCredit

from .support import hours


@pytest.fixture
def admin_client(client, db):
    boss = get_user_model().objects.create_superuser(email="root@example.com", password=testing.PASSWORD)
    client.force_login(boss)
    return client


def local(moment):
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("model", ["announcement", "maintenancewindow", "incident", "slacredit", "slapolicy"])
def test_console_lists_open(admin_client, model):
    assert admin_client.get(f"/console/status/{model}/").status_code == 200
    if model != "slacredit":
        assert admin_client.get(f"/console/status/{model}/add/").status_code == 200


def test_window_drafted_and_published_from_the_console(admin_client, world):
    start = clock.now() + hours(30)
    response = admin_client.post("/console/status/maintenancewindow/add/", {
        "title": "内核升级", "description": "重启一次。", "region": "", "nodes": [world["gz2"].pk],
        "starts_at_0": local(start)[:10], "starts_at_1": local(start)[11:],
        "ends_at_0": local(start + hours(1))[:10], "ends_at_1": local(start + hours(1))[11:],
        "impact": "brief", "emergency_reason": "",
        "notices-TOTAL_FORMS": "0", "notices-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    window = MaintenanceWindow.objects.get()
    assert window.state == MaintenanceState.DRAFT and list(window.nodes.all()) == [world["gz2"]]
    admin_client.post("/console/status/maintenancewindow/", {"action": "publish", "_selected_action": [window.pk]})
    testing.run_tasks()
    window.refresh_from_db()
    assert window.state == MaintenanceState.PUBLISHED
    assert Notice.objects.filter(recipient=world["bob"].owner, event="status.maintenance_scheduled").count() == 1


def test_too_short_notice_is_shown_as_an_error_in_the_console(admin_client, world, ops):
    from wuji.status import services

    window = services.save_window(MaintenanceWindow(
        title="t", description="d", region=world["region"], starts_at=clock.now() + hours(2),
        ends_at=clock.now() + hours(3)), actor=ops)
    page = admin_client.post("/console/status/maintenancewindow/", {"action": "publish",
                                                                    "_selected_action": [window.pk]}, follow=True)
    assert "至少提前 24 小时" in page.content.decode()
    window.refresh_from_db()
    assert window.state == MaintenanceState.DRAFT


def test_incident_reported_updated_and_credited_from_the_console(admin_client, world):
    now = local(clock.now())
    response = admin_client.post("/console/status/incident/add/", {
        "title": "网络中断", "region": world["region"].pk, "nodes": [world["node1"].pk], "status": "investigating",
        "started_at_0": now[:10], "started_at_1": now[11:], "message": "正在排查。",
        "updates-TOTAL_FORMS": "0", "updates-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get()
    assert incident.updates.count() == 1
    clock.advance(hours(5))
    admin_client.post("/console/status/incident/", {"action": "post_update", "_selected_action": [incident.pk],
                                                    "apply": "1", "status": "resolved", "message": "已恢复。"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    admin_client.post("/console/status/incident/", {"action": "propose_credits", "_selected_action": [incident.pk]})
    credit = SlaCredit.objects.get()
    admin_client.post("/console/status/slacredit/", {"action": "pay", "_selected_action": [credit.pk]})
    admin_client.post("/console/status/slacredit/", {"action": "pay", "_selected_action": [credit.pk]})
    credit.refresh_from_db()
    assert credit.state == "paid"
    assert Notice.objects.filter(recipient=world["alice"].owner, event="billing.gift_granted").count() == 1
