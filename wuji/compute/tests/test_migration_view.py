"""The owner's view of a scheduled migration (机房迁移): the notice box on the server page and
GET /api/v1/servers/<pk>/migrations/ — window in Beijing time, new IP and DNS reminder, each state, the owner
boundary, and the cost (one query however many moves)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuji.api.tests.conftest import client_for
from wuji.compute import migration
from wuji.compute.choices import MigrationState
from wuji.compute.drivers import get_driver
from wuji.compute.drivers.base import DriverError
from wuji.core import clock, testing

from . import test_migration
from .test_migration import earliest, run_window, schedule, set_clock

# The migration tests' fixtures (the clock reset, staff, a server with an IP and two target nodes): pytest finds
# fixtures by their names in this module.
_clock, staff, world = test_migration._clock, test_migration.staff, test_migration.world

NEW_IP, OLD_IP = "198.51.100.2", "203.0.113.2"


def api_url(server) -> str:
    return f"/api/v1/servers/{server.pk}/migrations/"


def page(client, user, server):
    client.force_login(user)
    return client.get(reverse("portal:server", args=[server.pk]))


def notices_on(response) -> list[dict]:
    return response.context["migration_notices"]


def beijing_window(plan) -> str:
    start, end = (moment.astimezone(clock.SHANGHAI) for moment in (plan.window_start, plan.window_end))
    return f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}"


def test_the_owner_sees_the_window_the_new_ip_and_the_dns_reminder(client, world, staff, customer):
    server = world["server"]
    plan = schedule(world, staff, world["hk"], earliest())

    response = page(client, customer, server)
    html = response.content.decode()
    assert 'data-testid="server-migration" data-state="scheduled"' in html
    assert beijing_window(plan) in html and "北京时间" in html
    assert f"迁移后公网 IP 将变更为 {NEW_IP}（原 {OLD_IP}）" in html and "域名解析（DNS）" in html
    assert "机房升级" in html

    data = client_for(customer).get(api_url(server)).json()
    assert [(row["state"], row["old_address"], row["new_address"], row["address_changes"]) for row in data] == [
        ("scheduled", OLD_IP, NEW_IP, True)]
    assert dt.datetime.fromisoformat(data[0]["window_start"]) == plan.window_start
    assert dt.datetime.fromisoformat(data[0]["window_end"]) == plan.window_end


def test_within_a_region_the_ip_stays_and_no_dns_change_is_asked(client, world, staff, customer):
    schedule(world, staff, world["gz2"], earliest())
    html = page(client, customer, world["server"]).content.decode()
    assert f"公网 IP 不变（{OLD_IP}），无需修改域名解析" in html and "将变更为" not in html
    assert client_for(customer).get(api_url(world["server"])).json()[0]["address_changes"] is False


def test_someone_elses_server_shows_nothing_and_its_migrations_are_404(client, world, staff, other_customer):
    server = world["server"]
    schedule(world, staff, world["hk"], earliest())
    assert migration.migrations_of(other_customer, server.pk) == []
    assert page(client, other_customer, server).status_code == 404
    response = client_for(other_customer).get(api_url(server))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_server_without_migrations_shows_no_box(client, world, customer):
    response = page(client, customer, world["server"])
    assert notices_on(response) == [] and 'data-testid="server-migration"' not in response.content.decode()
    assert client_for(customer).get(api_url(world["server"])).json() == []


def to_running(plan, world, staff):
    set_clock(plan.window_start + dt.timedelta(minutes=1))
    assert migration.start_due() == 1  # started; the copy task is still queued


def to_done(plan, world, staff):
    run_window(plan)


def to_failed(plan, world, staff):
    get_driver(testing.FAKE_NODE_URI).fail_next("copy_disk_to", DriverError("disk copy failed"))
    run_window(plan)


def to_cancelled(plan, world, staff):
    assert migration.cancel(plan, actor=staff, reason="目标机房推迟交付") == 1


@pytest.mark.parametrize(("advance", "state", "shown", "not_shown"), [
    (to_running, MigrationState.RUNNING, ["本服务器正在迁移到新的宿主机", f"完成后公网 IP 将变更为 {NEW_IP}"],
     ["迁移已完成"]),
    (to_done, MigrationState.DONE, ["迁移已完成：", f"公网 IP 已变更为 {NEW_IP}（原 {OLD_IP}）", "域名解析（DNS）"],
     ["迁移期间服务器会关机"]),
    (to_failed, MigrationState.FAILED, ["迁移未完成：", "原定于 {window}（北京时间）", "服务器留在原宿主机上",
                                        "请不要修改域名解析", "原因：disk copy failed"], [NEW_IP]),
    (to_cancelled, MigrationState.CANCELLED, ["迁移已取消：", "原定于 {window}（北京时间）", "服务器留在原宿主机上",
                                              "请不要修改域名解析"], [NEW_IP]),
])
def test_each_state_is_told_right(client, world, staff, customer, advance, state, shown, not_shown):
    server = world["server"]
    plan = schedule(world, staff, world["hk"], earliest())
    advance(plan, world, staff)

    html = page(client, customer, server).content.decode()
    assert f'data-state="{state}"' in html
    for text in shown:
        assert text.format(window=beijing_window(plan)) in html, text
    for text in not_shown:
        assert text not in html, text
    assert [row["state"] for row in client_for(customer).get(api_url(server)).json()] == [state]


def test_an_ended_move_stays_in_view_for_seven_days(client, world, staff, customer):
    server = world["server"]
    plan = schedule(world, staff, world["hk"], earliest())
    run_window(plan)
    finished = plan.items.get().finished_at
    set_clock(finished + migration.SHOWN_AFTER_END - dt.timedelta(minutes=1))
    assert [n["state"] for n in notices_on(page(client, customer, server))] == [MigrationState.DONE]
    set_clock(finished + migration.SHOWN_AFTER_END + dt.timedelta(minutes=1))
    assert notices_on(page(client, customer, server)) == []
    assert client_for(customer).get(api_url(server)).json() == []


def test_one_query_however_many_moves_and_latest_window_first(world, staff, customer, django_assert_num_queries):
    server = world["server"]
    plans = []
    for days in (0, 1, 2):  # each cancelled before the next is scheduled: one server has one active move
        plans.append(schedule(world, staff, world["hk"], earliest() + dt.timedelta(days=days)))
        if days < 2:
            migration.cancel(plans[-1], actor=staff, reason="推迟")

    with django_assert_num_queries(1):
        items = migration.migrations_of(customer, server.pk)
        contexts = [migration.notice_context(item) for item in items]
    assert [item.plan for item in items] == plans[::-1]
    assert [item.state for item in items] == [MigrationState.SCHEDULED] + [MigrationState.CANCELLED] * 2
    assert all(context["new_address"] == NEW_IP for context in contexts)

    api = client_for(customer)
    api.get(api_url(server))  # the key's last-used time is written on first use: keep it out of the count
    with CaptureQueriesContext(connection) as captured:
        assert len(api.get(api_url(server)).json()) == 3
    assert len(captured.captured_queries) <= 3  # authentication (with the agreement check), the server, the moves
