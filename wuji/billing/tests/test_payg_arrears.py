"""Pay-as-you-go arrears (4.5.2.1): debt instead of a negative balance, grace, suspension, top-up collects the
debt and resumes, release after retention, low-balance warnings once per episode."""

import datetime as dt

import pytest
import time_machine

from wuji.billing import payg
from wuji.billing.models import Meter
from wuji.compute.choices import SuspensionReason, VmState
from wuji.core import testing
from wuji.ledger import services as ledger
from wuji.ledger.models import Transaction
from wuji.notifications.models import Notice

from .payg_helpers import START, buy

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def machine(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def poor(catalogue, settings):
    settings.WUJI_PAYG_MIN_BALANCE_FEN = 100
    return testing.make_customer("carol@example.com", balance_fen=150)


def big(catalogue):
    from wuji.catalog.models import Plan

    return Plan.objects.get(code="s4")  # 0.40 元/h running


def notices(customer, event):
    return Notice.objects.filter(recipient=customer, event=event).count()


def into_arrears(machine, poor, catalogue):
    meter = buy(poor, catalogue, plan=big(catalogue))
    machine.shift(4 * HOUR)
    run = payg.settle()  # 160 fen due, 150 available
    assert (run.charged_fen, run.new_debt_fen) == (150, 10)
    meter.refresh_from_db()
    assert (meter.debt_fen, meter.arrears_since) == (10, START + 4 * HOUR)
    assert ledger.balances(poor) == {"cash": 0, "gift": 0, "frozen": 0}
    return meter


def test_debt_grace_suspension_then_top_up_collects_and_resumes(machine, poor, catalogue):
    meter = into_arrears(machine, poor, catalogue)
    assert payg.check_arrears()["arrears_notices"] == 1
    assert payg.check_arrears()["arrears_notices"] == 0  # once
    machine.shift(HOUR)
    assert payg.check_arrears()["suspended"] == 0  # still in the grace period (2 h)
    machine.shift(HOUR)
    assert payg.check_arrears()["suspended"] == 1
    testing.run_tasks()
    meter.refresh_from_db()
    meter.server.refresh_from_db()
    assert (meter.server.vm_state, meter.server.suspension_reason) == (VmState.SUSPENDED, SuspensionReason.ARREARS)
    assert notices(poor, "billing.payg_suspended") == 1
    assert Notice.objects.get(recipient=poor, event="billing.payg_suspended").mandatory
    payg.settle()  # 2 more hours running before the suspension (80 fen) become debt; none after
    machine.shift(5 * HOUR)
    payg.settle()
    meter.refresh_from_db()
    assert meter.debt_fen == 90 and meter.charged_fen == 240
    testing.fund(poor, 50)
    assert payg.after_balance_credited(poor) == 50  # partial: still suspended
    meter.refresh_from_db()
    assert meter.debt_fen == 40 and meter.suspended_at is not None
    testing.fund(poor, 10_00)
    assert payg.after_balance_credited(poor) == 40
    testing.run_tasks()
    meter.refresh_from_db()
    meter.server.refresh_from_db()
    assert meter.debt_fen == 0 and meter.suspended_at is None and meter.arrears_since is None
    assert meter.server.vm_state == VmState.ACTIVE
    assert ledger.balances(poor)["cash"] == 10_00 - 40
    assert Transaction.objects.filter(idempotency_key__startswith=f"debt:{meter.server_id}:").count() == 2
    assert ledger.verify() == []


def test_debt_is_collected_first_at_the_next_settlement(machine, poor, catalogue):
    meter = into_arrears(machine, poor, catalogue)
    testing.fund(poor, 1_00)  # a top-up that did not go through after_balance_credited
    machine.shift(HOUR)
    payg.settle()  # 10 debt + 40 usage
    meter.refresh_from_db()
    assert meter.debt_fen == 0 and ledger.balances(poor)["cash"] == 50
    assert ledger.verify() == []


def test_release_after_retention_with_a_notice_a_day_before(machine, poor, catalogue):
    meter = into_arrears(machine, poor, catalogue)
    machine.shift(2 * HOUR)
    payg.check_arrears()
    testing.run_tasks()
    machine.shift(dt.timedelta(days=13, hours=23, minutes=59))
    assert payg.check_arrears()["release_notices"] == 0
    machine.shift(dt.timedelta(minutes=1))
    assert payg.check_arrears()["release_notices"] == 1
    machine.shift(dt.timedelta(hours=23, minutes=59))
    assert payg.check_arrears()["released"] == 0
    machine.shift(dt.timedelta(minutes=1))
    assert payg.check_arrears()["released"] == 1
    testing.run_tasks()
    meter.refresh_from_db()
    assert meter.server.vm_state == VmState.RELEASED and meter.released_at is not None
    assert notices(poor, "billing.payg_released") == 1
    assert payg.check_arrears()["released"] == 0
    # The debt survives the release and is collected by the next top-up.
    testing.fund(poor, 5_00)
    assert payg.after_balance_credited(poor) == meter.debt_fen > 0
    assert ledger.verify() == []


def test_low_balance_warnings_once_per_threshold_and_episode(machine, catalogue, settings):
    settings.WUJI_PAYG_MIN_BALANCE_FEN = 100
    dave = testing.make_customer("dave@example.com", balance_fen=20_00)
    buy(dave, catalogue, plan=big(catalogue))  # 40 fen/h: 72 h = 28.80 元, 24 h = 9.60 元
    assert payg.check_low_balance() == 1
    assert payg.check_low_balance() == 0
    assert Notice.objects.get(recipient=dave, event="billing.payg_low_balance").subject.startswith("余额预警")
    machine.shift(28 * HOUR)
    payg.settle()  # 11.20 元 spent: 8.80 left < 9.60
    assert payg.check_low_balance() == 1
    assert payg.check_low_balance() == 0
    testing.fund(dave, 100_00)
    assert payg.check_low_balance() == 0  # episode over
    assert Meter.objects.get(customer=dave).debt_fen == 0
    machine.shift(210 * HOUR)
    payg.settle()  # 84 元 more: back under 72 h → a new episode warns again
    assert payg.check_low_balance() == 1
    assert notices(dave, "billing.payg_low_balance") == 3
    assert ledger.verify() == []
