"""Cases opened by detection rules (`open_rule_case`): evidence samples, one open case per server and rule,
the configured measure applied once by the system."""

import pytest

from wuji.abuse import services
from wuji.abuse.choices import ActionKind, CaseSource, CaseStatus, EvidenceKind
from wuji.abuse.models import Case
from wuji.audit.models import Instruction
from wuji.compute.choices import VmState
from wuji.notifications.models import Notice

from .conftest import Signal

SAMPLES = [{"at": "2026-11-27T10:00:00+08:00", "cpu": 99.5, "pool": "stratum+tcp://198.51.100.3:3333"}]


def test_a_signal_opens_a_case_with_its_samples_and_suspends_as_the_system(server, customer):
    case = services.open_rule_case(Signal("mining", server.pk, "CPU 持续 99% 且连接矿池", SAMPLES, "suspend"))
    assert (case.source, case.rule, case.category, case.status) == (CaseSource.RULE, "mining", "mining",
                                                                   CaseStatus.ACTIONED)
    assert (case.server, case.owner, case.target) == (server, customer, "203.0.113.2")
    assert case.evidence.get().samples == SAMPLES and case.evidence.get().kind == EvidenceKind.RULE
    action = case.actions.get()
    assert action.kind == ActionKind.SUSPEND and action.staff is None
    assert action.instruction.channel == "system" and action.instruction.actor is None
    server.refresh_from_db()
    assert server.vm_state == VmState.SUSPENDED
    assert Notice.objects.filter(recipient=customer, event="abuse.action_taken").count() == 1


def test_a_second_signal_adds_evidence_to_the_open_case_without_repeating_the_measure(server):
    first = services.open_rule_case(Signal("attack_source", server.pk, "SYN flood", SAMPLES, "blackhole"))
    again = services.open_rule_case(Signal("attack_source", server.pk, "SYN flood", [{"pps": 90000}], "blackhole"))
    assert again.pk == first.pk and again.evidence.count() == 2 and again.actions.count() == 1
    other_rule = services.open_rule_case(Signal("mining", server.pk, "矿池连接", SAMPLES, "none"))
    assert other_rule.pk != first.pk and other_rule.status == CaseStatus.TRIAGED
    assert not other_rule.actions.exists() and other_rule.owner_informed_at is None


def test_an_escalated_measure_applies_and_a_refused_one_is_noted_for_staff(server):
    case = services.open_rule_case(Signal("mining", server.pk, "挖矿", SAMPLES, "warn"))
    case = services.open_rule_case(Signal("mining", server.pk, "挖矿持续", SAMPLES, "suspend"))
    assert [a.kind for a in case.actions.all()] == ["warn", "suspend"]
    other = services.open_rule_case(Signal("attack_target", server.pk, "被攻击", SAMPLES, "suspend"))
    assert not other.actions.exists()  # already suspended: the case stays, with an internal note
    note = other.messages.get()
    assert not note.visible_to_owner and "已暂停" in note.text


@pytest.mark.parametrize("signal", [
    Signal("spam", 1, "x", [], "none"),
    Signal("mining", 1, "x", [], "terminate"),
    Signal("mining", 1, "x", [object()], "none"),
])
def test_unknown_rules_actions_and_non_json_samples_are_refused(server, signal):
    with pytest.raises(services.CaseRefused):
        services.open_rule_case(signal)
    assert not Case.objects.exists() and not Instruction.objects.filter(action__startswith="abuse.").exists()


def test_the_periodic_scan_turns_an_attack_in_the_stored_samples_into_a_case_and_a_blackhole(server, customer):
    """End to end: samples stored by the metrics path → `abuse.scan_metrics` → a rule case with the samples as
    evidence and the configured measure (attack target → blackhole), once however often the scan runs."""
    import time_machine

    from wuji.abuse import tasks
    from wuji.compute.tests.test_abuse_signals import GBIT, write
    from wuji.core import testing
    from wuji.network.models import Blackhole

    now = write(server, minutes=5, in_bps=3 * GBIT)
    with time_machine.travel(now, tick=False):
        first = tasks.scan_metrics.call()
        again = tasks.scan_metrics.call()
        testing.run_tasks()
    assert first == {"signals": 1, "cases": 1} and again == {"signals": 1, "cases": 1}
    case = Case.objects.get(rule="attack_target")
    assert (case.server, case.owner, case.source) == (server, customer, CaseSource.RULE)
    assert case.evidence.count() == 2 and len(case.evidence.first().samples) == 5
    assert [a.kind for a in case.actions.all()] == [ActionKind.BLACKHOLE]
    assert Blackhole.objects.filter(server=server).count() == 1
