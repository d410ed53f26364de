"""Staff measures on a case (4.5.2.2): each an instruction with its reason and a notice to the owner; the
escalation rules; closing; the owner's deadline (time travel)."""

import datetime as dt

import pytest
import time_machine

from wuji.abuse import services
from wuji.abuse.choices import ActionKind, CaseStatus
from wuji.abuse.models import Case, CaseAction
from wuji.accounts import restrictions
from wuji.audit.models import Instruction
from wuji.billing.models import Freeze
from wuji.compute.choices import SuspensionReason, TaskState, VmState
from wuji.core import clock, testing
from wuji.ledger import services as ledger
from wuji.network import services as network
from wuji.notifications.models import Notice
from wuji.payments.tests.helpers import staff

from .test_complaints import complain


@pytest.fixture
def case(server, officer):
    return services.triage(complain(category="spam"), staff=officer)


def act(case, officer, kind, **kw):
    return services.apply_action(case, kind=kind, staff=officer, reason="该服务器持续发送垃圾邮件。", ip="10.0.0.1",
                                 **kw)


@pytest.mark.parametrize("kind, options", [
    (ActionKind.NOTIFY, {"text": "请在期限内删除垃圾邮件程序。"}),
    (ActionKind.WARN, {}),
    (ActionKind.SUSPEND, {}),
    (ActionKind.BLACKHOLE, {"hours": 6}),
    (ActionKind.FREEZE, {"amount_fen": 10_00, "outcome": "long_term"}),
])
def test_each_measure_is_recorded_notified_and_carried_out(case, officer, customer, server, kind, options):
    action = act(case, officer, kind, **options)
    instruction = Instruction.objects.get(action=f"abuse.{kind}")
    assert action.instruction == instruction and action.staff == officer and action.kind == kind
    assert instruction.actor == officer and instruction.owner == customer and instruction.ip == "10.0.0.1"
    assert instruction.params["reason"] == "该服务器持续发送垃圾邮件。" and instruction.target_id == str(case.pk)
    event = "abuse.owner_asked" if kind == ActionKind.NOTIFY else "abuse.action_taken"
    notice = Notice.objects.get(recipient=customer, event=event)
    assert case.number in notice.subject
    case.refresh_from_db()
    assert case.status == (CaseStatus.WAITING if kind == ActionKind.NOTIFY else CaseStatus.ACTIONED)
    assert case.owner_informed_at is not None
    server.refresh_from_db()
    if kind == ActionKind.SUSPEND:
        assert (server.vm_state, server.suspension_reason) == (VmState.SUSPENDED, SuspensionReason.ABUSE)
        assert Instruction.objects.filter(action="server.suspend", target_id=str(server.pk)).exists()
    if kind == ActionKind.BLACKHOLE:
        assert network.active_blackhole(server) is not None
    if kind == ActionKind.FREEZE:
        assert Freeze.objects.get(customer=customer).reason == "complaint"  # clause 5.4.6
    if kind == ActionKind.NOTIFY:
        assert case.messages.get().text == "请在期限内删除垃圾邮件程序。"


def test_terminate_needs_a_prior_suspension_and_then_releases_without_refund(case, officer, customer, server):
    with pytest.raises(services.CaseRefused, match="须先暂停服务器") as exc:
        act(case, officer, ActionKind.TERMINATE)
    assert exc.value.code == "suspend_first"
    assert not Instruction.objects.filter(action="abuse.terminate").exists()
    assert not CaseAction.objects.exists() and not Notice.objects.filter(event="abuse.action_taken").exists()
    act(case, officer, ActionKind.SUSPEND)
    testing.run_tasks()
    cash_before = ledger.balances(customer)
    action = act(case, officer, ActionKind.TERMINATE)
    assert "不予退款" in action.result and action.instruction.params["refund"] == "none"
    server.refresh_from_db()
    assert server.task_state == TaskState.RELEASING
    notice = Notice.objects.filter(recipient=customer, event="abuse.action_taken").latest("pk")
    assert "不予退还" in notice.body
    testing.run_tasks()
    assert ledger.balances(customer) == cash_before  # nothing refunded


def test_illegal_content_may_be_terminated_without_a_suspension(server, officer):
    case = services.triage(complain(category="illegal_content"), staff=officer)
    act(case, officer, ActionKind.TERMINATE)
    server.refresh_from_db()
    assert server.task_state == TaskState.RELEASING


def test_measures_are_refused_on_new_closed_and_rejected_cases(server, officer):
    new = complain()
    with pytest.raises(services.CaseRefused, match="新建") as exc:
        act(new, officer, ActionKind.WARN)
    assert exc.value.code == "not_actionable"
    closed = services.close_case(services.triage(complain(), staff=officer), staff=officer, note="已核实处理完毕")
    rejected = services.close_case(complain(), staff=officer, note="证据不足", reject=True)
    for case in (closed, rejected):
        with pytest.raises(services.CaseRefused, match="只有已分拣"):
            act(case, officer, ActionKind.WARN)
    assert not CaseAction.objects.exists() and not Instruction.objects.filter(action="abuse.warn").exists()


def test_an_unresolved_case_cannot_be_acted_on(officer, db):
    case = services.triage(complain("192.0.2.200"), staff=officer)
    with pytest.raises(services.CaseRefused, match="未关联到服务器"):
        act(case, officer, ActionKind.WARN)


def test_a_refused_measure_leaves_nothing_half_written(case, officer, server):
    act(case, officer, ActionKind.SUSPEND)
    with pytest.raises(services.CaseRefused, match="已暂停"):
        act(case, officer, ActionKind.SUSPEND)
    assert CaseAction.objects.count() == 1 and Instruction.objects.filter(action="abuse.suspend").count() == 1
    with pytest.raises(services.CaseRefused, match="超过客户的现金余额"):
        act(case, officer, ActionKind.FREEZE, amount_fen=10_000_00)
    assert not Instruction.objects.filter(action="abuse.freeze").exists()


def test_only_compliance_or_support_staff_may_handle_cases(case, customer, db):
    for person in (customer, staff("ops@wuji.test", "operations")):
        with pytest.raises(services.CaseRefused, match="合规或客服"):
            act(case, person, ActionKind.WARN)
    support = staff("support@wuji.test", "support")
    act(case, support, ActionKind.WARN)


def test_a_reason_is_required_and_closing_needs_a_note(case, officer):
    with pytest.raises(services.CaseRefused) as exc:
        services.apply_action(case, kind=ActionKind.WARN, staff=officer, reason=" ")
    assert exc.value.field == "reason"
    with pytest.raises(services.CaseRefused) as exc:
        services.close_case(case, staff=officer, note="")
    assert exc.value.field == "note"
    case.refresh_from_db()
    assert case.status == CaseStatus.TRIAGED
    services.close_case(case, staff=officer, note="误报")
    with pytest.raises(services.CaseRefused, match="已结案"):
        services.close_case(case, staff=officer, note="again")


def test_the_owner_is_told_of_the_closing_only_if_they_knew_of_the_case(case, officer, customer):
    services.close_case(complain(), staff=officer, note="证据不足", reject=True)
    assert not Notice.objects.filter(event="abuse.case_closed").exists()
    act(case, officer, ActionKind.WARN)
    services.close_case(case, staff=officer, note="客户已删除违规内容")
    assert "客户已删除违规内容" in Notice.objects.get(recipient=customer, event="abuse.case_closed").body


def test_the_owner_deadline_is_shorter_for_phishing_and_holds_over_time(server, officer, settings):
    settings.WUJI_ABUSE_OWNER_DEADLINE_HOURS, settings.WUJI_ABUSE_URGENT_DEADLINE_HOURS = 24, 4
    start = clock.now()
    with time_machine.travel(start, tick=False):
        spam = services.triage(complain(category="spam"), staff=officer)
        phishing = services.triage(complain(category="phishing"), staff=officer)
        custom = services.triage(complain(category="spam"), staff=officer)
        act(spam, officer, ActionKind.NOTIFY)
        act(phishing, officer, ActionKind.NOTIFY)
        act(custom, officer, ActionKind.NOTIFY, hours=72)
    deadlines = {c.pk: c.owner_deadline - start for c in Case.objects.all()}
    assert deadlines == {spam.pk: dt.timedelta(hours=24), phishing.pk: dt.timedelta(hours=4),
                         custom.pk: dt.timedelta(hours=72)}
    told = Notice.objects.filter(event="abuse.owner_asked").order_by("pk")[1]
    assert services._local(start + dt.timedelta(hours=4)) in told.subject
    with time_machine.travel(start + dt.timedelta(hours=30), tick=False):  # past the deadline: staff escalate
        act(spam, officer, ActionKind.SUSPEND)
    spam.refresh_from_db()
    assert spam.status == CaseStatus.ACTIONED and spam.owner_deadline == start + dt.timedelta(hours=24)


def test_restrict_calls_the_account_restrictions(case, officer, customer):
    act(case, officer, ActionKind.RESTRICT, functions=["purchase", "renewal"])
    assert Instruction.objects.filter(action="abuse.restrict", owner=customer).exists()
    assert Notice.objects.filter(recipient=customer, event="abuse.action_taken").exists()
    assert restrictions.is_restricted(customer, "purchase") and restrictions.is_restricted(customer, "renewal")
    assert not restrictions.is_restricted(customer, "withdrawal")
    with pytest.raises(services.CaseRefused, match="均已处于限制状态"):
        act(case, officer, ActionKind.RESTRICT, functions=["purchase"])
    with pytest.raises(services.CaseRefused, match="请选择要限制"):
        act(case, officer, ActionKind.RESTRICT, functions=[])
