"""Complaints: target resolution at the time of the abuse, refusals, files, rate limit (4.5.1, 5.4.6)."""

import datetime as dt

import pytest
from django.urls import reverse

from wuji.abuse import services
from wuji.abuse.choices import CaseStatus, TargetKind
from wuji.abuse.models import Case, Evidence
from wuji.audit.models import Instruction
from wuji.compliance.choices import FilingStatus
from wuji.compliance.models import IcpFiling
from wuji.core import clock
from wuji.network import services as network
from wuji.network.tests.test_network import bare_server, make_pool

from .conftest import PDF, PNG


def complain(target="203.0.113.2", **kw):
    fields = {"category": "phishing", "description": "该地址托管了仿冒银行的登录页面。",
              "reporter_email": "cert@example.org", "ip": "198.51.100.9", "channel": "web", **kw}
    return services.submit_complaint(target=target, **fields)


def test_the_owner_at_the_time_of_the_abuse_decides_when_an_ip_moved(customer, other_customer, catalogue):
    make_pool(catalogue["region"], cidr="203.0.113.0/30", gateway="203.0.113.1")  # one usable address: .2
    start = clock.now()
    a = bare_server(customer, catalogue, "a")
    network.allocate(a)
    clock.advance(dt.timedelta(days=10))
    network.release_address(a)
    clock.advance(dt.timedelta(days=1))
    b = bare_server(other_customer, catalogue, "b")
    network.allocate(b)
    clock.advance(dt.timedelta(days=1))

    then = complain(occurred_at=start + dt.timedelta(days=5))
    now = complain()
    between = complain(occurred_at=start + dt.timedelta(days=10, hours=12))
    assert (then.owner, then.server) == (customer, a)
    assert (now.owner, now.server) == (other_customer, b)
    assert (between.owner, between.server) == (None, None)
    assert then.status == CaseStatus.NEW and then.target_kind == TargetKind.IP
    assert then.number.startswith("AB") and then.number != now.number
    assert then.complaint.reporter_email == "cert@example.org" and then.complaint.submitted_ip == "198.51.100.9"


def test_unknown_address_and_unfiled_domain_open_unresolved_cases(db):
    for target in ("192.0.2.77", "unfiled.example.cn", "https://unfiled.example.cn/login"):
        case = complain(target)
        assert (case.owner, case.server) == (None, None)
    assert Case.objects.count() == 3
    row = Instruction.objects.filter(action="abuse.complaint").first()
    assert row.owner is None and row.params["resolved"] is False


def test_a_domain_or_url_resolves_through_an_approved_icp_filing(server, customer, officer):
    IcpFiling.objects.create(owner=customer, domain="shop.example.cn", icp_number="京ICP备12345678号",
                             server=server, status=FilingStatus.APPROVED, submitted_at=clock.now(),
                             reviewed_by=officer, reviewed_at=clock.now())
    clock.advance(dt.timedelta(hours=1))
    by_domain = complain("WWW.Shop.Example.CN")
    by_url = complain("https://shop.example.cn/pay?x=1")
    assert (by_domain.server, by_domain.owner, by_domain.target) == (server, customer, "www.shop.example.cn")
    assert (by_url.server, by_url.target_kind) == (server, TargetKind.URL)
    before = complain("shop.example.cn", occurred_at=clock.now() - dt.timedelta(days=1))  # not yet approved
    assert before.server is None


@pytest.mark.parametrize("overrides, field, message", [
    ({"category": "fraud"}, "category", "请选择投诉类别"),
    ({"target": "not a target"}, "target", "有效的 IPv4 地址"),
    ({"target": "2001:db8::1"}, "target", "有效的 IPv4 地址"),
    ({"target": "ftp://example.cn/x"}, "target", "有效的 IPv4 地址"),
    ({"target": "localhost"}, "target", "有效的 IPv4 地址"),
    ({"reporter_email": "nobody"}, "reporter_email", "联系邮箱"),
    ({"description": "  "}, "description", "投诉说明"),
    ({"occurred_at": "future"}, "occurred_at", "不能晚于现在"),
])
def test_invalid_complaints_are_refused_and_nothing_is_written(db, overrides, field, message):
    if overrides.get("occurred_at") == "future":
        overrides = {"occurred_at": clock.now() + dt.timedelta(hours=1)}
    kw = {"target": "203.0.113.2", **overrides}
    with pytest.raises(services.CaseRefused) as exc:
        complain(**kw)
    assert exc.value.field == field and message in exc.value.message
    assert not Case.objects.exists() and not Instruction.objects.filter(action__startswith="abuse.").exists()


@pytest.mark.parametrize("files, code", [
    ([services.Upload("big.pdf", PDF + b"x" * services.MAX_FILE_BYTES)], "file_too_large"),
    ([services.Upload("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00")], "file_type"),
    ([services.Upload("empty.txt", b"")], "file_type"),
    ([services.Upload(f"{n}.png", PNG) for n in range(services.MAX_FILES + 1)], "too_many_files"),
])
def test_oversized_forbidden_or_too_many_files_are_refused(db, files, code):
    with pytest.raises(services.CaseRefused) as exc:
        complain(files=files)
    assert exc.value.code == code
    assert not Case.objects.exists() and not Evidence.objects.exists()


def test_evidence_is_stored_encrypted_and_read_back(db, settings):
    headers = "Received: 垃圾".encode()
    case = complain(files=[services.Upload("shot.png", PNG), services.Upload("headers.txt", headers)])
    rows = list(case.evidence.order_by("pk"))
    assert [(r.content_type, r.size) for r in rows] == [("image/png", len(PNG)), ("text/plain", len(headers))]
    stored = (settings.WUJI_PRIVATE_FILES_DIR / rows[0].file.name).read_bytes()
    assert PNG not in stored and services.file_content(rows[0]) == PNG


def test_the_public_form_files_a_case_and_shows_only_its_number(client, server, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.get(reverse("abuse:complain"))
    assert page.status_code == 200 and "投诉举报" in page.content.decode()
    response = client.post(reverse("abuse:complain"), {
        "category": "spam", "target": "203.0.113.2", "description": "大量垃圾邮件来自该地址。",
        "reporter_email": "postmaster@example.org", "files": [SimpleUploadedFile("mail.pdf", PDF)]})
    assert response.status_code == 302 and response.url == reverse("abuse:complaint_received")
    case = Case.objects.get()
    assert case.owner == customer and case.evidence.get().name == "mail.pdf"
    body = client.get(response.url).content.decode()
    assert case.number in body and customer.email not in body


def test_the_form_shows_refusals_next_to_the_field(client, db):
    response = client.post(reverse("abuse:complain"), {"category": "spam", "target": "no such thing",
                                                       "description": "x", "reporter_email": "a@example.org"})
    assert response.status_code == 400 and "有效的 IPv4 地址" in response.content.decode()
    assert not Case.objects.exists()


def test_the_received_page_without_a_complaint_goes_back_to_the_form(client, db):
    response = client.get(reverse("abuse:complaint_received"))
    assert response.status_code == 302 and response.url == reverse("abuse:complain")


def test_complaints_are_rate_limited_per_ip_and_hour(client, db, settings):
    settings.WUJI_ABUSE_COMPLAINTS_PER_HOUR = 2
    data = {"category": "spam", "target": "192.0.2.1", "description": "垃圾邮件", "reporter_email": "a@example.org"}
    for _ in range(2):
        assert client.post(reverse("abuse:complain"), data, REMOTE_ADDR="198.51.100.1").status_code == 302
    refused = client.post(reverse("abuse:complain"), data, REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 400 and "提交过于频繁" in refused.content.decode()
    assert client.post(reverse("abuse:complain"), data, REMOTE_ADDR="198.51.100.2").status_code == 302
    clock.advance(dt.timedelta(hours=1))
    assert client.post(reverse("abuse:complain"), data, REMOTE_ADDR="198.51.100.1").status_code == 302
    assert Case.objects.count() == 4
