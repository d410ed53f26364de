"""Quiet hours (免打扰时段, Asia/Shanghai): marketing messages are held until they end (decision 0032).

WUJI_QUIET_HOURS_START / END are "HH:MM" in business time; a start later than the end wraps midnight
(21:00–08:00, the default). Equal values switch quiet hours off.
"""

import datetime as dt

from django.conf import settings

from wuji.core import clock


def _parse(value: str, name: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be HH:MM, not {value!r}") from exc


def quiet_until(moment: dt.datetime) -> dt.datetime | None:
    """If `moment` falls in quiet hours, the instant they end (UTC); otherwise None."""
    start = _parse(settings.WUJI_QUIET_HOURS_START, "WUJI_QUIET_HOURS_START")
    end = _parse(settings.WUJI_QUIET_HOURS_END, "WUJI_QUIET_HOURS_END")
    local = moment.astimezone(clock.SHANGHAI)
    time = local.time().replace(tzinfo=None)
    quiet = (time >= start or time < end) if start > end else (start <= time < end)
    if start == end or not quiet:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += dt.timedelta(days=1)
    return ends.astimezone(dt.UTC)
