"""Sending a notice on one channel, with a DeliveryAttempt row per try and retries with backoff.

A try that fails is retried after WUJI_NOTICE_RETRY_SECONDS × 4^(tries − 1) by re-enqueueing the task
with `run_after`; after WUJI_NOTICE_MAX_ATTEMPTS tries the delivery is `failed` and the contact check of
clause 4.5.1 (`contacts.report_undeliverable`) runs. A marketing message is re-checked when it is sent:
no consent any more → skipped; quiet hours → held until they end.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task

from wuji.core import clock

from . import preferences, quiet_hours, wechat
from .choices import AttemptResult, DeliveryStatus, NoticeChannel, NoticeKind
from .models import Delivery, DeliveryAttempt

log = logging.getLogger(__name__)


def _send_email(notice, address: str) -> str:
    send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [address])
    return ""


def _send_sms(notice, address: str) -> str:
    from wuji.accounts import sms

    templates = settings.WUJI_SMS_NOTICE_TEMPLATES
    template = templates.get(notice.event, templates["default"])
    result = sms.get_backend().send(address, template, {"subject": notice.subject})
    return f"message id {result.message_id}"


SENDERS = {
    NoticeChannel.EMAIL: _send_email,
    NoticeChannel.SMS: _send_sms,
    NoticeChannel.WECHAT: wechat.send_notice,
}


def schedule(delivery: Delivery, at: dt.datetime | None = None) -> None:
    """Enqueue a try of `delivery`, now or at `at`, in the caller's transaction."""
    (deliver.using(run_after=at) if at else deliver).enqueue(delivery_id=delivery.pk)


def retry_delay(tries: int) -> dt.timedelta:
    return dt.timedelta(seconds=settings.WUJI_NOTICE_RETRY_SECONDS * 4 ** (tries - 1))


def _held_or_withdrawn(delivery: Delivery, now: dt.datetime) -> str:
    """For marketing: why this delivery must not be sent now ("" if it may)."""
    if delivery.notice.kind != NoticeKind.MARKETING:
        return ""
    if not preferences.has_marketing_consent(delivery.notice.recipient):
        delivery.status, delivery.detail, delivery.next_attempt_at = DeliveryStatus.SKIPPED, "consent withdrawn", None
        return "skipped"
    held_until = quiet_hours.quiet_until(now)
    if held_until:
        delivery.next_attempt_at = held_until
        schedule(delivery, held_until)
        return "held for quiet hours"
    return ""


def attempt(delivery_id: int) -> str:
    """One try of one delivery (idempotent: a sent, failed, skipped or not yet due delivery is left alone)."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("notice", "notice__recipient")
                    .get(pk=delivery_id))
        now = clock.now()
        if delivery.status != DeliveryStatus.PENDING:
            return f"already {delivery.status}"
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return "not due"
        outcome = _held_or_withdrawn(delivery, now)
        if outcome:
            delivery.updated_at = now
            delivery.save(update_fields=["status", "detail", "next_attempt_at", "updated_at"])
            return outcome
        try:
            detail, result = SENDERS[delivery.channel](delivery.notice, delivery.address) or "", AttemptResult.SENT
        except Exception as exc:  # any transport failure is recorded, not lost
            log.warning("%s for notice %s failed: %s", delivery.channel, delivery.notice_id, exc)
            detail, result = str(exc) or type(exc).__name__, AttemptResult.FAILED
        DeliveryAttempt.objects.create(delivery=delivery, channel=delivery.channel, address=delivery.address,
                                       attempted_at=now, result=result, detail=detail[:500])
        delivery.attempts += 1
        delivery.detail, delivery.updated_at, delivery.next_attempt_at = detail[:500], now, None
        if result == AttemptResult.SENT:
            delivery.status = DeliveryStatus.SENT
        elif delivery.attempts >= settings.WUJI_NOTICE_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            schedule(delivery, delivery.next_attempt_at)
        delivery.save(update_fields=["status", "attempts", "detail", "next_attempt_at", "updated_at"])
    if delivery.status == DeliveryStatus.FAILED:
        from wuji.accounts import contacts  # clause 4.5.1: repeated failures flag the contact

        contacts.report_undeliverable(delivery.notice.recipient, delivery.channel, detail)
    return "sent" if result == AttemptResult.SENT else delivery.status


@task()
def deliver(delivery_id: int) -> str:
    return attempt(delivery_id)


def _attempt_channel(notice_id: int, channel: str) -> str:
    delivery = Delivery.objects.filter(notice_id=notice_id, channel=channel).first()
    return attempt(delivery.pk) if delivery else "no delivery"


# Tasks enqueued before issue 6 named the notice and channel; kept so queued ones still run.
@task()
def deliver_email(notice_id: int) -> str:
    return _attempt_channel(notice_id, NoticeChannel.EMAIL)


@task()
def deliver_sms(notice_id: int) -> str:
    return _attempt_channel(notice_id, NoticeChannel.SMS)
