"""Helpers of the pay-as-you-go tests."""

import datetime as dt

from wuji.billing import payg
from wuji.compute.choices import VmState
from wuji.core import testing

START = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)


def buy(customer, catalogue, *, key="p1", plan=None):
    meter, password = payg.place_payg_order(
        customer=customer, region=catalogue["region"], plan=plan or catalogue["plan"], image=catalogue["image"],
        name="payg", idempotency_key=key, channel="web", ip="127.0.0.1")
    testing.run_tasks()
    meter.refresh_from_db()
    meter.server.refresh_from_db()
    assert meter.server.vm_state == VmState.ACTIVE
    return meter
