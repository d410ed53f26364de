"""The customer's ICP filings (4.5.1): the portal form and its refusals, the API, the owner boundary, withdrawal
(the domain leaves the edge's allow-list) and the notices on review."""

import pytest
from django.contrib.auth import get_user_model

from wuji.api.tests.conftest import client_for
from wuji.audit.models import Instruction
from wuji.compliance import services as compliance
from wuji.compliance.models import IcpFiling
from wuji.compute.tests.test_operations import active_server
from wuji.core import testing
from wuji.network import edge
from wuji.network import services as network
from wuji.network.models import IpPool
from wuji.network.tests.test_network import bare_server
from wuji.notifications.models import Notice

URL = "/icp-filings/"
API = "/api/v1/icp-filings/"
NUMBER = "京ICP备12345678号-1"


@pytest.fixture
def servers(customer, other_customer, catalogue):
    """The customer's mainland server (with a public IP) and Hong Kong server, and someone else's server."""
    testing.fund(customer, 1000_00)
    testing.fund(other_customer, 1000_00)
    network.save_pool(IpPool(name="gz", region=catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1"),
                      actor=None, channel="staff")
    gz = active_server(customer, catalogue, key="gz")
    hk = bare_server(customer, {**catalogue, "region": catalogue["hk"]}, "hk-web")
    theirs = active_server(other_customer, catalogue, key="theirs")
    return {"gz": gz, "hk": hk, "theirs": theirs}


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser(email="ops@example.com", password="Correct-Horse-42")


def post_form(client, server, domain="Shop.Example.CN", number=NUMBER):
    return client.post(URL, {"domain": domain, "icp_number": number, "server": server.pk})


def test_portal_form_files_a_normalised_domain_and_lists_it(client, customer, servers):
    client.force_login(customer)
    response = post_form(client, servers["gz"], domain="  中文.CN ", number="京ICP备12345678-1")
    assert response.status_code == 302
    filing = IcpFiling.objects.get()
    assert (filing.domain, filing.icp_number, filing.status) == ("xn--fiq228c.cn", NUMBER, "submitted")
    assert Instruction.objects.get(action="icp_filing.submit").channel == "web"
    page = client.get(URL).content.decode()
    assert "xn--fiq228c.cn" in page and "待审核" in page and 'data-testid="icp-filing-withdraw"' in page
    assert "ICP 备案" in client.get("/servers/").content.decode()  # the link in the servers area


@pytest.mark.parametrize("server_key, domain, number, field, message", [
    ("gz", "shop.example.cn", "京公网安备 11010802020088号", "icp_number", "ICP 备案号格式无效"),
    ("gz", "https://shop.example.cn/index.html", NUMBER, "domain", "域名格式无效"),
    ("hk", "shop.example.cn", NUMBER, "server", "不在中国大陆地域，网站无需 ICP 备案"),
    ("theirs", "shop.example.cn", NUMBER, "server", "选择一个有效的选项"),
])
def test_portal_form_refusals_save_nothing(client, customer, servers, server_key, domain, number, field, message):
    client.force_login(customer)
    response = post_form(client, servers[server_key], domain=domain, number=number)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not IcpFiling.objects.exists()
    assert not Instruction.objects.filter(action="icp_filing.submit").exists()


def test_a_domain_with_a_live_filing_is_refused_until_it_is_withdrawn(client, customer, servers):
    client.force_login(customer)
    post_form(client, servers["gz"])
    response = post_form(client, servers["gz"], domain="shop.example.cn.")
    assert "已有待审核或已通过" in " ".join(response.context["form"].errors["domain"])
    assert IcpFiling.objects.count() == 1
    first = IcpFiling.objects.get()
    client.post(f"{URL}{first.pk}/withdraw/")
    assert post_form(client, servers["gz"]).status_code == 302  # withdrawn: the domain can be filed again
    assert IcpFiling.objects.filter(status="submitted").count() == 1


def test_withdrawing_an_approved_filing_takes_it_off_the_allow_list(client, customer, servers, staff):
    filing = compliance.register_filing(owner=customer, domain="shop.example.cn", icp_number=NUMBER,
                                        server=servers["gz"], actor=customer, channel="web")
    compliance.approve_filing(filing, actor=staff, reason="已核实")
    assert [e.domain for e in edge.allowlist()] == ["shop.example.cn"]
    client.force_login(customer)
    assert client.post(f"{URL}{filing.pk}/withdraw/").status_code == 302
    filing.refresh_from_db()
    assert filing.status == "withdrawn" and filing.withdrawn_at is not None
    assert edge.allowlist() == []
    assert Instruction.objects.get(action="icp_filing.withdraw").params["was"] == "approved"
    client.post(f"{URL}{filing.pk}/withdraw/")  # twice: refused, nothing recorded
    assert Instruction.objects.filter(action="icp_filing.withdraw").count() == 1
    with pytest.raises(compliance.WithdrawRefused):
        compliance.withdraw_filing(filing, actor=customer, channel="web")


def test_a_rejected_filing_cannot_be_withdrawn(customer, servers, staff):
    filing = compliance.register_filing(owner=customer, domain="shop.example.cn", icp_number=NUMBER,
                                        server=servers["gz"], actor=customer, channel="web")
    compliance.reject_filing(filing, actor=staff, reason="备案号与域名不符")
    with pytest.raises(compliance.WithdrawRefused, match="只有待审核或已通过"):
        compliance.withdraw_filing(filing, actor=customer, channel="web")
    filing.refresh_from_db()
    assert filing.status == "rejected"


def test_someone_elses_filing_is_not_found_in_the_portal(client, other_customer, customer, servers):
    filing = compliance.register_filing(owner=customer, domain="shop.example.cn", icp_number=NUMBER,
                                        server=servers["gz"], actor=customer, channel="web")
    client.force_login(other_customer)
    assert client.post(f"{URL}{filing.pk}/withdraw/").status_code == 404
    assert "shop.example.cn" not in client.get(URL).content.decode()
    filing.refresh_from_db()
    assert filing.status == "submitted"


def test_owner_is_told_of_approval_and_rejection_with_the_reason(customer, servers, staff):
    a, b = (compliance.register_filing(owner=customer, domain=d, icp_number=NUMBER, server=servers["gz"],
                                       actor=customer, channel="web") for d in ("a.example.cn", "b.example.cn"))
    compliance.approve_filing(a, actor=staff, reason="已核实")
    compliance.reject_filing(b, actor=staff, reason="主体不一致")
    approved = Notice.objects.get(recipient=customer, event="icp_filing.approved")
    rejected = Notice.objects.get(recipient=customer, event="icp_filing.rejected")
    assert "a.example.cn" in approved.subject and "已核实" in approved.body
    assert "b.example.cn" in rejected.subject and "主体不一致" in rejected.body


# --- API ----------------------------------------------------------------------------------------------------


def test_api_files_lists_retrieves_and_withdraws(customer, servers):
    api = client_for(customer)
    response = api.post(API, {"domain": "API.example.cn", "icp_number": NUMBER, "server": servers["gz"].pk},
                        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["domain"], body["status"], body["region"]) == ("api.example.cn", "submitted", "cn-ganzhou")
    assert [f["id"] for f in api.get(API).json()["results"]] == [body["id"]]
    assert api.get(f"{API}{body['id']}/").json()["icp_number"] == NUMBER
    withdrawn = api.post(f"{API}{body['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = api.post(f"{API}{body['id']}/withdraw/")
    assert again.status_code == 409 and again.json()["code"] == "not_withdrawable"
    assert Instruction.objects.get(action="icp_filing.withdraw").channel == "api"


@pytest.mark.parametrize("server_key, body, field", [
    ("hk", {"domain": "x.example.cn", "icp_number": NUMBER}, "server"),
    ("theirs", {"domain": "x.example.cn", "icp_number": NUMBER}, "server"),
    ("gz", {"domain": "x.example.cn", "icp_number": "京ICP证030173号"}, "icp_number"),
    ("gz", {"domain": "http://x.example.cn", "icp_number": NUMBER}, "domain"),
])
def test_api_refusals_name_the_field(customer, servers, server_key, body, field):
    response = client_for(customer).post(API, {**body, "server": servers[server_key].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not IcpFiling.objects.exists()


def test_api_someone_elses_filing_is_not_found(customer, other_customer, servers):
    filing = compliance.register_filing(owner=customer, domain="shop.example.cn", icp_number=NUMBER,
                                        server=servers["gz"], actor=customer, channel="web")
    other = client_for(other_customer)
    assert other.get(f"{API}{filing.pk}/").status_code == 404
    assert other.post(f"{API}{filing.pk}/withdraw/").status_code == 404
    assert other.get(API).json()["results"] == []
    filing.refresh_from_db()
    assert filing.status == "submitted"
