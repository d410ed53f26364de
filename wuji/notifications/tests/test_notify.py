import pytest
from django.core import mail

from wuji.core import testing
from wuji.notifications import events, services
from wuji.notifications.models import Delivery

EVENT = "test.hello"


@pytest.fixture(autouse=True)
def declared_event():
    events.EVENTS.pop(EVENT, None)
    events.declare(events.Event(code=EVENT, subject_zh="你好 {{ name }}", body_zh="服务器 {{ server }} 已就绪。",
                                subject_en="Hello {{ name }}", body_en="Server {{ server }} is ready."))
    yield
    events.EVENTS.pop(EVENT, None)


def test_notice_goes_to_the_inbox_at_once_and_by_email_through_a_task(customer):
    notice = services.notify(customer, EVENT, {"name": "Alice", "server": "web-1"})
    assert services.inbox_of(customer).get() == notice
    assert notice.subject == "你好 Alice" and "web-1" in notice.body
    assert mail.outbox == []  # nothing is sent inside the transaction
    testing.run_tasks()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]
    assert mail.outbox[0].subject == "你好 Alice"
    assert dict(notice.deliveries.values_list("channel", "status")) == {"inbox": "sent", "email": "sent"}


def test_notice_is_rendered_in_the_recipients_language(customer):
    customer.language = "en"
    customer.save(update_fields=["language"])
    notice = services.notify(customer, EVENT, {"name": "Alice", "server": "web-1"})
    assert notice.subject == "Hello Alice" and notice.body == "Server web-1 is ready."


def test_a_failed_email_is_recorded_not_lost(customer, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    notice = services.notify(customer, EVENT, {"name": "A", "server": "s"})
    testing.run_tasks()
    email = Delivery.objects.get(notice=notice, channel="email")
    assert email.status == "pending" and email.attempts == 1 and email.detail and email.next_attempt_at
    assert email.attempt_log.get().result == "failed"


def test_other_users_never_see_a_notice(customer, other_customer):
    services.notify(customer, EVENT, {"name": "A", "server": "s"})
    assert not services.inbox_of(other_customer).exists()
    notice = services.inbox_of(customer).get()
    assert services.mark_read(other_customer, [notice.pk]) == 0
    assert services.mark_read(customer, [notice.pk]) == 1


def test_sms_channel_goes_to_the_verified_mobile_number(customer):
    from wuji.accounts.sms import log as sms_log

    type(customer).objects.filter(pk=customer.pk).update(phone="+8613800138000")
    customer.refresh_from_db()
    events.EVENTS.pop("test.sms", None)
    events.declare(events.Event(code="test.sms", subject_zh="账户安全提醒", body_zh="正文", subject_en="Alert",
                                body_en="Body", channels=("inbox", "email", "sms"), mandatory=True))
    try:
        sms_log.outbox.clear()
        notice = services.notify(customer, "test.sms")
        assert sms_log.outbox == []  # nothing leaves inside the transaction
        testing.run_tasks()
        assert [(m.phone, m.params) for m in sms_log.outbox] == [("+8613800138000", {"subject": "账户安全提醒"})]
        sms = Delivery.objects.get(notice=notice, channel="sms")
        assert sms.status == "sent" and sms.address == "+8613800138000" and "message id" in sms.detail
    finally:
        events.EVENTS.pop("test.sms", None)


def test_no_sms_delivery_without_a_verified_number(customer):
    events.EVENTS.pop("test.sms", None)
    events.declare(events.Event(code="test.sms", subject_zh="s", body_zh="b", subject_en="s", body_en="b",
                                channels=("inbox", "sms")))
    try:
        notice = services.notify(customer, "test.sms")
        assert list(notice.deliveries.values_list("channel", flat=True)) == ["inbox"]
    finally:
        events.EVENTS.pop("test.sms", None)
