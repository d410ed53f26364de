"""Proof of notice (通知送达证明): who was told of an event, when, on which channels, and every try's result.

Staff pick an event — the legal ones first: agreement revisions, migrations, freezes, correction requests,
releases of resources — and optionally narrow by object (text in the notice, e.g. a server name or a
freeze number), recipient and dates. One row per delivery attempt; deliveries never tried (skipped,
held) are one row with an empty attempt.
"""

import csv
import datetime as dt
import io

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from wuji.core import clock

from . import events
from .choices import NoticeKind
from .models import Delivery, DeliveryAttempt, Notice


def event_choices() -> list[tuple[str, str]]:
    legal = sorted(code for code, event in events.EVENTS.items() if event.kind == NoticeKind.LEGAL)
    rest = sorted(code for code in events.EVENTS if code not in legal)
    return [(code, f"{code} · {events.EVENTS[code].subject_zh}") for code in legal + rest]


def notices_for(event: str, *, text: str = "", recipient: str = "", since: dt.date | None = None,
                until: dt.date | None = None):
    notices = Notice.objects.filter(event=event).select_related("recipient").prefetch_related(
        Prefetch("deliveries", Delivery.objects.prefetch_related(
            Prefetch("attempt_log", DeliveryAttempt.objects.order_by("id")))))
    if text:
        notices = notices.filter(Q(subject__icontains=text) | Q(body__icontains=text))
    if recipient:
        notices = notices.filter(recipient__email__icontains=recipient)
    if since:
        notices = notices.filter(created_at__gte=dt.datetime.combine(since, dt.time(), clock.SHANGHAI))
    if until:
        notices = notices.filter(created_at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time(),
                                                                    clock.SHANGHAI))
    return notices.order_by("id")


def rows(notices) -> list[dict]:
    table = []
    for notice in notices:
        for delivery in notice.deliveries.all():
            base = {"notice": notice, "delivery": delivery}
            attempts = list(delivery.attempt_log.all())
            table += [{**base, "attempt": attempt} for attempt in attempts] or [{**base, "attempt": None}]
    return table


def _local(moment) -> str:
    return f"{moment.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M:%S}" if moment else ""


def as_csv(table: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("通知编号"), _("接收人"), _("事件"), _("通知时间"), _("渠道"), _("地址"), _("状态"),
                     _("发送时间"), _("结果"), _("说明"), _("阅读时间")])
    for row in table:
        notice, delivery, attempt = row["notice"], row["delivery"], row["attempt"]
        writer.writerow([
            notice.pk, notice.recipient.email, notice.event, _local(notice.created_at), delivery.channel,
            delivery.address, delivery.status, _local(attempt.attempted_at) if attempt else "",
            attempt.result if attempt else "", (attempt.detail if attempt else delivery.detail),
            _local(notice.read_at),
        ])
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Chinese correctly
