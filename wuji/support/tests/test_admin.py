"""The console's ticket queues: each role sees its categories only; the ticket page replies, notes and changes
status and priority through the services."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuji.core import uploads
from wuji.notifications.models import Notice
from wuji.support import services
from wuji.support.choices import TicketStatus

from .conftest import PNG


def a_ticket(customer, category="account", subject="实名认证失败"):
    return services.open_ticket(customer=customer, category=category, subject=subject, body="上传身份证后报错。",
                                files=[uploads.Upload("id.png", PNG)], channel="web")


def test_each_staff_member_sees_the_queue_of_their_roles(customer, support_staff, finance_staff, client):
    account = a_ticket(customer)
    money = a_ticket(customer, category="billing", subject="发票抬头错了")
    url = reverse("admin:support_ticket_changelist")
    client.force_login(support_staff)
    page = client.get(url).content.decode()
    assert "实名认证失败" in page and "发票抬头错了" not in page
    assert client.get(reverse("admin:support_ticket_change", args=[money.pk])).status_code == 404
    assert client.get(reverse("admin:support_ticket_attachment", args=[
        money.pk, money.attachments.get().pk])).status_code == 404
    client.force_login(finance_staff)
    page = client.get(url).content.decode()
    assert "发票抬头错了" in page and "实名认证失败" not in page
    assert client.get(reverse("admin:support_ticket_change", args=[account.pk])).status_code == 404


def test_customers_and_staff_without_a_role_do_not_reach_the_queue(customer, client):
    from .conftest import staff

    a_ticket(customer)
    client.force_login(customer)
    assert client.get(reverse("admin:support_ticket_changelist")).status_code == 302  # to the console login
    client.force_login(staff("norole@wuji.test"))
    assert client.get(reverse("admin:support_ticket_changelist")).status_code == 403


def test_staff_replies_notes_and_resolves_from_the_ticket_page(customer, support_staff, client):
    ticket = a_ticket(customer)
    client.force_login(support_staff)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    page = client.get(url).content.decode()
    assert "上传身份证后报错。" in page and "id.png" in page
    download = client.get(reverse("admin:support_ticket_attachment", args=[ticket.pk, ticket.attachments.get().pk]))
    assert download.status_code == 200 and download.content == PNG
    assert client.post(url, {"assign": "1"}).status_code == 302
    note = client.post(url, {"body": "先查审核日志", "internal": "on", "status": "", "priority": "urgent",
                             "category": "account"})
    assert note.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == support_staff and ticket.priority == "urgent" and ticket.status == TicketStatus.OPEN
    assert not Notice.objects.filter(recipient=customer, event__startswith="support.").exists()
    reply = client.post(url, {"body": "已为您重置，请重新上传。", "status": "resolved", "priority": "urgent",
                              "category": "account", "files": [SimpleUploadedFile("guide.pdf", b"%PDF-1.4 g")]})
    assert reply.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.first_response_at is not None
    assert set(Notice.objects.filter(recipient=customer, event__startswith="support.").values_list(
        "event", flat=True)) == {"support.staff_replied", "support.status_changed"}
    page = client.get(url).content.decode()
    assert "先查审核日志" in page and "内部备注（客户不可见）" in page and "guide.pdf" in page


def test_ticket_page_shows_refusals(customer, support_staff, client):
    ticket = a_ticket(customer)
    services.close(ticket=ticket, customer=customer, channel="web")
    client.force_login(support_staff)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    page = client.post(url, {"body": "还在吗？", "status": "", "priority": "normal", "category": "account"})
    assert page.status_code == 200 and "工单已关闭，不能再回复。" in page.content.decode()
    bad = client.post(url, {"body": "见附件", "internal": "on", "status": "", "priority": "normal",
                            "category": "account", "files": [SimpleUploadedFile("x.exe", b"MZ")]})
    assert "只支持 JPEG、PNG 或 PDF 文件。" in bad.content.decode()
    assert ticket.messages.count() == 1


def test_moving_a_ticket_out_of_ones_queue_returns_to_the_list(customer, support_staff, client):
    ticket = a_ticket(customer)
    client.force_login(support_staff)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    moved = client.post(url, {"body": "", "status": "", "priority": "normal", "category": "billing"})
    assert moved.status_code == 302 and moved["Location"] == reverse("admin:support_ticket_changelist")
    ticket.refresh_from_db()
    assert ticket.category == "billing"
