"""Abuse signals over stored samples (4.5.1.9, 4.5.1 DDoS): each rule fires on a sustained rate, and not just
under its threshold, nor with a gap in its window, nor for a server that is not running; actions, summaries
and evidence come from the settings and the points; the reads do not grow with the number of servers."""

import dataclasses
import datetime as dt
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuji.compute import abuse_signals, metrics
from wuji.compute.choices import VmState
from wuji.compute.models import Server

from .test_operations import active_server

START = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
GBIT = 10**9


def write(server, *, minutes: int, cpu_percent: float = 5, in_bps: float = 1000, out_pps: float = 10,
          skip: frozenset = frozenset(), cpu_dips: dict | None = None, start=START) -> dt.datetime:
    """Store minute samples (at :30 past each minute, through `metrics.store`) whose rates are the figures
    given over `minutes` minutes from `start`, leaving out the samples numbered in `skip`; `cpu_dips` maps a
    sample number to the CPU % of the minute it ends. Returns the instant just after the last whole minute the
    samples cover: the `now` at which a window of `minutes` is full."""
    rows, counters, cpu_dips = [], [0, 0, 0], cpu_dips or {}
    for k in range(minutes + 1):
        at = start + dt.timedelta(seconds=30 + 60 * k)
        if k:
            counters[0] += int(cpu_dips.get(k, cpu_percent) / 100 * 60e9 * server.vcpus)
            counters[1] += int(in_bps / 8 * 60)
            counters[2] += int(out_pps * 60)
        if k not in skip:
            rows.append((server.pk, at, counters[0], counters[1], 0, 0, counters[2], 0, 0))
    metrics.store(rows)
    return start + dt.timedelta(minutes=minutes + 1, seconds=10)


@pytest.fixture
def server(customer, catalogue):
    return active_server(customer, catalogue)


def rules_of(signals):
    return [(s.rule, s.server_id, s.action) for s in signals]


# --- mining ------------------------------------------------------------------------------------------------


def test_mining_fires_after_six_hours_at_or_above_ninety_percent(server, customer, catalogue):
    idle = active_server(customer, catalogue, key="idle")
    now = write(server, minutes=360, cpu_percent=97)
    write(idle, minutes=360, cpu_percent=20)
    (signal,) = abuse_signals.evaluate(now=now)
    assert (signal.rule, signal.server_id, signal.action) == ("mining", server.pk, "warn")
    assert len(signal.evidence) == 360
    assert signal.evidence[0] == {"at": (START + dt.timedelta(minutes=1)).isoformat(), "cpu_percent": 97.0}
    json.dumps(signal.evidence)  # JSON-safe
    assert "CPU 使用率连续 6 小时不低于 90%" in signal.summary and "平均 97.0%" in signal.summary
    with pytest.raises(dataclasses.FrozenInstanceError):
        signal.rule = "x"


def test_mining_does_not_fire_just_under_the_threshold_or_with_one_minute_under(server, customer, catalogue):
    dipped = active_server(customer, catalogue, key="dipped")
    now = write(server, minutes=360, cpu_percent=89.9)
    write(dipped, minutes=360, cpu_percent=95, cpu_dips={200: 50})  # one minute at 50 %
    assert abuse_signals.evaluate(now=now) == []


def test_mining_allows_a_few_missing_minutes_but_not_a_gap(server, customer, catalogue):
    gap = active_server(customer, catalogue, key="gap")
    now = write(server, minutes=360, cpu_percent=95, skip=frozenset(range(100, 110)))  # 10 of 360: under 5 %
    write(gap, minutes=360, cpu_percent=95, skip=frozenset(range(100, 130)))  # 30 minutes unknown
    assert rules_of(abuse_signals.evaluate(now=now)) == [("mining", server.pk, "warn")]


def test_mining_needs_the_whole_window(server):
    now = write(server, minutes=300, cpu_percent=99)  # five hours only
    assert abuse_signals.evaluate(now=now) == []


# --- attacks -----------------------------------------------------------------------------------------------


def test_attack_source_fires_on_sustained_outbound_packets(server, customer, catalogue):
    under = active_server(customer, catalogue, key="under")
    gap = active_server(customer, catalogue, key="gap")
    now = write(server, minutes=5, out_pps=60_000)
    write(under, minutes=5, out_pps=49_999)
    write(gap, minutes=5, out_pps=60_000, skip=frozenset({3}))  # one sample missing: a minute unknown
    (signal,) = abuse_signals.evaluate(now=now)
    assert (signal.rule, signal.server_id, signal.action) == ("attack_source", server.pk, "suspend")
    assert [e["packets_out_ps"] for e in signal.evidence] == [60_000] * 5
    assert "出站包速率连续 5 分钟不低于 50,000 包/秒" in signal.summary


def test_attack_target_fires_with_the_blackhole_action(server, customer, catalogue):
    under = active_server(customer, catalogue, key="under")
    now = write(server, minutes=5, in_bps=1.2 * GBIT)
    write(under, minutes=5, in_bps=0.99 * GBIT)
    (signal,) = abuse_signals.evaluate(now=now)
    assert (signal.rule, signal.server_id, signal.action) == ("attack_target", server.pk, "blackhole")
    assert signal.evidence[-1] == {"at": (START + dt.timedelta(minutes=5)).isoformat(), "net_in_bps": 1.2 * GBIT}
    assert "1.00 Gbit/s" in signal.summary and "平均 1.20 Gbit/s" in signal.summary


def test_an_attack_that_ended_before_the_window_does_not_fire(server):
    write(server, minutes=5, in_bps=2 * GBIT)
    later = START + dt.timedelta(minutes=20)
    assert abuse_signals.evaluate(now=later) == []


# --- scope, settings, cost ---------------------------------------------------------------------------------


def test_only_running_servers_are_evaluated(server):
    now = write(server, minutes=5, in_bps=2 * GBIT)
    Server.objects.filter(pk=server.pk).update(vm_state=VmState.STOPPED)
    assert abuse_signals.evaluate(now=now) == []


def test_thresholds_windows_and_actions_come_from_the_settings(server, settings):
    now = write(server, minutes=10, cpu_percent=60, in_bps=2 * GBIT)
    settings.WUJI_ABUSE_RULES = {
        "mining": {"threshold": 50, "minutes": 10, "max_missing_share": 0, "action": "suspend"},
        "attack_target": {"threshold": GBIT, "minutes": 5, "max_missing_share": 0, "action": "none"},
    }
    assert rules_of(abuse_signals.evaluate(now=now)) == [("mining", server.pk, "suspend"),
                                                         ("attack_target", server.pk, "none")]
    settings.WUJI_ABUSE_RULES = {"attack_target": {"threshold": GBIT, "minutes": 5, "max_missing_share": 0,
                                                   "action": "explode"}}
    with pytest.raises(ImproperlyConfigured, match="action"):
        abuse_signals.evaluate(now=now)
    settings.WUJI_ABUSE_RULES = {"ddos": {}}
    with pytest.raises(ImproperlyConfigured, match="unknown rule"):
        abuse_signals.evaluate(now=now)


def test_the_reads_do_not_grow_with_the_number_of_servers(server, customer, catalogue):
    now = write(server, minutes=360, cpu_percent=95)
    with CaptureQueriesContext(connection) as one:
        assert len(abuse_signals.evaluate(now=now)) == 1
    for key in "bc":
        write(active_server(customer, catalogue, key=key), minutes=360, cpu_percent=95)
    with CaptureQueriesContext(connection) as three:
        assert len(abuse_signals.evaluate(now=now)) == 3
    assert len(three) == len(one) == 2  # the running servers, then their samples
