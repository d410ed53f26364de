"""Property: over any sequence of state changes and settlement times, the fen charged equal the exact usage
rounded down once, and no settlement ever charges more than the usage up to that moment."""

import datetime as dt
import itertools
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuji.billing import payg
from wuji.billing.models import Meter
from wuji.compute.choices import VmState
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Posting

from .payg_helpers import START, buy

PRICES = {VmState.ACTIVE: Fraction("0.06"), VmState.STOPPED: Fraction("0.005")}
STATES = [VmState.ACTIVE, VmState.STOPPED, VmState.SUSPENDED, VmState.ERROR]
_epochs = itertools.count(1)

steps = st.lists(
    st.tuples(st.integers(min_value=1, max_value=3 * 3600), st.sampled_from(STATES + ["settle"])),
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_total_charged_is_exact_usage_rounded_down_once(customer, catalogue, steps):
    meter = Meter.objects.filter(customer=customer).first()
    if meter is None:
        testing.fund(customer, 10**9)
        meter = buy(customer, catalogue)
    # Each example meters a fresh stretch of time far from the others, from a clean meter.
    start = START + dt.timedelta(days=400 * next(_epochs))
    Meter.objects.filter(pk=meter.pk).update(metered_until=start, settled_until=start, accrued=0, carried=0,
                                             charged_fen=0, rate="none")
    paid_before = _paid(customer)
    now, state, exact = start, VmState.SUSPENDED, Fraction(0)
    metered = start
    for seconds, action in steps:
        now += dt.timedelta(seconds=seconds)
        if action == "settle":
            end = payg.period_end(now)
            if end > metered:
                exact += PRICES.get(state, 0) * int((end - metered).total_seconds())
                metered = end
            payg.settle(now)
            meter.refresh_from_db()
            # Never more than the usage metered so far; what is left is the sub-fen remainder plus unsettled usage.
            assert meter.charged_fen * 36 <= exact  # exact is in price-seconds (元 × 3600)
            units = meter.charged_fen * 36 * 10**8 + meter.carried + meter.accrued
            assert meter.carried < 36 * 10**8 and units == exact * 10**8
        else:
            exact += PRICES.get(state, 0) * int((now - metered).total_seconds())
            metered = now
            payg.checkpoint(server_id=meter.server_id, vm_state=action, at=now)
            state = action
    final = payg.period_end(now) + dt.timedelta(hours=1)
    exact += PRICES.get(state, 0) * int((final - metered).total_seconds())
    payg.settle(final)
    meter.refresh_from_db()
    assert meter.charged_fen == exact // 36  # the exact usage in fen, rounded down once
    assert _paid(customer) - paid_before == meter.charged_fen
    assert meter.debt_fen == 0


def _paid(customer):
    from django.db.models import Sum

    return -(Posting.objects.filter(account__code=ledger.customer_account_code(customer.pk, "cash"),
                                    transaction__idempotency_key__startswith="settle:")
             .aggregate(total=Sum("amount"))["total"] or 0)


def test_ledger_sound_after_the_property_run(customer, catalogue):
    assert ledger.verify() == []
