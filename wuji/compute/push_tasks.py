"""The periodic job of server push: offers not accepted within the deadline lapse (3.2)."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import push


@periodic("compute.expire_pushes", every=dt.timedelta(minutes=5))
@task()
def expire_pushes() -> int:
    """Close open offers past their deadline and tell the senders. Idempotent: each offer closes once."""
    return push.expire_due()
