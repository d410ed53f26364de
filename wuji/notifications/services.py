"""`notify()`: the one way the platform tells a user something (clause 3.6).

The in-site inbox always gets the notice, in the same transaction as the change it reports; every
other channel is a delivery row plus a task enqueued in that transaction, so sending happens after
commit, with its result logged: e-mail to the account's address, SMS to its verified mobile number
(as a vendor template whose parameter is the subject). Preferences, quiet hours and WeChat: issue 6.
"""

from django.db import transaction
from django.template import Context, Template
from django.utils import translation

from wuji.core import clock

from . import events
from .choices import DeliveryStatus, NoticeChannel
from .models import Delivery, Notice


def _render(text: str, context: dict) -> str:
    return Template(text).render(Context(context, autoescape=False))


def notify(recipient, event: str, context: dict | None = None) -> Notice:
    """Write the notice to the recipient's inbox and enqueue its other channels. Returns the notice."""
    spec = events.get(event)
    context = context or {}
    english = (getattr(recipient, "language", "") or "").startswith("en")
    with translation.override("en" if english else "zh-hans"):
        subject = _render(spec.subject_en if english else spec.subject_zh, context)
        body = _render(spec.body_en if english else spec.body_zh, context)
    now = clock.now()
    with transaction.atomic():
        notice = Notice.objects.create(recipient=recipient, event=event, subject=subject[:200], body=body,
                                       mandatory=spec.mandatory, created_at=now)
        Delivery.objects.create(notice=notice, channel=NoticeChannel.INBOX, address="",
                                status=DeliveryStatus.SENT, attempts=1, updated_at=now)
        if NoticeChannel.EMAIL in spec.channels:
            Delivery.objects.create(notice=notice, channel=NoticeChannel.EMAIL, address=recipient.email,
                                    updated_at=now)
            from . import tasks

            tasks.deliver_email.enqueue(notice_id=notice.pk)
        phone = getattr(recipient, "phone", "")
        if NoticeChannel.SMS in spec.channels and phone:
            Delivery.objects.create(notice=notice, channel=NoticeChannel.SMS, address=phone, updated_at=now)
            from . import tasks

            tasks.deliver_sms.enqueue(notice_id=notice.pk)
    return notice


def inbox_of(user):
    return Notice.objects.filter(recipient=user)


def mark_read(user, notice_ids) -> int:
    return Notice.objects.filter(recipient=user, pk__in=notice_ids, read_at__isnull=True).update(
        read_at=clock.now())
