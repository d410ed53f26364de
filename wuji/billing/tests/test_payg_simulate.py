"""`wuji simulate --here`: the periodic jobs run hour by hour over a seeded population; the ledger stays sound."""

import io

import pytest
from django.core.management import call_command

from wuji.core import clock


@pytest.fixture
def restore_clock():
    yield
    clock.reset()


def test_simulate_two_days_settles_hourly_and_keeps_the_ledger_sound(db, restore_clock):
    out = io.StringIO()
    call_command("simulate", "--here", "--days", "2", "--customers", "3", stdout=out)
    lines = out.getvalue().splitlines()
    days = [line for line in lines if line.startswith("day ")]
    assert len(days) == 2
    # 3 customers, 4 payg servers (the poorest runs two), one settlement per hour each.
    assert "payg settlements 96" in days[1]
    assert lines[-1] == "ledger.verify(): clean"
