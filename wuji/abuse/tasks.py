"""The periodic abuse scan: the rules over server metrics (`wuji.compute.abuse_signals`) open or extend cases."""

import datetime as dt
import logging

from django.conf import settings
from django_tasks import task

from wuji.core.scheduler import periodic

from . import services

log = logging.getLogger(__name__)


@periodic("abuse.scan_metrics", every=dt.timedelta(minutes=settings.WUJI_ABUSE_SCAN_MINUTES))
@task()
def scan_metrics() -> dict:
    """Evaluate every abuse rule over the collected samples; each signal opens a case (or adds its evidence to
    the open case of that server and rule) and applies the rule's configured measure once per case."""
    from wuji.compute import abuse_signals

    signals = abuse_signals.evaluate()
    cases = set()
    for signal in signals:
        try:
            cases.add(services.open_rule_case(signal).pk)
        except services.CaseRefused as exc:  # a misconfigured rule: the other signals still count
            log.error("abuse signal %s for server %s refused: %s", signal.rule, signal.server_id, exc.message)
    return {"signals": len(signals), "cases": len(cases)}
