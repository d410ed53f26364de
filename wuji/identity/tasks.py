"""Identity tasks: the external provider check (after commit) and the 2.1.3 deadline job."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import services


@task()
def assess_verification(verification_id: int) -> str:
    return services.assess(verification_id)


@periodic("identity.restrict_overdue", every=dt.timedelta(minutes=15))
@task()
def restrict_overdue() -> int:
    """Restrict accounts whose false-information correction deadline passed uncorrected (2.1.3)."""
    return services.restrict_overdue()
