"""Server-rendered line charts: the geometry of small inline SVG charts, computed here so that templates only
print numbers into SVG attributes (no script, no inline style: the page works under a strict CSP)."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import timezone

WIDTH, HEIGHT = 600, 150  # the viewBox; the chart scales to its container
PLOT_TOP, PLOT_BOTTOM = 20, 130  # y of the plot area's top and bottom (room for the labels above and below)
TICKS = 4  # time labels along the bottom, ends included


@dataclass(frozen=True)
class Line:
    label: str
    css: str  # class of the line and its legend swatch
    segments: tuple[str, ...]  # SVG polyline `points`, one per run of samples without a gap


@dataclass(frozen=True)
class Chart:
    title: str
    top: str  # the value at the top of the plot, formatted with its unit
    lines: tuple[Line, ...]
    ticks: tuple[tuple[float, str], ...]  # (x, "HH:MM")
    is_empty: bool
    width: int = WIDTH
    height: int = HEIGHT
    plot_top: int = PLOT_TOP
    plot_bottom: int = PLOT_BOTTOM


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    points: Sequence[tuple[dt.datetime, float]]


def line_chart(title: str, series: Sequence[Series], *, since: dt.datetime, until: dt.datetime,
               fmt: Callable[[float], str], floor_top: float = 0, gap: dt.timedelta = dt.timedelta(minutes=5)) -> Chart:
    """Scale `series` into the plot: time from `since` to `until` left to right, 0 to the largest value (at
    least `floor_top`) bottom to top. A gap longer than `gap` between two points breaks the line."""
    values = [v for s in series for _t, v in s.points]
    top = max([floor_top, *values]) or 1
    span = (until - since).total_seconds()

    def x(moment: dt.datetime) -> float:
        return round((moment - since).total_seconds() / span * WIDTH, 1)

    def y(value: float) -> float:
        return round(PLOT_BOTTOM - value / top * (PLOT_BOTTOM - PLOT_TOP), 1)

    lines = tuple(Line(s.label, s.css, tuple(
        " ".join(f"{x(t)},{y(v)}" for t, v in run) for run in _runs(s.points, gap))) for s in series)
    ticks = tuple((x(moment), timezone.localtime(moment).strftime("%H:%M"))
                  for moment in (since + (until - since) * i / (TICKS - 1) for i in range(TICKS)))
    return Chart(title=title, top=fmt(top), lines=lines, ticks=ticks, is_empty=not values)


def _runs(points: Sequence[tuple[dt.datetime, float]], gap: dt.timedelta) -> list[list]:
    runs: list[list] = []
    for point in points:
        if runs and point[0] - runs[-1][-1][0] <= gap:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def scaled(value: float, units: Sequence[str], base: int) -> str:
    """1234567 with ("bit/s", "Kbit/s", …) and 1000 → "1.2 Mbit/s"."""
    for unit in units[:-1]:
        if abs(value) < base:
            return f"{value:.3g} {unit}"
        value /= base
    return f"{value:.3g} {units[-1]}"
