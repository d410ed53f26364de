"""Payments tasks: the channel calls that follow a commit, and the reconciliation job."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import services


@task()
def request_payment(topup_id: int) -> str:
    """Ask the channel for what the payer needs (WeChat Native: the code_url) and keep it on the top-up."""
    return services.request_payment(topup_id)


@periodic("payments.reconcile_topups", every=dt.timedelta(minutes=10))
@task()
def reconcile_topups() -> dict:
    """Query pending top-ups at their channel: credit the paid ones, close the expired ones."""
    return services.reconcile_topups()
