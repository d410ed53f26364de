"""Preferences, consent and quiet hours (clause 3.6; PIPL art. 14): what reaches whom, and when."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from wuji.audit.models import Instruction
from wuji.core import clock, testing
from wuji.notifications import preferences, quiet_hours, services
from wuji.notifications.events import Event
from wuji.notifications.models import Delivery, MarketingConsent, Notice

from .conftest import LEGAL, MARKETING, SERVICE


def statuses(notice) -> dict[str, str]:
    return dict(Delivery.objects.filter(notice=notice).values_list("channel", "status"))


def switch_off(user, kind, channel="email"):
    preferences.set_preferences(user, {(kind, channel): False}, channel="web", ip="127.0.0.1")


def grant(user):
    return preferences.record_consent(user, granted=True, channel="web", ip="127.0.0.1")


# --- Preferences ----------------------------------------------------------------------------------------


def test_a_switched_off_channel_is_skipped_but_the_inbox_is_written(customer):
    switch_off(customer, "service")
    notice = services.notify(customer, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    assert statuses(notice) == {"inbox": "sent", "email": "skipped"}
    assert mail.outbox == [] and services.inbox_of(customer).get() == notice
    assert Instruction.objects.get(action="notifications.preferences_changed").params == {"service/email": False}


def test_legal_and_security_notices_cannot_be_switched_off(customer):
    for kind in ("legal", "security"):
        with pytest.raises(preferences.PreferenceRefused) as refused:
            switch_off(customer, kind)
        assert refused.value.code == "mandatory_notice"
    assert preferences.preferences_of(customer)[("legal", "email")] is True
    assert not Instruction.objects.filter(action="notifications.preferences_changed").exists()


def test_a_mandatory_event_ignores_the_switches_of_its_kind(customer):
    from wuji.notifications import events

    events.declare(Event(code="test.freeze", subject_zh="资金冻结", body_zh="b", subject_en="s", body_en="b",
                         kind="billing", mandatory=True))
    try:
        switch_off(customer, "billing")
        notice = services.notify(customer, "test.freeze")
        testing.run_tasks()
        assert statuses(notice) == {"inbox": "sent", "email": "sent"}
    finally:
        events.EVENTS.pop("test.freeze")


def test_a_marketing_event_cannot_be_declared_mandatory():
    with pytest.raises(ValueError, match="cannot be mandatory"):
        Event(code="x", subject_zh="s", body_zh="b", subject_en="s", body_en="b", kind="marketing", mandatory=True)


def test_the_legal_notice_still_goes_out_when_every_other_kind_is_off(customer):
    preferences.set_preferences(customer, {(kind, "email"): False for kind in preferences.switchable_kinds()},
                                channel="web", ip=None)
    notice = services.notify(customer, LEGAL, {"date": "2026-12-01"})
    testing.run_tasks()
    assert statuses(notice) == {"inbox": "sent", "email": "sent"}


# --- Consent ----------------------------------------------------------------------------------------------


def test_marketing_without_consent_is_neither_written_nor_sent(customer):
    assert services.notify(customer, MARKETING) is None
    testing.run_tasks()
    assert not Notice.objects.exists() and mail.outbox == []


def test_marketing_with_consent_is_sent_and_the_consent_is_recorded(customer):
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, 0, tzinfo=clock.SHANGHAI), tick=False):
        consent = grant(customer)
        notice = services.notify(customer, MARKETING)
        testing.run_tasks()
    assert statuses(notice) == {"inbox": "sent", "email": "sent"}
    assert (consent.granted, consent.channel, consent.ip, consent.text_version) == (
        True, "web", "127.0.0.1", preferences.CONSENT_TEXT_VERSION)
    assert Instruction.objects.filter(action="notifications.consent_granted").count() == 1


def test_withdrawal_is_one_step_and_stops_messages_already_queued(customer):
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, 0, tzinfo=clock.SHANGHAI), tick=False):
        grant(customer)
        notice = services.notify(customer, MARKETING)
        preferences.record_consent(customer, granted=False, channel="api", ip=None)
        testing.run_tasks()
    assert statuses(notice) == {"inbox": "sent", "email": "skipped"} and mail.outbox == []
    assert list(MarketingConsent.objects.order_by("id").values_list("granted", flat=True)) == [True, False]
    assert services.notify(customer, MARKETING) is None


def test_consent_to_an_outdated_text_is_refused(customer):
    with pytest.raises(preferences.PreferenceRefused) as refused:
        preferences.record_consent(customer, granted=True, channel="web", ip=None, text_version="2020-01")
    assert refused.value.code == "stale_consent_text" and not MarketingConsent.objects.exists()


def test_granting_twice_records_once(customer):
    assert grant(customer) == grant(customer) and MarketingConsent.objects.count() == 1


# --- Quiet hours --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("local", "until"), [
    ((20, 59), None),
    ((21, 0), (28, 8, 0)),
    ((23, 30), (28, 8, 0)),
    ((7, 59), (27, 8, 0)),
    ((8, 0), None),
])
def test_quiet_hours_run_from_21_to_8_shanghai_time(local, until):
    moment = dt.datetime(2026, 11, 27, *local, tzinfo=clock.SHANGHAI)
    expected = dt.datetime(2026, 11, until[0], *until[1:], tzinfo=clock.SHANGHAI) if until else None
    assert quiet_hours.quiet_until(moment) == expected


def test_marketing_is_held_over_quiet_hours_and_sent_when_they_end(customer):
    night = dt.datetime(2026, 11, 27, 22, 30, tzinfo=clock.SHANGHAI)
    morning = dt.datetime(2026, 11, 28, 8, 0, tzinfo=clock.SHANGHAI)
    with time_machine.travel(night, tick=False) as traveller:
        grant(customer)
        marketing = services.notify(customer, MARKETING)
        service = services.notify(customer, SERVICE, {"name": "web-1"})
        testing.run_tasks()
        assert statuses(service) == {"inbox": "sent", "email": "sent"}  # not marketing: at once
        held = Delivery.objects.get(notice=marketing, channel="email")
        assert (held.status, held.attempts, held.next_attempt_at) == ("pending", 0, morning)
        traveller.move_to(morning - dt.timedelta(minutes=1))
        assert testing.run_tasks() == 0
        traveller.move_to(morning)
        testing.run_tasks()
    assert statuses(marketing)["email"] == "sent" and len(mail.outbox) == 2
    assert Delivery.objects.get(notice=marketing, channel="email").attempt_log.get().attempted_at == morning


def test_a_marketing_retry_falling_in_quiet_hours_waits_for_the_morning(customer, settings):
    settings.WUJI_NOTICE_RETRY_SECONDS = 600
    evening = dt.datetime(2026, 11, 27, 20, 55, tzinfo=clock.SHANGHAI)
    with time_machine.travel(evening, tick=False) as traveller:
        grant(customer)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
        notice = services.notify(customer, MARKETING)
        testing.run_tasks()  # fails at 20:55, retry due 21:05 — inside quiet hours
        traveller.move_to(evening + dt.timedelta(minutes=10))
        testing.run_tasks()
    delivery = Delivery.objects.get(notice=notice, channel="email")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == dt.datetime(2026, 11, 28, 8, 0, tzinfo=clock.SHANGHAI)
