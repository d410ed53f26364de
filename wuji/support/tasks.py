"""Support's background work: closing tickets that stayed resolved (WUJI_TICKET_AUTOCLOSE_DAYS)."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import services


@periodic("support.close_resolved_tickets", every=dt.timedelta(hours=1))
@task()
def close_resolved_tickets() -> int:
    return services.close_resolved_tickets()
