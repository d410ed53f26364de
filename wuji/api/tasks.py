"""API tasks: the hourly purge of idempotency records past their 24 hours (docs/decisions/0042)."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic


@periodic("api.purge_idempotency_records", every=dt.timedelta(hours=1))
@task()
def purge_idempotency_records() -> int:
    """Delete stored API responses (and abandoned claims) older than the 24-hour replay window."""
    from . import idempotency

    return idempotency.purge()
