import logging

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

from wuji.core import clock

from .choices import DeliveryStatus, NoticeChannel
from .models import Delivery

log = logging.getLogger(__name__)


@task()
def deliver_email(notice_id: int) -> str:
    """Send one notice by e-mail and record the result on its delivery row (idempotent)."""
    delivery = Delivery.objects.select_related("notice").get(notice_id=notice_id, channel=NoticeChannel.EMAIL)
    if delivery.status == DeliveryStatus.SENT:
        return "already sent"
    notice = delivery.notice
    try:
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [delivery.address])
    except Exception as exc:  # any transport failure is recorded, not lost
        log.warning("e-mail for notice %s failed: %s", notice_id, exc)
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=delivery.attempts + 1,
                                                       detail=str(exc)[:500], updated_at=clock.now())
        return "failed"
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, attempts=delivery.attempts + 1,
                                                   detail="", updated_at=clock.now())
    return "sent"
