"""Maintenance windows (clause 7.1): the minimum notice, emergencies, who is affected, notices once per owner,
extension and cancellation, and the owner's server page."""

import pytest

from wuji.audit.models import Instruction
from wuji.core import clock, testing
from wuji.notifications.models import Notice
from wuji.status import services, tasks
from wuji.status.choices import MaintenanceImpact, MaintenanceNoticeKind, MaintenanceState
from wuji.status.models import MaintenanceNotice, MaintenanceWindow

from .support import hours


def draft(ops, *, region=None, nodes=(), start_in=None, length=None, impact=MaintenanceImpact.BRIEF,
          emergency=False, emergency_reason=""):
    now, start_in, length = clock.now(), start_in or hours(48), length or hours(2)
    window = services.save_window(MaintenanceWindow(
        title="核心交换机升级", description="期间网络可能短暂中断。", region=region, starts_at=now + start_in,
        ends_at=now + start_in + length, impact=impact, emergency=emergency, emergency_reason=emergency_reason,
    ), actor=ops)
    window.nodes.set(nodes)
    return window


def notices_of(user, event="status.maintenance_scheduled"):
    return Notice.objects.filter(recipient=user, event=event)


# --- Notice period ----------------------------------------------------------------------------------------


def test_planned_window_with_less_than_the_minimum_notice_is_refused_and_nothing_changes(world, ops):
    window = draft(ops, region=world["region"], start_in=hours(23))
    with pytest.raises(services.StatusRefused, match="至少提前 24 小时"):
        services.publish_window(window, actor=ops)
    window.refresh_from_db()
    assert window.state == MaintenanceState.DRAFT and window.published_at is None
    assert not Instruction.objects.filter(action="maintenance.publish").exists()
    testing.run_tasks()
    assert not Notice.objects.filter(event="status.maintenance_scheduled").exists()


def test_downtime_needs_72_hours_of_notice(world, ops):
    window = draft(ops, region=world["region"], start_in=hours(71), impact=MaintenanceImpact.DOWNTIME)
    with pytest.raises(services.StatusRefused, match="72"):
        services.publish_window(window, actor=ops)
    later = draft(ops, region=world["region"], start_in=hours(73), impact=MaintenanceImpact.DOWNTIME)
    assert services.publish_window(later, actor=ops).state == MaintenanceState.PUBLISHED


def test_notice_is_measured_when_publishing_not_when_drafting(world, ops):
    window = draft(ops, region=world["region"], start_in=hours(30))
    clock.advance(hours(7))  # 23 h left
    with pytest.raises(services.StatusRefused):
        services.publish_window(window, actor=ops)


def test_emergency_maintenance_with_a_reason_may_start_now(world, ops):
    window = draft(ops, nodes=[world["node1"]], start_in=hours(0.1), emergency=True,
                   emergency_reason="宿主机内存故障，需立即更换")
    services.publish_window(window, actor=ops)
    testing.run_tasks()
    notice = notices_of(world["alice"].owner).get()
    assert "宿主机内存故障" in notice.body
    instruction = Instruction.objects.get(action="maintenance.publish")
    assert instruction.params["emergency"] is True and instruction.params["lead_hours"] < 1


def test_emergency_without_a_reason_is_refused(world, ops):
    window = MaintenanceWindow(title="t", description="d", region=world["region"], starts_at=clock.now(),
                               ends_at=clock.now() + hours(1), emergency=True)
    with pytest.raises(Exception, match="紧急原因"):
        services.save_window(window, actor=ops)
    assert not MaintenanceWindow.objects.exists()


def test_customers_cannot_publish(world, customer):
    with pytest.raises(services.StatusRefused):
        services.save_window(MaintenanceWindow(title="t", description="d", region=world["region"],
                                               starts_at=clock.now() + hours(48), ends_at=clock.now() + hours(49)),
                             actor=customer)


# --- Who is affected ---------------------------------------------------------------------------------------


def test_a_node_window_reaches_only_the_owners_on_that_node(world, ops):
    window = draft(ops, nodes=[world["gz2"]])
    services.publish_window(window, actor=ops)
    testing.run_tasks()
    assert notices_of(world["bob"].owner).count() == 1
    assert not notices_of(world["alice"].owner).exists()  # same region, other node
    assert not notices_of(world["carol"].owner).exists()  # other region
    assert world["bob"].name in notices_of(world["bob"].owner).get().body


def test_a_region_window_reaches_every_owner_in_the_region_and_no_one_outside(world, ops):
    services.publish_window(draft(ops, region=world["region"]), actor=ops)
    testing.run_tasks()
    assert notices_of(world["alice"].owner).count() == 1
    assert notices_of(world["bob"].owner).count() == 1
    assert not notices_of(world["carol"].owner).exists()


def test_nodes_outside_the_chosen_region_are_refused(world, ops):
    window = draft(ops, region=world["region"], nodes=[world["hk1"]])
    with pytest.raises(services.StatusRefused, match="不在所选地域"):
        services.publish_window(window, actor=ops)


# --- Once per owner, in batches ---------------------------------------------------------------------------


def test_each_owner_is_told_once_even_when_the_task_runs_twice(world, ops, settings):
    settings.WUJI_MAINTENANCE_NOTIFY_BATCH = 1  # one owner per task: the batches chain
    window = services.publish_window(draft(ops, region=world["region"]), actor=ops)
    assert testing.run_tasks() >= 2
    tasks.notify_window.call(window_id=window.pk, kind=MaintenanceNoticeKind.SCHEDULED,
                             ends_at=window.ends_at.isoformat())
    testing.run_tasks()
    assert notices_of(world["alice"].owner).count() == 1
    assert notices_of(world["bob"].owner).count() == 1
    assert MaintenanceNotice.objects.filter(window=window).count() == 2


# --- Extension and cancellation ----------------------------------------------------------------------------


def test_extension_notifies_again_once_and_moves_the_end(world, ops):
    window = services.publish_window(draft(ops, nodes=[world["node1"]]), actor=ops)
    testing.run_tasks()
    new_end = window.ends_at + hours(3)
    with pytest.raises(services.StatusRefused):
        services.extend_window(window, ends_at=window.ends_at - hours(1), reason="x", actor=ops)
    services.extend_window(window, ends_at=new_end, reason="割接未完成", actor=ops)
    testing.run_tasks()
    testing.run_tasks()
    extended = notices_of(world["alice"].owner, "status.maintenance_extended").get()
    assert "割接未完成" in extended.body
    window.refresh_from_db()
    assert window.ends_at == new_end


def test_cancellation_tells_those_who_were_told_and_hides_the_window(world, ops, client):
    window = services.publish_window(draft(ops, nodes=[world["node1"]]), actor=ops)
    testing.run_tasks()
    services.cancel_window(window, reason="设备到货延迟", actor=ops)
    testing.run_tasks()
    assert notices_of(world["alice"].owner, "status.maintenance_cancelled").count() == 1
    assert not notices_of(world["bob"].owner, "status.maintenance_cancelled").exists()
    assert services.windows_for_server(world["alice"]) == []
    with pytest.raises(services.StatusRefused):
        services.cancel_window(window, reason="again", actor=ops)


def test_cancelled_before_the_notices_went_out_sends_no_scheduled_notice(world, ops):
    window = services.publish_window(draft(ops, nodes=[world["node1"]]), actor=ops)
    services.cancel_window(window, reason="取消", actor=ops)
    testing.run_tasks()
    assert not Notice.objects.filter(event__startswith="status.maintenance").exists()


# --- The owner's server page ------------------------------------------------------------------------------


def test_affected_owner_sees_the_window_on_the_server_page_others_do_not(world, ops, client):
    services.publish_window(draft(ops, nodes=[world["node1"]]), actor=ops)
    client.force_login(world["alice"].owner)
    page = client.get(f"/servers/{world['alice'].pk}/").content.decode()
    assert 'data-testid="server-maintenance"' in page and "核心交换机升级" in page
    client.force_login(world["bob"].owner)
    page = client.get(f"/servers/{world['bob'].pk}/").content.decode()
    assert 'data-testid="server-maintenance"' not in page
    # owner boundary: bob cannot open alice's server page to read it
    assert client.get(f"/servers/{world['alice'].pk}/").status_code == 404


def test_the_window_leaves_the_server_page_when_it_ends(world, ops):
    window = services.publish_window(draft(ops, nodes=[world["node1"]]), actor=ops)
    assert services.windows_for_server(world["alice"]) == [window]
    clock.advance(hours(51))
    assert services.windows_for_server(world["alice"]) == []
