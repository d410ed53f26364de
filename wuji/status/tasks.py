"""Telling the owners affected by a maintenance window, in batches (one task per batch)."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tasks import task

from . import services
from .choices import MaintenanceNoticeKind, MaintenanceState
from .models import MaintenanceWindow


@task()
def notify_window(window_id: int, kind: str, ends_at: str, reason: str = "", after_owner_id: int = 0) -> int:
    """Notify the next batch of owners (ids above `after_owner_id`) and enqueue the batch after it. Safe to run
    twice: each owner is told once per window event (`MaintenanceNotice`). A window cancelled before its
    scheduled notices went out sends no more of them."""
    window = MaintenanceWindow.objects.get(pk=window_id)
    if kind != MaintenanceNoticeKind.CANCELLED and window.state != MaintenanceState.PUBLISHED:
        return 0
    moment = dt.datetime.fromisoformat(ends_at)
    batch = settings.WUJI_MAINTENANCE_NOTIFY_BATCH
    owners = services.recipients(window, kind)
    todo = sorted(owner_id for owner_id in owners if owner_id > after_owner_id)[:batch]
    users = get_user_model().objects.in_bulk(todo)
    sent = sum(services.notify_owner(window, recipient=users[pk], kind=kind, ends_at=moment, servers=owners[pk],
                                     reason=reason) for pk in todo)
    if len(todo) == batch:
        notify_window.enqueue(window_id=window_id, kind=kind, ends_at=ends_at, reason=reason,
                              after_owner_id=todo[-1])
    return sent
