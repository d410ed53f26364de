import logging

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

from wuji.core import clock

from .choices import DeliveryStatus, NoticeChannel
from .models import Delivery

log = logging.getLogger(__name__)


def _deliver(notice_id: int, channel: str, send) -> str:
    """Send one notice on one channel and record the result on its delivery row (idempotent)."""
    delivery = Delivery.objects.select_related("notice").get(notice_id=notice_id, channel=channel)
    if delivery.status == DeliveryStatus.SENT:
        return "already sent"
    try:
        detail = send(delivery.notice, delivery.address) or ""
    except Exception as exc:  # any transport failure is recorded, not lost
        log.warning("%s for notice %s failed: %s", channel, notice_id, exc)
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=delivery.attempts + 1,
                                                       detail=str(exc)[:500], updated_at=clock.now())
        from wuji.accounts import contacts  # clause 4.5.1: repeated failures flag the contact

        contacts.report_undeliverable(delivery.notice.recipient, channel, str(exc))
        return "failed"
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, attempts=delivery.attempts + 1,
                                                   detail=detail[:500], updated_at=clock.now())
    return "sent"


def _send_email(notice, address: str) -> str:
    send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [address])
    return ""


def _send_sms(notice, address: str) -> str:
    from wuji.accounts import sms

    templates = settings.WUJI_SMS_NOTICE_TEMPLATES
    template = templates.get(notice.event, templates["default"])
    result = sms.get_backend().send(address, template, {"subject": notice.subject})
    return f"message id {result.message_id}"


@task()
def deliver_email(notice_id: int) -> str:
    return _deliver(notice_id, NoticeChannel.EMAIL, _send_email)


@task()
def deliver_sms(notice_id: int) -> str:
    return _deliver(notice_id, NoticeChannel.SMS, _send_sms)
