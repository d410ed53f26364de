"""E-mail through a real SMTP server on loopback (aiosmtpd) and Django's SMTP backend: what arrives, and
what happens when the server refuses: a retry with backoff, every try logged, `failed` after the last."""

import datetime as dt
import email
import email.policy
import socket

import pytest
import time_machine
from aiosmtpd.controller import Controller

from wuji.accounts.models import ContactFlag
from wuji.core import clock, testing
from wuji.notifications import services
from wuji.notifications.models import Delivery, DeliveryAttempt

from .conftest import SERVICE


class Mailbox:
    """An aiosmtpd handler that keeps what it receives, or refuses recipients while `refuse` is set."""

    def __init__(self):
        self.messages, self.refuse = [], False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


@pytest.fixture
def mailbox(settings):
    handler = Mailbox()
    with socket.socket() as probe:  # a free loopback port (aiosmtpd checks readiness by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def test_the_message_arrives_with_chinese_subject_and_body(customer, mailbox, settings):
    notice = services.notify(customer, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    [(recipients, message)] = mailbox.messages
    assert recipients == ["alice@example.com"] and message["To"] == "alice@example.com"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Subject"] == "服务器 web-1 已就绪"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().strip() == "您的服务器 web-1 已开通。"
    delivery = Delivery.objects.get(notice=notice, channel="email")
    assert delivery.status == "sent" and delivery.attempts == 1
    assert list(delivery.attempt_log.values_list("result", flat=True)) == ["sent"]


def test_the_subject_header_is_rfc2047_utf8_on_the_wire(customer, mailbox):
    raw = []
    original = Mailbox.handle_DATA

    async def keep_raw(self, server, session, envelope):
        raw.append(envelope.content)
        return await original(self, server, session, envelope)

    mailbox.handle_DATA = keep_raw.__get__(mailbox)
    services.notify(customer, SERVICE, {"name": "web-1"})
    testing.run_tasks()
    headers = raw[0].split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are 7-bit: Chinese is encoded
    assert "Subject: =?utf-8?" in headers


def test_a_refused_message_is_retried_with_backoff_and_every_try_logged(customer, mailbox):
    mailbox.refuse = True
    start = dt.datetime(2026, 11, 27, 10, 0, tzinfo=clock.SHANGHAI)
    with time_machine.travel(start, tick=False) as traveller:
        notice = services.notify(customer, SERVICE, {"name": "web-1"})
        testing.run_tasks()
        email_delivery = Delivery.objects.get(notice=notice, channel="email")
        assert (email_delivery.status, email_delivery.attempts) == ("pending", 1)
        assert email_delivery.next_attempt_at == start + dt.timedelta(seconds=60)
        assert "550" in email_delivery.detail
        assert testing.run_tasks() == 0  # the retry is not due yet
        traveller.move_to(start + dt.timedelta(seconds=61))
        mailbox.refuse = False
        testing.run_tasks()
    email_delivery.refresh_from_db()
    assert (email_delivery.status, email_delivery.attempts) == ("sent", 2)
    assert list(DeliveryAttempt.objects.filter(delivery=email_delivery).values_list("result", flat=True)) == [
        "failed", "sent"]
    assert len(mailbox.messages) == 1


def test_after_the_last_try_the_delivery_fails_and_the_contact_is_checked(customer, mailbox, settings):
    settings.WUJI_NOTICE_MAX_ATTEMPTS = 3
    settings.WUJI_CONTACT_UNDELIVERABLE_AFTER = 1
    mailbox.refuse = True
    start = dt.datetime(2026, 11, 27, 10, 0, tzinfo=clock.SHANGHAI)
    with time_machine.travel(start, tick=False) as traveller:
        notice = services.notify(customer, SERVICE, {"name": "web-1"})
        testing.run_tasks()
        traveller.move_to(start + dt.timedelta(minutes=1, seconds=1))  # 1st retry after 60 s
        testing.run_tasks()
        delivery = Delivery.objects.get(notice=notice, channel="email")
        assert delivery.next_attempt_at == start + dt.timedelta(minutes=1, seconds=1) + dt.timedelta(minutes=4)
        assert not ContactFlag.objects.filter(user=customer).exists()  # not final yet
        traveller.move_to(start + dt.timedelta(minutes=6))  # 2nd retry after 4 more minutes
        testing.run_tasks()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert delivery.attempt_log.filter(result="failed").count() == 3
    assert ContactFlag.objects.get(user=customer).contact == "email"
