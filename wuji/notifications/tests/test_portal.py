"""Portal: the notification settings page under 账户与安全, and the staff proof-of-notice page."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from wuji.audit.models import Instruction
from wuji.core import testing
from wuji.notifications import preferences, services
from wuji.notifications.models import Delivery

from .conftest import LEGAL, SERVICE

SETTINGS_URL = "/security/notifications/"
PROOF_URL = "/console/notifications/notice/proof/"


@pytest.fixture
def alice(client, customer):
    client.force_login(customer)
    return client


def test_the_settings_page_shows_kinds_channels_and_consent(alice):
    assert reverse("portal:notification_settings") == SETTINGS_URL
    page = alice.get(SETTINGS_URL).content.decode()
    assert "营销与活动信息" in page and "不可关闭" in page and "同意接收营销信息" in page
    assert alice.get("/security/").content.decode().count(SETTINGS_URL) == 1


def test_saving_preferences_switches_off_what_is_unticked(alice, customer):
    ticked = [f"{kind}/{ch}" for kind in preferences.switchable_kinds() for ch in ("email", "sms", "wechat")
              if (kind, ch) != ("billing", "email")]
    response = alice.post(SETTINGS_URL, {"action": "preferences", "on": ticked})
    assert response.status_code == 302
    current = preferences.preferences_of(customer)
    assert current[("billing", "email")] is False and current[("service", "email")] is True
    assert Instruction.objects.get(action="notifications.preferences_changed").channel == "web"


def test_consent_is_granted_and_withdrawn_with_one_click_each(alice, customer):
    alice.post(SETTINGS_URL, {"action": "grant", "text_version": preferences.CONSENT_TEXT_VERSION})
    assert preferences.has_marketing_consent(customer)
    assert "撤回同意" in alice.get(SETTINGS_URL).content.decode()
    alice.post(SETTINGS_URL, {"action": "withdraw"})
    assert not preferences.has_marketing_consent(customer)


def test_an_outdated_consent_text_is_refused_with_a_message(alice, customer):
    page = alice.post(SETTINGS_URL, {"action": "grant", "text_version": "2000-01"}, follow=True).content.decode()
    assert "同意条款已更新" in page and not preferences.has_marketing_consent(customer)


def test_the_page_needs_a_login(client):
    assert client.get(SETTINGS_URL).status_code == 302


# --- Proof of notice (console) ----------------------------------------------------------------------------


@pytest.fixture
def support(client, db):
    user = get_user_model().objects.create_user(email="support@example.com", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_notice"))
    client.force_login(user)
    return client


def test_staff_see_who_was_notified_on_which_channel_with_every_attempt(support, customer, other_customer, settings):
    told = services.notify(customer, LEGAL, {"date": "2026-12-01"})
    services.notify(other_customer, SERVICE, {"name": "web-1"})  # another event: not listed
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    testing.run_tasks()
    page = support.get(PROOF_URL, {"event": LEGAL}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page
    assert "站内信" in page and "电子邮件" in page and "待发送" in page
    csv_text = support.get(PROOF_URL, {"event": LEGAL, "format": "csv"}).content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("通知编号,接收人,事件")
    assert len(lines) == 3  # inbox attempt + one failed e-mail attempt
    assert f"{told.pk},alice@example.com,{LEGAL}" in lines[1] and ",inbox,,sent," in lines[1]
    assert ",email,alice@example.com,pending," in lines[2] and ",failed," in lines[2]
    assert Delivery.objects.get(notice=told, channel="email").attempt_log.count() == 1


def test_proof_narrows_by_object_text(support, customer):
    services.notify(customer, SERVICE, {"name": "web-1"})
    services.notify(customer, SERVICE, {"name": "db-9"})
    csv_text = support.get(PROOF_URL, {"event": SERVICE, "text": "db-9", "format": "csv"}).content.decode("utf-8-sig")
    assert len(csv_text.strip().splitlines()) == 3  # header + inbox + pending e-mail of the db-9 notice


def test_proof_needs_the_view_permission(client, db):
    user = get_user_model().objects.create_user(email="ops@example.com", password=None, is_staff=True)
    client.force_login(user)
    assert client.get(PROOF_URL, {"event": LEGAL}).status_code == 403


def test_the_legal_notices_the_agreement_requires_are_listed_first_and_are_mandatory():
    from wuji.notifications import events, proof
    from wuji.notifications.choices import NoticeKind

    codes = [code for code, _label in proof.event_choices()]
    legal = [code for code in codes if events.get(code).kind == NoticeKind.LEGAL]
    assert codes[:len(legal)] == legal  # legal ones first
    for required in ("agreement.revised", "compute.migration_scheduled", "billing.funds_frozen",
                     "identity.correction_required", "billing.release_notice", "billing.released"):
        assert required in legal and events.get(required).mandatory
