"""/api/v1/notifications/: the inbox (list, read), preferences and consent; another user's notice is 404."""

import pytest

from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.notifications import services
from wuji.notifications.models import MarketingConsent

from .conftest import SERVICE


@pytest.fixture
def api(customer):
    return client_for(customer)


@pytest.fixture
def other_api(other_customer):
    return client_for(other_customer)


@pytest.fixture
def notice(customer):
    return services.notify(customer, SERVICE, {"name": "web-1"})


def test_the_inbox_lists_the_callers_notices_and_marks_them_read(api, notice):
    listed = api.get("/api/v1/notifications/inbox/?unread=1").json()
    assert [n["id"] for n in listed["results"]] == [notice.pk]
    assert listed["results"][0]["subject"] == "服务器 web-1 已就绪" and listed["results"][0]["kind"] == "service"
    read = api.post(f"/api/v1/notifications/inbox/{notice.pk}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert api.get("/api/v1/notifications/inbox/?unread=1").json()["results"] == []
    assert len(api.get("/api/v1/notifications/inbox/").json()["results"]) == 1


def test_read_all(api, customer, notice):
    services.notify(customer, SERVICE, {"name": "web-2"})
    assert api.post("/api/v1/notifications/inbox/read-all/").json() == {"marked": 2}
    assert not services.inbox_of(customer).filter(read_at__isnull=True).exists()


def test_another_users_notice_is_404_and_stays_unread(other_api, notice):
    assert other_api.get("/api/v1/notifications/inbox/").json()["results"] == []
    assert other_api.get(f"/api/v1/notifications/inbox/{notice.pk}/").status_code == 404
    assert other_api.post(f"/api/v1/notifications/inbox/{notice.pk}/read/").status_code == 404
    assert other_api.post("/api/v1/notifications/inbox/read-all/").json() == {"marked": 0}
    notice.refresh_from_db()
    assert notice.read_at is None


def test_preferences_are_read_and_written(api, other_api):
    rows = api.get("/api/v1/notifications/preferences/").json()["preferences"]
    assert {"kind": "legal", "channel": "email", "enabled": True, "switchable": False} in rows
    response = api.put("/api/v1/notifications/preferences/", {"preferences": [
        {"kind": "billing", "channel": "sms", "enabled": False}]}, format="json")
    assert response.status_code == 200
    assert {"kind": "billing", "channel": "sms", "enabled": False, "switchable": True} in response.json()["preferences"]
    assert Instruction.objects.get(action="notifications.preferences_changed").channel == "api"
    other = other_api.get("/api/v1/notifications/preferences/").json()["preferences"]
    assert {"kind": "billing", "channel": "sms", "enabled": True, "switchable": True} in other  # per user


def test_switching_off_a_legal_notice_is_refused(api):
    response = api.put("/api/v1/notifications/preferences/", {"preferences": [
        {"kind": "legal", "channel": "email", "enabled": False}]}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "mandatory_notice"


def test_consent_is_granted_and_withdrawn(api, customer):
    shown = api.get("/api/v1/notifications/consent/").json()
    assert shown["granted"] is False and shown["text"]
    granted = api.post("/api/v1/notifications/consent/", {"granted": True,
                                                          "text_version": shown["current_text_version"]})
    assert granted.status_code == 200 and granted.json()["granted"] is True
    withdrawn = api.post("/api/v1/notifications/consent/", {"granted": False})
    assert withdrawn.json()["granted"] is False
    rows = list(MarketingConsent.objects.filter(user=customer).order_by("id").values_list("granted", "channel", "ip"))
    assert rows == [(True, "api", "203.0.113.7"), (False, "api", "203.0.113.7")]


def test_consent_without_naming_the_text_is_refused(api):
    response = api.post("/api/v1/notifications/consent/", {"granted": True})
    assert response.status_code == 400 and response.json()["code"] == "stale_consent_text"
    assert not MarketingConsent.objects.exists()
