"""Periodic jobs of pay-as-you-go billing: settlement (hourly by default) and the arrears lifecycle."""

import datetime as dt
import logging

from django.conf import settings
from django_tasks import task

from wuji.core.scheduler import periodic

from . import payg, snapshots

log = logging.getLogger(__name__)


@periodic("billing.payg_settle", every=dt.timedelta(minutes=settings.WUJI_PAYG_SETTLEMENT_MINUTES))
@task()
def settle_payg() -> dict:
    run = payg.settle()
    snapshot_run = snapshots.settle(run.period_end)
    log.info("payg settlement to %s: %s meters, %s charges, %s fen, %s chunks, longest %.3fs", run.period_end,
             run.meters, run.charges, run.charged_fen, run.chunks, run.longest_chunk_seconds)
    return {"meters": run.meters, "charges": run.charges, "charged_fen": run.charged_fen,
            "new_debt_fen": run.new_debt_fen, "longest_chunk_seconds": run.longest_chunk_seconds,
            "snapshot_charges": snapshot_run["charges"], "snapshot_charged_fen": snapshot_run["charged_fen"]}


@periodic("billing.payg_arrears", every=dt.timedelta(minutes=settings.WUJI_PAYG_ARREARS_CHECK_MINUTES))
@task()
def check_payg_arrears() -> dict:
    counts = payg.check_arrears()
    counts["low_balance_warnings"] = payg.check_low_balance()
    return counts
