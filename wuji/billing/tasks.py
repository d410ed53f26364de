"""Billing tasks: the freeze appeal deadline job (5.4.7)."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import freezes


@periodic("billing.apply_freeze_outcomes", every=dt.timedelta(minutes=15))
@task()
def apply_freeze_outcomes() -> int:
    """Freezes whose appeal deadline passed without an appeal: long-term freeze or refund to the source."""
    return freezes.apply_due_outcomes()
