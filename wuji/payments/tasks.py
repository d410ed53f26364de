"""Payments tasks: paying out refund legs after commit, and the periodic retry/query of pending ones."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import withdrawals


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
