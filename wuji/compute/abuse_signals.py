"""Abuse signals over the collected server metrics (滥用检测, clauses 4.5.1.9 and 4.5.1 ¶ DDoS).

Each rule watches one per-minute rate of `wuji.compute.metrics` over a window ending at the last whole minute:

- mining (挖矿): CPU at or above the threshold (default 90 %) for the whole window (default 6 hours);
- attack_source (对外攻击): outbound packets/s at or above the threshold (default 50 000) for the window
  (default 5 minutes). Connection rates are not visible in hypervisor counters, so packets stand in for them;
- attack_target (遭受攻击): inbound bits/s at or above the threshold (default 1 Gbit/s) for the window
  (default 5 minutes); its action is "blackhole" by default.

A rule fires only when every point present in the window is at or above its threshold and at most
`max_missing_share` of the window's expected points are missing (a collector run may miss a node; a longer
gap means nothing is known about that time, so nothing is claimed). Thresholds, windows, missing share and
the action are settings (WUJI_ABUSE_RULES). `evaluate` only reports: acting on a signal (a warning, a
suspension, a blackhole) is for the abuse cases that consume it. See decision 0035.
"""

import datetime as dt
import itertools
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wuji.core import clock

from . import metrics
from .choices import VmState
from .models import Server

ACTIONS = ("none", "warn", "suspend", "blackhole")
# Each rule's rate (a RatePoint attribute).
METRICS = {"mining": "cpu_percent", "attack_source": "packets_out_ps", "attack_target": "net_in_bps"}
SERVERS_PER_QUERY = 500  # bounds the memory of one read; the samples of a batch come in one query


@dataclass(frozen=True)
class Signal:
    """One server matching one rule: `evidence` holds the matching points (JSON-safe), `action` the rule's
    configured action ("none" | "warn" | "suspend" | "blackhole")."""

    rule: str
    server_id: int
    summary: str
    evidence: list[dict]
    action: str


@dataclass(frozen=True)
class Rule:
    name: str
    threshold: float
    window: dt.timedelta
    max_missing_share: float
    action: str

    @property
    def metric(self) -> str:
        return METRICS[self.name]


def configured_rules() -> list[Rule]:
    """The rules in WUJI_ABUSE_RULES (a rule left out is off). Raises ImproperlyConfigured, naming the rule
    and the key, for anything it cannot run safely."""
    rules = []
    for name, config in settings.WUJI_ABUSE_RULES.items():
        if name not in METRICS:
            raise ImproperlyConfigured(f"WUJI_ABUSE_RULES: unknown rule {name!r} (known: {', '.join(METRICS)})")
        missing = {"threshold", "minutes", "max_missing_share", "action"} - set(config)
        if missing:
            raise ImproperlyConfigured(f"WUJI_ABUSE_RULES[{name!r}] lacks {', '.join(sorted(missing))}")
        if config["action"] not in ACTIONS:
            raise ImproperlyConfigured(f"WUJI_ABUSE_RULES[{name!r}]['action'] must be one of {', '.join(ACTIONS)}")
        if not (isinstance(config["minutes"], int) and config["minutes"] >= 1 and config["threshold"] > 0
                and 0 <= config["max_missing_share"] < 1):
            raise ImproperlyConfigured(f"WUJI_ABUSE_RULES[{name!r}]: minutes must be a positive integer, threshold "
                                       f"positive and max_missing_share in [0, 1)")
        rules.append(Rule(name=name, threshold=float(config["threshold"]),
                          window=dt.timedelta(minutes=config["minutes"]),
                          max_missing_share=float(config["max_missing_share"]), action=config["action"]))
    return rules


def evaluate(*, now: dt.datetime | None = None) -> list[Signal]:
    """Every (running server, rule) pair that matches now, ordered by server then rule. The samples are read
    for the longest window once, SERVERS_PER_QUERY servers per query."""
    rules = configured_rules()
    if not rules:
        return []
    end = _minute_floor(now or clock.now())  # the minute in progress is not whole yet
    since = end - max(rule.window for rule in rules)
    step = max(metrics.STEP, dt.timedelta(seconds=settings.WUJI_METRICS_INTERVAL_SECONDS))
    running = Server.objects.filter(vm_state=VmState.ACTIVE).only("pk", "vcpus").order_by("pk").iterator()
    signals = []
    while batch := list(itertools.islice(running, SERVERS_PER_QUERY)):
        for server_id, points in metrics.series_for(batch, since=since, until=end).items():
            for rule in rules:
                window = _matching_window(rule, points, end=end, step=step)
                if window is not None:
                    signals.append(_signal(rule, server_id, window))
    return signals


def _minute_floor(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def _matching_window(rule: Rule, points: list[metrics.RatePoint], *, end: dt.datetime,
                     step: dt.timedelta) -> list[tuple[dt.datetime, float]] | None:
    """The window's (minute, value) pairs if the rule matches them, else None."""
    start = end - rule.window
    window = [(p.at, getattr(p, rule.metric)) for p in points if start <= p.at < end]
    expected = max(1, rule.window // step)
    if len(window) < expected - math.floor(expected * rule.max_missing_share):
        return None
    if any(value is None or value < rule.threshold for _at, value in window):
        return None
    return window


def _signal(rule: Rule, server_id: int, window: list[tuple[dt.datetime, float]]) -> Signal:
    values = [value for _at, value in window]
    figures = {"threshold": rule.threshold, "mean": sum(values) / len(values), "low": min(values),
               "high": max(values), "points": len(values), "window": _duration(rule.window)}
    return Signal(rule=rule.name, server_id=server_id, summary=SUMMARIES[rule.name](figures),
                  evidence=[{"at": at.isoformat(), rule.metric: round(value, 2)} for at, value in window],
                  action=rule.action)


def _duration(window: dt.timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} 小时" if minutes % 60 == 0 else f"{minutes} 分钟"


def _bits(bps: float) -> str:
    for unit, size in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= size:
            return f"{bps / size:.2f} {unit}"
    return f"{bps:.0f} bit/s"


# Chinese, with the figures: a signal's summary is read by compliance staff and copied into abuse cases.
SUMMARIES = {
    "mining": lambda f: (
        f"CPU 使用率连续 {f['window']}不低于 {f['threshold']:g}%（平均 {f['mean']:.1f}%，最低 {f['low']:.1f}%，"
        f"{f['points']} 个分钟点），疑似挖矿等大量占用计算资源的行为（协议第 4.5.1.9 条）。"),
    "attack_source": lambda f: (
        f"出站包速率连续 {f['window']}不低于 {f['threshold']:,.0f} 包/秒（平均 {f['mean']:,.0f}，"
        f"峰值 {f['high']:,.0f} 包/秒，{f['points']} 个分钟点），疑似对外发起攻击（协议第 4.5.1 条）。"),
    "attack_target": lambda f: (
        f"入站流量连续 {f['window']}不低于 {_bits(f['threshold'])}（平均 {_bits(f['mean'])}，"
        f"峰值 {_bits(f['high'])}，{f['points']} 个分钟点），疑似遭受 DDoS 攻击（协议第 4.5.1 条）。"),
}
