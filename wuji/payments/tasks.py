"""Payments tasks: the channel calls that follow a commit (payment requests, refund legs) and the periodic
reconciliation of pending top-ups and refunds."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import services, withdrawals


@task()
def pay_out_withdrawal(withdrawal_id: int) -> None:
    withdrawals.pay_out(withdrawal_id)


@task()
def send_refund(refund_id: int) -> str:
    return withdrawals.send_refund(refund_id)


@periodic("payments.retry_pending_refunds", every=dt.timedelta(minutes=10))
@task()
def retry_pending_refunds() -> int:
    """Query refunds the channels accepted but have not finished, and resend those whose call failed."""
    return withdrawals.retry_pending_refunds()


@task()
def request_payment(topup_id: int) -> str:
    """Ask the channel for what the payer needs (WeChat Native: the code_url) and keep it on the top-up."""
    return services.request_payment(topup_id)


@periodic("payments.reconcile_topups", every=dt.timedelta(minutes=10))
@task()
def reconcile_topups() -> dict:
    """Query pending top-ups at their channel: credit the paid ones, close the expired ones."""
    return services.reconcile_topups()
