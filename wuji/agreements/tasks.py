"""Agreement tasks: telling every active customer about a revision, one batch per task run (clause 11), and the
daily retention purge for cancelled accounts (PIPL art. 19, 47)."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django_tasks import task

from wuji.core import clock
from wuji.core.scheduler import periodic

from .models import AgreementVersion, RevisionNotice


def notify_batch(version: AgreementVersion, *, after_user_id: int, size: int) -> int | None:
    """Tell the next `size` active customers (by id, after `after_user_id`) about `version`.

    Each user is told in their own transaction together with the row that proves it, so a batch that runs
    twice (a retried task, two workers) tells nobody twice. Returns the last user id seen, or None when done.
    """
    from wuji.notifications import services as notifications

    from . import notices
    from .services import beijing_time

    User = get_user_model()
    users = list(User.objects.filter(pk__gt=after_user_id, is_active=True, is_staff=False).order_by("pk")[:size])
    context = {"title": version.title, "version": version.version, "effective": beijing_time(version.effective_at),
               "link": reverse("portal:agreement")}
    for user in users:
        with transaction.atomic():
            _row, created = RevisionNotice.objects.get_or_create(version=version, user=user,
                                                                 defaults={"notified_at": clock.now()})
            if created:
                notifications.notify(user, notices.REVISED.code, context)
    return users[-1].pk if len(users) == size else None


@task()
def notify_revision(version_id: int, after_user_id: int = 0) -> str:
    """One batch of revision notices; enqueues the next batch until every active customer has been told."""
    version = AgreementVersion.objects.get(pk=version_id)
    size = max(1, int(settings.WUJI_AGREEMENT_NOTICE_BATCH))
    last = notify_batch(version, after_user_id=after_user_id, size=size)
    if last is None:
        return "done"
    notify_revision.enqueue(version_id=version_id, after_user_id=last)
    return f"told users up to #{last}"


@periodic("agreements.purge_cancelled_accounts", every=dt.timedelta(days=1))
@task()
def purge_cancelled_accounts() -> dict:
    """Delete what is past retention for cancelled (注销) accounts (wuji/agreements/retention.py)."""
    from . import retention

    return retention.purge_cancelled_accounts()
