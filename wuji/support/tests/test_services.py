"""Tickets through the services: the status flow, every refusal, queues by role, notices and the auto-close job."""

import datetime as dt

import pytest
import time_machine

from wuji.audit.models import Instruction
from wuji.core import uploads
from wuji.notifications.models import Delivery, Notice
from wuji.support import services, tasks
from wuji.support.choices import TicketStatus
from wuji.support.models import Ticket, TicketAttachment, TicketMessage

from .conftest import PDF, PNG, server_of, staff


def open_ticket(customer, **kw):
    args = {"category": "account", "subject": "无法登录", "body": "登录时提示验证码错误。", "channel": "web"}
    return services.open_ticket(customer=customer, **{**args, **kw})


def refused(code: str, call, *args, **kwargs) -> services.TicketRefused:
    with pytest.raises(services.TicketRefused) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def test_open_ticket_with_own_server_and_attachments_is_recorded(customer, catalogue):
    server = server_of(customer, catalogue)
    ticket = open_ticket(customer, category="servers", priority="high", server=server.pk,
                         files=[uploads.Upload("shot.png", PNG), uploads.Upload("log.pdf", PDF)])
    assert ticket.status == TicketStatus.OPEN and ticket.priority == "high" and ticket.server == server
    message = ticket.messages.get()
    assert not message.by_staff and message.body == "登录时提示验证码错误。"
    files = list(message.attachments.order_by("name"))
    assert [(f.name, f.content_type) for f in files] == [("log.pdf", "application/pdf"), ("shot.png", "image/png")]
    assert services.attachment_content(files[1]) == PNG
    assert PNG not in files[1].file.open("rb").read()  # stored encrypted
    instruction = Instruction.objects.get(action="ticket.open")
    assert instruction.owner == customer and instruction.params["files"] == 2


@pytest.mark.parametrize(("kwargs", "code", "field"), [
    ({"priority": "urgent"}, "urgent_by_staff_only", "priority"),
    ({"priority": "whenever"}, "invalid", "priority"),
    ({"category": "nonsense"}, "invalid", "category"),
    ({"subject": "  "}, "invalid", "subject"),
    ({"body": ""}, "invalid", "body"),
    ({"body": "x" * (services.MAX_BODY + 1)}, "too_long", "body"),
    ({"files": [uploads.Upload("big.png", PNG + b"\x00" * services.MAX_FILE_BYTES)]}, "file_too_large", "files"),
    ({"files": [uploads.Upload("run.exe", b"MZ\x90\x00")]}, "file_type", "files"),
    ({"files": [uploads.Upload(f"{n}.png", PNG) for n in range(services.MAX_FILES + 1)]}, "too_many_files",
     "files"),
])
def test_open_ticket_refusals_write_nothing(customer, kwargs, code, field):
    exc = refused(code, open_ticket, customer, **kwargs)
    assert exc.field == field and exc.message
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()
    assert not Instruction.objects.filter(action="ticket.open").exists()


def test_a_server_of_another_customer_is_refused(customer, other_customer, catalogue):
    theirs = server_of(other_customer, catalogue)
    exc = refused("invalid_server", open_ticket, customer, server=theirs)
    assert exc.field == "server" and not Ticket.objects.exists()
    refused("invalid_server", open_ticket, customer, server=999_999)


def test_the_upload_size_is_checked_before_reading(customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * services.MAX_FILE_BYTES)
    assert refused("file_too_large", services.upload_from, big).field == "files"


def test_staff_reply_waits_for_the_customer_records_first_response_and_notifies(customer, support_staff):
    ticket = open_ticket(customer)
    with time_machine.travel(ticket.created_at + dt.timedelta(minutes=42), tick=False):
        services.staff_reply(ticket=ticket, staff=support_staff, body="请清除浏览器缓存后重试。")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER and ticket.assignee == support_staff
    assert ticket.first_response_seconds == 42 * 60
    notice = Notice.objects.get(recipient=customer, event="support.staff_replied")
    assert f"#{ticket.pk}" in notice.subject and "请清除浏览器缓存后重试。" in notice.body
    assert f"/support/tickets/{ticket.pk}/" in notice.body
    assert Delivery.objects.filter(notice=notice, channel="email").exists()
    later = ticket.first_response_at
    services.staff_reply(ticket=ticket, staff=support_staff, body="补充说明。")
    ticket.refresh_from_db()
    assert ticket.first_response_at == later  # the first response only


def test_internal_note_is_hidden_from_the_customer_and_tells_nobody(customer, support_staff):
    ticket = open_ticket(customer)
    services.staff_reply(ticket=ticket, staff=support_staff, body="客户 IP 异常，先核实。", internal=True)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.first_response_at is None
    assert list(services.customer_messages(ticket).values_list("body", flat=True)) == ["登录时提示验证码错误。"]
    assert not Notice.objects.filter(recipient=customer, event__startswith="support.").exists()
    assert Instruction.objects.filter(action="ticket.note").count() == 1


def test_customer_reply_waits_for_staff_and_tells_the_assignee_by_inbox(customer, support_staff):
    ticket = open_ticket(customer)
    services.staff_reply(ticket=ticket, staff=support_staff, body="请提供截图。")
    services.reply(ticket=ticket, customer=customer, body="截图见附件。", files=[uploads.Upload("a.png", PNG)],
                   channel="web")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_STAFF
    notice = Notice.objects.get(recipient=support_staff, event="support.customer_replied")
    assert "回复了" in notice.body and f"/console/support/ticket/{ticket.pk}/change/" in notice.body
    assert not Delivery.objects.filter(notice=notice, channel="email").exists()  # inbox only


def test_status_change_by_staff_notifies_the_customer(customer, support_staff):
    ticket = open_ticket(customer)
    services.change_status(ticket=ticket, staff=support_staff, status=TicketStatus.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    notice = Notice.objects.get(recipient=customer, event="support.status_changed")
    assert "已解决" in notice.subject
    refused("invalid", services.change_status, ticket=ticket, staff=support_staff, status="open")


def test_reply_on_a_closed_ticket_is_refused(customer, support_staff):
    ticket = open_ticket(customer)
    services.close(ticket=ticket, customer=customer, channel="web")
    refused("ticket_closed", services.reply, ticket=ticket, customer=customer, body="还在吗？", channel="web")
    refused("ticket_closed", services.close, ticket=ticket, customer=customer, channel="web")
    refused("ticket_closed", services.staff_reply, ticket=ticket, staff=support_staff, body="在。")
    assert TicketMessage.objects.filter(ticket=ticket).count() == 1


def test_reply_on_a_resolved_ticket_reopens_it(customer, support_staff):
    ticket = open_ticket(customer)
    services.staff_reply(ticket=ticket, staff=support_staff, body="已修复。", status=TicketStatus.RESOLVED)
    assert Notice.objects.filter(recipient=customer, event="support.status_changed").count() == 1
    services.reply(ticket=ticket, customer=customer, body="还是不行。", channel="web")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_STAFF and ticket.resolved_at is None
    assert "重新打开了" in Notice.objects.get(recipient=support_staff, event="support.customer_replied").body


def test_reopen_only_within_the_reopen_period(customer, support_staff, settings):
    settings.WUJI_TICKET_REOPEN_DAYS = 14
    ticket = open_ticket(customer)
    refused("ticket_active", services.reopen, ticket=ticket, customer=customer, channel="web")
    services.change_status(ticket=ticket, staff=support_staff, status=TicketStatus.CLOSED)
    ticket.refresh_from_db()
    with time_machine.travel(ticket.closed_at + dt.timedelta(days=14, seconds=1), tick=False):
        refused("reopen_period_over", services.reopen, ticket=ticket, customer=customer, channel="web")
    with time_machine.travel(ticket.closed_at + dt.timedelta(days=13), tick=False):
        services.reopen(ticket=ticket, customer=customer, channel="web")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_STAFF and ticket.closed_at is None


def test_rating_only_after_resolution_and_only_once(customer, support_staff):
    ticket = open_ticket(customer)
    refused("not_resolved", services.rate, ticket=ticket, customer=customer, rating=5, channel="web")
    services.change_status(ticket=ticket, staff=support_staff, status=TicketStatus.RESOLVED)
    for bad in (0, 6, "5", True):
        assert refused("invalid", services.rate, ticket=ticket, customer=customer, rating=bad,
                       channel="web").field == "rating"
    services.rate(ticket=ticket, customer=customer, rating=4, comment="很快。", channel="web")
    refused("already_rated", services.rate, ticket=ticket, customer=customer, rating=5, channel="web")
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (4, "很快。")


def test_customer_services_refuse_someone_elses_ticket(customer, other_customer):
    ticket = open_ticket(customer)
    for call in (services.close, services.reopen):
        with pytest.raises(Ticket.DoesNotExist):
            call(ticket=ticket, customer=other_customer, channel="web")
    with pytest.raises(Ticket.DoesNotExist):
        services.reply(ticket=ticket, customer=other_customer, body="x", channel="web")
    with pytest.raises(Ticket.DoesNotExist):
        services.rate(ticket=ticket, customer=other_customer, rating=1, channel="web")
    assert ticket.messages.count() == 1


def test_queues_follow_roles(customer, support_staff, finance_staff):
    account = open_ticket(customer, category="account")
    money = open_ticket(customer, category="billing", subject="发票抬头")
    abuse = open_ticket(customer, category="abuse", subject="被投诉")
    boss = staff("root@wuji.test")
    boss.is_superuser = True
    boss.save()
    assert set(services.queue_for(support_staff)) == {account}
    assert set(services.queue_for(finance_staff)) == {money}
    assert set(services.queue_for(boss)) == {account, money, abuse}
    assert not services.queue_for(customer).exists()
    refused("not_in_queue", services.staff_reply, ticket=money, staff=support_staff, body="我来看看")
    refused("not_in_queue", services.assign_to_self, ticket=money, staff=support_staff)
    refused("not_in_queue", services.change_status, ticket=money, staff=support_staff, status="resolved")
    refused("not_in_queue", services.change_priority, ticket=money, staff=support_staff, priority="urgent")


def test_staff_may_set_urgent_and_move_a_ticket_to_another_queue(customer, support_staff, finance_staff):
    ticket = open_ticket(customer)
    services.assign_to_self(ticket=ticket, staff=support_staff)
    services.change_priority(ticket=ticket, staff=support_staff, priority="urgent")
    services.change_category(ticket=ticket, staff=support_staff, category="billing")
    ticket.refresh_from_db()
    assert ticket.priority == "urgent" and ticket.category == "billing" and ticket.assignee is None
    assert ticket in services.queue_for(finance_staff) and ticket not in services.queue_for(support_staff)


def test_resolved_tickets_close_after_the_autoclose_period(customer, support_staff, settings):
    settings.WUJI_TICKET_AUTOCLOSE_DAYS = 7
    ticket = open_ticket(customer)
    services.change_status(ticket=ticket, staff=support_staff, status=TicketStatus.RESOLVED)
    ticket.refresh_from_db()
    waiting = open_ticket(customer, subject="仍在处理")
    with time_machine.travel(ticket.resolved_at + dt.timedelta(days=7) - dt.timedelta(seconds=1), tick=False):
        assert tasks.close_resolved_tickets.call() == 0
    with time_machine.travel(ticket.resolved_at + dt.timedelta(days=7, minutes=1), tick=False):
        assert tasks.close_resolved_tickets.call() == 1
        assert tasks.close_resolved_tickets.call() == 0  # idempotent
    ticket.refresh_from_db()
    waiting.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.resolved_at is not None
    assert waiting.status == TicketStatus.OPEN
    notice = Notice.objects.filter(recipient=customer, event="support.status_changed").latest("id")
    assert "已关闭" in notice.subject and "7 天" in notice.body
    assert Instruction.objects.get(action="ticket.autoclose").channel == "system"
    assert services.can_rate(ticket)  # a ticket closed after resolution can still be rated


def test_autoclose_job_is_registered_hourly():
    from wuji.core.scheduler import registered_jobs

    job = next(j for j in registered_jobs() if j.name == "support.close_resolved_tickets")
    assert job.interval == dt.timedelta(hours=1)
