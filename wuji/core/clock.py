"""The platform clock. All business code reads the time from here, never from datetime directly.

`wuji simulate` and tests move it forward with `advance()`; `time-machine` also works because `now()`
reads Django's timezone.now() underneath.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
_offset = dt.timedelta(0)


def now() -> dt.datetime:
    """The current instant, timezone-aware, in UTC."""
    return timezone.now() + _offset


def local_now() -> dt.datetime:
    """The current instant in business time (Asia/Shanghai)."""
    return now().astimezone(SHANGHAI)


def advance(delta: dt.timedelta) -> None:
    """Move the platform clock forward (simulation only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Calendar months in business time: Jan 31 + 1 month = Feb 28/29 (day clamped to month end)."""
    local = moment.astimezone(SHANGHAI)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    next_month_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month_first - dt.timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day)).astimezone(dt.UTC)
