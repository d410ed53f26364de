"""`notify()`: the one way the platform tells a user something (clause 3.6).

The in-site inbox always gets the notice, in the same transaction as the change it reports; every
other channel is a delivery row plus a task enqueued in that transaction, so sending happens after
commit, and every try is logged (tasks.py): e-mail to the account's address, SMS to its verified mobile
number (a vendor template whose parameter is the subject), WeChat to the bound openid when configured.
Channels the user switched off get a `skipped` row (proof that nothing was sent, and why); mandatory
events ignore the switches. Marketing messages need consent and wait for the end of quiet hours.
"""

from django.db import transaction
from django.template import Context, Template
from django.utils import translation

from wuji.core import clock

from . import events, preferences, quiet_hours, wechat
from .choices import AttemptResult, DeliveryStatus, NoticeChannel, NoticeKind
from .models import Delivery, DeliveryAttempt, Notice

SWITCHED_OFF = "switched off in the user's notification settings"


def _render(text: str, context: dict) -> str:
    return Template(text).render(Context(context, autoescape=False))


def _addresses(recipient, spec) -> list[tuple[str, str]]:
    """The channels this event goes out on for this recipient, with the address on each."""
    found = []
    if NoticeChannel.EMAIL in spec.channels and recipient.email:
        found.append((NoticeChannel.EMAIL, recipient.email))
    phone = getattr(recipient, "phone", "")
    if NoticeChannel.SMS in spec.channels and phone:
        found.append((NoticeChannel.SMS, phone))
    if wechat.is_enabled_for(spec.code):
        openid = preferences.wechat_openid(recipient)
        if openid:
            found.append((NoticeChannel.WECHAT, openid))
    return found


def notify(recipient, event: str, context: dict | None = None) -> Notice | None:
    """Write the notice to the recipient's inbox and enqueue its other channels. Returns the notice, or
    None for a marketing message to someone who has not consented (nothing is written or sent)."""
    spec = events.get(event)
    if spec.kind == NoticeKind.MARKETING and not preferences.has_marketing_consent(recipient):
        return None
    context = context or {}
    english = (getattr(recipient, "language", "") or "").startswith("en")
    with translation.override("en" if english else "zh-hans"):
        subject = _render(spec.subject_en if english else spec.subject_zh, context)
        body = _render(spec.body_en if english else spec.body_zh, context)
    now = clock.now()
    held_until = quiet_hours.quiet_until(now) if spec.kind == NoticeKind.MARKETING else None
    off = set() if spec.mandatory else preferences.switched_off(recipient)
    from . import tasks

    with transaction.atomic():
        notice = Notice.objects.create(recipient=recipient, event=event, kind=spec.kind, subject=subject[:200],
                                       body=body, mandatory=spec.mandatory, created_at=now)
        inbox = Delivery.objects.create(notice=notice, channel=NoticeChannel.INBOX, address="",
                                        status=DeliveryStatus.SENT, attempts=1, updated_at=now)
        DeliveryAttempt.objects.create(delivery=inbox, channel=NoticeChannel.INBOX, attempted_at=now,
                                       result=AttemptResult.SENT)
        for channel, address in _addresses(recipient, spec):
            if (spec.kind, channel) in off:
                Delivery.objects.create(notice=notice, channel=channel, address=address, updated_at=now,
                                        status=DeliveryStatus.SKIPPED, detail=SWITCHED_OFF)
                continue
            delivery = Delivery.objects.create(notice=notice, channel=channel, address=address, updated_at=now,
                                               next_attempt_at=held_until)
            tasks.schedule(delivery, held_until)
    return notice


def inbox_of(user):
    return Notice.objects.filter(recipient=user)


def mark_read(user, notice_ids) -> int:
    return Notice.objects.filter(recipient=user, pk__in=notice_ids, read_at__isnull=True).update(
        read_at=clock.now())
