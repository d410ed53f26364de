import datetime as dt
from decimal import Decimal

import pytest

from wuji.core import clock, money


@pytest.mark.parametrize("text, fen", [("12.34", 1234), ("0.01", 1), ("100", 10000), (" 5.5 ", 550)])
def test_yuan_to_fen(text, fen):
    assert money.yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["1.001", "abc", "", "NaN", "Infinity"])
def test_yuan_to_fen_refuses_what_is_not_an_exact_amount(text):
    with pytest.raises(money.MoneyError):
        money.yuan_to_fen(text)


def test_format_cny():
    assert money.format_cny(123456) == "¥1,234.56"
    assert money.format_cny(-5) == "-¥0.05"


def test_usage_charge_rounds_down_once_over_the_period():
    # domain-cn §10: 0.3456 元/h for 1 h + 1 h + 37 min → exact 0.90432, charged 0.90 in total with carry.
    price = Decimal("0.3456")
    carried, total = Decimal(0), 0
    for seconds in (3600, 3600, 37 * 60):
        fen, carried = money.charge_for_usage(price, seconds, carried)
        total += fen
    assert total == 90
    assert carried == Decimal("0.00432")


def test_add_months_clamps_to_month_end_in_business_time():
    jan31 = dt.datetime(2027, 1, 31, 4, 0, tzinfo=clock.SHANGHAI)
    assert clock.add_months(jan31, 1).astimezone(clock.SHANGHAI).date() == dt.date(2027, 2, 28)
    # 23:30 UTC on 31 Mar is already 1 Apr in Shanghai: one month later is 1 May there.
    late = dt.datetime(2027, 3, 31, 23, 30, tzinfo=dt.UTC)
    assert clock.add_months(late, 1).astimezone(clock.SHANGHAI).date() == dt.date(2027, 5, 1)


def test_clock_advance_moves_business_time():
    before = clock.now()
    clock.advance(dt.timedelta(days=3))
    try:
        assert clock.now() - before >= dt.timedelta(days=3)
    finally:
        clock.reset()
