"""ICP filings: number and domain validation (domain-cn.md §4.1), the owner's own server, staff review."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from wuji.audit.models import Instruction
from wuji.compliance import services as compliance
from wuji.compliance.models import IcpFiling
from wuji.compliance.validators import normalise_domain, normalise_icp_number
from wuji.compute.tests.test_operations import active_server


@pytest.mark.parametrize("text, expected", [
    ("京ICP备12345678号", "京ICP备12345678号"),
    ("粤ICP备2023007649号", "粤ICP备2023007649号"),
    ("粤ICP备12345678号-1", "粤ICP备12345678号-1"),
    ("陕ICP备2024026116号-1A", "陕ICP备2024026116号-1A"),
    ("京ICP备2026059598号-1X", "京ICP备2026059598号-1X"),
    ("川ICP备10200063号-1", "川ICP备10200063号-1"),  # legacy 四川 prefix still on live sites
    (" 京 ICP备 16059763号 ", "京ICP备16059763号"),  # sloppy footers: whitespace dropped
    ("京ICP备12345678", "京ICP备12345678号"),  # … and a missing 号 put back (domain-cn.md §4.1)
    ("粤ICP备12345678-2", "粤ICP备12345678号-2"),
    ("京ｉｃｐ备１２３４５６７８号－１", "京ICP备12345678号-1"),  # full-width letters, digits and dash (IME input)
    ("京ICP备12345678号—3", "京ICP备12345678号-3"),  # em dash for the hyphen
])
def test_valid_icp_numbers_are_normalised(text, expected):
    assert normalise_icp_number(text) == expected


@pytest.mark.parametrize("text", [
    "", "ICP备12345678号", "港ICP备12345678号", "京ICP备1234567号", "京ICP备123456789号", "京ICP备12345678号号",
    "京ICP证030173号", "京ICP备12345678号-0", "京ICP备12345678号-1B", "京公网安备 11010802020088号",
    "京公网安备11000002000001号", "粤B2-20090059", "京ICP备12345678号-12345", "京ICP备12345678号 京ICP备1号",
])
def test_invalid_icp_numbers_are_refused(text):
    with pytest.raises(ValidationError):
        normalise_icp_number(text)


@pytest.mark.parametrize("text, expected", [
    ("Example.CN", "example.cn"),
    ("www.example.com.cn.", "www.example.com.cn"),
    ("中文.cn", "xn--fiq228c.cn"),
    ("例子。中国", "xn--fsqu00a.xn--fiqs8s"),  # ideographic full stop
    ("xn--fiq228c.cn", "xn--fiq228c.cn"),
])
def test_domains_are_normalised(text, expected):
    assert normalise_domain(text) == expected


@pytest.mark.parametrize("text", [
    "", "cn", "http://example.cn", "example.cn:8080", "example.cn/path", "*.example.cn", "203.0.113.7",
    "-bad.cn", "bad-.cn", "a..cn", "exa mple.cn", "x" * 64 + ".cn", "user@example.cn",
])
def test_invalid_domains_are_refused(text):
    with pytest.raises(ValidationError):
        normalise_domain(text)


def test_a_filing_is_validated_per_field_and_only_for_the_owners_server(customer, other_customer, catalogue):
    server = active_server(customer, catalogue)
    with pytest.raises(ValidationError) as exc:
        compliance.submit_filing(owner=other_customer, domain="http://x", icp_number="京ICP备1号", server=server,
                                 actor=other_customer, channel="web")
    assert set(exc.value.message_dict) == {"domain", "icp_number", "server"}
    filing = compliance.submit_filing(owner=customer, domain="Shop.Example.CN", icp_number="京ICP备12345678号-1",
                                      server=server, actor=customer, channel="web", ip="127.0.0.1")
    assert (filing.domain, filing.status) == ("shop.example.cn", "submitted")
    with pytest.raises(ValidationError, match="已有待审核或已通过"):
        compliance.submit_filing(owner=customer, domain="shop.example.cn.", icp_number="京ICP备12345678号-1",
                                 server=server, actor=customer, channel="web")
    assert IcpFiling.objects.count() == 1
    assert Instruction.objects.get(action="icp_filing.submit").params["domain"] == "shop.example.cn"


def test_staff_approve_or_reject_once_with_a_reason(client, customer, catalogue):
    staff = get_user_model().objects.create_superuser(email="ops@example.com", password="Correct-Horse-42")
    server = active_server(customer, catalogue)
    a, b = (compliance.submit_filing(owner=customer, domain=d, icp_number="京ICP备12345678号", server=server,
                                     actor=customer, channel="web") for d in ("a.cn", "b.cn"))
    with pytest.raises(ValidationError):
        compliance.approve_filing(a, actor=staff, reason=" ")
    client.force_login(staff)
    url = "/console/compliance/icpfiling/"
    ask = client.post(url, {"action": "approve_selected", "_selected_action": [a.pk]})
    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    client.post(url, {"action": "approve_selected", "_selected_action": [a.pk], "apply": "1", "reason": "已核验"})
    client.post(url, {"action": "reject_selected", "_selected_action": [b.pk], "apply": "1", "reason": "主体不符"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.reviewed_by, a.review_reason) == ("approved", staff, "已核验")
    assert (b.status, b.review_reason) == ("rejected", "主体不符")
    with pytest.raises(compliance.ReviewRefused):
        compliance.reject_filing(a, actor=staff, reason="again")
    assert Instruction.objects.filter(action__in=["icp_filing.approve", "icp_filing.reject"], actor=staff).count() == 2
    assert client.get(f"{url}add/").status_code == 403
