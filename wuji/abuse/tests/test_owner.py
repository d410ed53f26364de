"""The owner's side: portal and API list, detail, reply with attachments; another user gets 404."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from wuji.abuse import services
from wuji.abuse.choices import ActionKind
from wuji.abuse.models import Case, PartnerFeed
from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction

from .conftest import PDF, PNG
from .test_complaints import complain


@pytest.fixture
def told(server, officer):
    """A triaged case on Alice's server, with the owner asked to act."""
    case = services.triage(complain(files=[services.Upload("reporter.png", PNG)]), staff=officer)
    services.apply_action(case, kind=ActionKind.NOTIFY, staff=officer, reason="请删除钓鱼页面。")
    services.post_message(case, staff=officer, text="内部：投诉人为 CERT", visible_to_owner=False)
    return case


def test_the_owner_sees_the_case_thread_and_deadline_but_not_internal_notes(client, customer, told):
    client.force_login(customer)
    listing = client.get(reverse("abuse:cases")).content.decode()
    assert told.number in listing
    body = client.get(reverse("abuse:case", args=[told.pk])).content.decode()
    assert "请删除钓鱼页面。" in body and "内部" not in body and "cert@example.org" not in body
    told.refresh_from_db()
    assert services._local(told.owner_deadline) in body


def test_the_owner_replies_with_an_attachment_and_may_download_only_their_own(client, customer, told):
    client.force_login(customer)
    response = client.post(reverse("abuse:case", args=[told.pk]), {
        "text": "已删除该页面并修改密码。", "files": [SimpleUploadedFile("fixed.pdf", PDF)]})
    assert response.status_code == 302
    message = told.messages.get(from_owner=True)
    attachment = message.attachments.get()
    assert Instruction.objects.get(action="abuse.reply").actor == customer
    download = client.get(reverse("abuse:file", args=[attachment.pk]))
    assert download.status_code == 200 and download.content == PDF
    reporter_file = told.evidence.get(name="reporter.png")
    assert client.get(reverse("abuse:file", args=[reporter_file.pk])).status_code == 404


def test_another_customer_gets_404_and_cannot_reply(client, other_customer, told):
    client.force_login(other_customer)
    assert told.number not in client.get(reverse("abuse:cases")).content.decode()
    assert client.get(reverse("abuse:case", args=[told.pk])).status_code == 404
    assert client.post(reverse("abuse:case", args=[told.pk]), {"text": "不是我的"}).status_code == 404
    assert not told.messages.filter(from_owner=True).exists()
    with pytest.raises(Case.DoesNotExist):
        services.reply(told, owner=other_customer, text="x", channel="web")


def test_an_untriaged_complaint_is_not_shown_to_the_owner(client, customer, server):
    case = complain()
    client.force_login(customer)
    assert client.get(reverse("abuse:case", args=[case.pk])).status_code == 404
    assert client_for(customer).get(f"/api/v1/abuse/cases/{case.pk}/").status_code == 404


def test_no_reply_after_closing(client, customer, told, officer):
    services.close_case(told, staff=officer, note="已处理")
    client.force_login(customer)
    response = client.post(reverse("abuse:case", args=[told.pk]), {"text": "补充"})
    assert response.status_code == 200 and "已结案" in response.content.decode()


def test_the_api_lists_shows_and_takes_replies_for_the_owner_only(customer, other_customer, told):
    api = client_for(customer)
    listing = api.get("/api/v1/abuse/cases/").json()
    assert [c["number"] for c in listing["results"]] == [told.number]
    detail = api.get(f"/api/v1/abuse/cases/{told.pk}/").json()
    assert [m["text"] for m in detail["messages"]] == ["请删除钓鱼页面。"] and detail["owner_deadline"]
    replied = api.post(f"/api/v1/abuse/cases/{told.pk}/replies/", {"text": "已处理", "files": [
        SimpleUploadedFile("log.txt", b"removed /var/www/bank")]}, format="multipart")
    assert replied.status_code == 201 and replied.json()["messages"][-1]["attachments"] == ["log.txt"]
    other = client_for(other_customer)
    assert other.get("/api/v1/abuse/cases/").json()["results"] == []
    assert other.get(f"/api/v1/abuse/cases/{told.pk}/").status_code == 404
    assert other.post(f"/api/v1/abuse/cases/{told.pk}/replies/", {"text": "x"}, format="json").status_code == 404
    refused = api.post(f"/api/v1/abuse/cases/{told.pk}/replies/", {"text": "x", "files": [
        SimpleUploadedFile("a.exe", b"MZ\x90\x00")]}, format="multipart")
    assert refused.status_code == 400 and refused.json()["code"] == "file_type"


# --- Partner feed API -------------------------------------------------------------------------------------


@pytest.fixture
def partner(officer):
    feed = PartnerFeed(name="CNCERT 测试")
    token = services.issue_partner_token(feed, staff=officer)
    return feed, token


def partner_client(token: str | None) -> APIClient:
    client = APIClient(REMOTE_ADDR="192.0.2.50")
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


BODY = {"category": "phishing", "target": "203.0.113.2", "description": "钓鱼页面",
        "reporter_email": "feed@cert.example",
        "evidence": [{"name": "shot.png", "content_base64": base64.b64encode(PNG).decode()}]}


def test_a_partner_files_a_complaint_with_base64_evidence(server, customer, partner):
    feed, token = partner
    assert feed.token_hash != token and token not in str(PartnerFeed.objects.values().get())
    response = partner_client(token).post("/api/v1/abuse/complaints/", BODY, format="json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert case.owner == customer and case.complaint.partner == feed and case.evidence.get().size == len(PNG)
    assert set(response.json()) == {"number", "status"}  # never the owner
    multipart = partner_client(token).post("/api/v1/abuse/complaints/", {
        **{k: v for k, v in BODY.items() if k != "evidence"}, "files": [SimpleUploadedFile("a.pdf", PDF)]},
        format="multipart")
    assert multipart.status_code == 201


@pytest.mark.parametrize("token", [None, "wrong-token", "customer-key", "inactive"])
def test_partner_api_refuses_without_a_valid_partner_token(server, customer, partner, token):
    feed, good = partner
    if token == "customer-key":
        client = client_for(customer)  # a customer's API key is not a partner token
    else:
        if token == "inactive":
            PartnerFeed.objects.filter(pk=feed.pk).update(is_active=False)
            token = good
        client = partner_client(token)
    response = client.post("/api/v1/abuse/complaints/", BODY, format="json")
    assert response.status_code == 401
    assert not Case.objects.exists()


def test_partner_api_refusals_name_the_field(partner, db):
    _feed, token = partner
    bad = partner_client(token).post("/api/v1/abuse/complaints/", {**BODY, "evidence": [
        {"name": "x.png", "content_base64": "***"}]}, format="json")
    assert bad.status_code == 400 and bad.json()["field"].startswith("evidence")
    target = partner_client(token).post("/api/v1/abuse/complaints/", {**BODY, "target": "nope"}, format="json")
    assert target.status_code == 400 and target.json()["field"] == "target"
    assert not Case.objects.exists()
