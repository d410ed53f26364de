"""Tickets in the portal and the API: pages and endpoints, refusals shown on the field, and the owner boundary
(someone else's ticket or attachment is 404 everywhere)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuji.api.tests.conftest import client_for
from wuji.core import uploads
from wuji.support import services
from wuji.support.choices import TicketStatus
from wuji.support.models import Ticket

from .conftest import PNG, server_of


def a_ticket(customer, **kw):
    return services.open_ticket(customer=customer, category="servers", subject="无法连接", body="SSH 超时。",
                                files=[uploads.Upload("shot.png", PNG)], channel="web", **kw)


# --- Portal -----------------------------------------------------------------------------------------------


def test_portal_new_ticket_with_attachment_then_thread_and_download(customer, catalogue, client):
    server = server_of(customer, catalogue)
    client.force_login(customer)
    form = client.get(reverse("portal:ticket_new")).content.decode()
    assert "web-1" in form and 'value="urgent"' not in form
    response = client.post(reverse("portal:ticket_new"), {
        "category": "servers", "priority": "high", "server": server.pk, "subject": "无法连接",
        "body": "SSH 超时。", "files": [SimpleUploadedFile("shot.png", PNG, "image/png")]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portal:ticket", args=[ticket.pk])
    page = client.get(response["Location"]).content.decode()
    assert "SSH 超时。" in page and "shot.png" in page
    assert "无法连接" in client.get(reverse("portal:tickets")).content.decode()
    attachment = ticket.attachments.get()
    download = client.get(reverse("portal:ticket_attachment", args=[ticket.pk, attachment.pk]))
    assert download.status_code == 200 and download.content == PNG
    assert download["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(("data", "message"), [
    ({"priority": "urgent"}, "选择一个有效的选项"),
    ({"files": [SimpleUploadedFile("run.exe", b"MZ\x90\x00")]}, "只支持 JPEG、PNG 或 PDF 文件。"),
])
def test_portal_refusals_are_shown_and_change_nothing(customer, client, data, message):
    client.force_login(customer)
    response = client.post(reverse("portal:ticket_new"), {
        "category": "other", "priority": "normal", "subject": "s", "body": "b", **data})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Ticket.objects.exists()


def test_portal_too_big_file_and_other_customers_server_are_refused(customer, other_customer, catalogue, client,
                                                                    settings):
    theirs = server_of(other_customer, catalogue)
    client.force_login(customer)
    page = client.post(reverse("portal:ticket_new"), {
        "category": "servers", "priority": "normal", "server": theirs.pk, "subject": "s", "body": "b"})
    assert page.status_code == 200 and 'class="field has-error"' in page.content.decode()
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * services.MAX_FILE_BYTES, "application/pdf")
    page = client.post(reverse("portal:ticket_new"), {
        "category": "other", "priority": "normal", "subject": "s", "body": "b", "files": [big]})
    assert "单个文件不能超过 10 MB。" in page.content.decode()
    assert not Ticket.objects.exists()


def test_portal_reply_close_reopen_and_rate(customer, operations_staff, client):
    ticket = a_ticket(customer)
    client.force_login(customer)
    url = reverse("portal:ticket", args=[ticket.pk])
    services.staff_reply(ticket=ticket, staff=operations_staff, body="请重启试试。")
    services.staff_reply(ticket=ticket, staff=operations_staff, body="内部：节点 3 网络抖动", internal=True)
    page = client.get(url).content.decode()
    assert "请重启试试。" in page and "节点 3" not in page
    rated = client.post(reverse("portal:ticket_rate", args=[ticket.pk]), {"rating": "5"})
    assert "工单解决后才能评价。" in rated.content.decode()
    assert client.post(url, {"body": "重启后好了。"}).status_code == 302
    services.change_status(ticket=ticket, staff=operations_staff, status=TicketStatus.RESOLVED)
    assert client.post(reverse("portal:ticket_rate", args=[ticket.pk]), {"rating": "5", "comment": "赞"}).status_code \
        == 302
    again = client.post(reverse("portal:ticket_rate", args=[ticket.pk]), {"rating": "1"})
    assert "您已评价过该工单。" in again.content.decode()
    client.post(reverse("portal:ticket_close", args=[ticket.pk]))
    closed = client.post(url, {"body": "再问一句"})
    assert "工单已关闭" in closed.content.decode()
    client.post(reverse("portal:ticket_reopen", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_STAFF and ticket.rating == 5


def test_portal_owner_boundary_on_every_page(customer, other_customer, client):
    ticket = a_ticket(customer)
    attachment = ticket.attachments.get()
    client.force_login(other_customer)
    assert "无法连接" not in client.get(reverse("portal:tickets")).content.decode()
    for name in ("portal:ticket", "portal:ticket_close", "portal:ticket_reopen", "portal:ticket_rate"):
        assert client.post(reverse(name, args=[ticket.pk]), {"body": "x", "rating": "1"}).status_code == 404, name
    assert client.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("portal:ticket_attachment", args=[ticket.pk, attachment.pk])).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 1


def test_portal_hides_attachments_of_internal_notes(customer, operations_staff, client):
    ticket = a_ticket(customer)
    note = services.staff_reply(ticket=ticket, staff=operations_staff, body="内部截图", internal=True,
                                files=[uploads.Upload("internal.png", PNG)])
    client.force_login(customer)
    hidden = note.attachments.get()
    assert client.get(reverse("portal:ticket_attachment", args=[ticket.pk, hidden.pk])).status_code == 404


# --- API --------------------------------------------------------------------------------------------------


def test_api_create_list_retrieve_reply_close_and_rate(customer, finance_staff):
    api = client_for(customer)
    created = api.post("/api/v1/tickets/", {"category": "billing", "subject": "发票", "body": "请开专票。",
                                            "files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")]},
                       format="multipart")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["priority"] == "normal" and body["status"] == "open" and not body["can_rate"]
    assert body["messages"][0]["attachments"][0]["name"] == "a.pdf"
    download = api.get(body["messages"][0]["attachments"][0]["url"])
    assert download.status_code == 200 and download.content == b"%PDF-1.4 x"
    pk = body["id"]
    assert len(api.get("/api/v1/tickets/").json()["results"]) == 1
    ticket = Ticket.objects.get(pk=pk)
    services.staff_reply(ticket=ticket, staff=finance_staff, body="已开具。")
    detail = api.get(f"/api/v1/tickets/{pk}/").json()
    assert detail["status"] == "waiting_customer" and [m["by_staff"] for m in detail["messages"]] == [False, True]
    reply = api.post(f"/api/v1/tickets/{pk}/messages/", {"body": "收到，谢谢。"}, format="json")
    assert reply.status_code == 201 and reply.json()["body"] == "收到，谢谢。"
    early = api.post(f"/api/v1/tickets/{pk}/rating/", {"rating": 5}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "not_resolved"
    services.change_status(ticket=ticket, staff=finance_staff, status="resolved")
    assert api.post(f"/api/v1/tickets/{pk}/rating/", {"rating": 6}, format="json").status_code == 400
    rated = api.post(f"/api/v1/tickets/{pk}/rating/", {"rating": 5, "comment": "好"}, format="json")
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    twice = api.post(f"/api/v1/tickets/{pk}/rating/", {"rating": 4}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "already_rated"
    closed = api.post(f"/api/v1/tickets/{pk}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    late = api.post(f"/api/v1/tickets/{pk}/messages/", {"body": "还有"}, format="json")
    assert late.status_code == 409 and late.json()["code"] == "ticket_closed"


def test_api_refusals(customer, other_customer, catalogue):
    theirs = server_of(other_customer, catalogue)
    api = client_for(customer)
    urgent = api.post("/api/v1/tickets/", {"category": "other", "priority": "urgent", "subject": "s", "body": "b"},
                      format="json")
    assert urgent.status_code == 400 and urgent.json()["code"] == "urgent_by_staff_only"
    not_mine = api.post("/api/v1/tickets/", {"category": "servers", "subject": "s", "body": "b",
                                             "server": theirs.pk}, format="json")
    assert not_mine.status_code == 400 and not_mine.json()["field"] == "server"
    bad_type = api.post("/api/v1/tickets/", {"category": "other", "subject": "s", "body": "b",
                                             "files": [SimpleUploadedFile("x.txt", b"hello")]}, format="multipart")
    assert bad_type.status_code == 400 and bad_type.json()["code"] == "file_type"
    assert not Ticket.objects.exists()


def test_api_owner_boundary_on_every_endpoint(customer, other_customer):
    ticket = a_ticket(customer)
    attachment = ticket.attachments.get()
    api = client_for(other_customer)
    assert api.get("/api/v1/tickets/").json()["results"] == []
    assert api.get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404
    assert api.get(f"/api/v1/tickets/{ticket.pk}/attachments/{attachment.pk}/").status_code == 404
    for suffix, data in (("messages/", {"body": "x"}), ("close/", {}), ("reopen/", {}), ("rating/", {"rating": 1})):
        assert api.post(f"/api/v1/tickets/{ticket.pk}/{suffix}", data, format="json").status_code == 404, suffix
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.messages.count() == 1
