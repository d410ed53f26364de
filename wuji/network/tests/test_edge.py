"""The ICP allow-list for the edge: what is on it, its two formats, the command and the token-protected endpoint."""

import json

import pytest
from django.core.management import call_command

from wuji.catalog.models import Region
from wuji.compliance import services as compliance
from wuji.compute import services as compute
from wuji.compute.tests.test_operations import active_server
from wuji.core import testing
from wuji.network import edge
from wuji.network import services as network
from wuji.network.models import IpPool
from wuji.network.tests.test_network import bare_server

URL = "/edge/icp-allowlist.json"


@pytest.fixture
def filings(customer, catalogue, django_user_model):
    """Approved: 中文.cn and B.example.cn on a mainland server with an IP; not on the list: a filing waiting for
    review, one on a server without an IP, and one in Hong Kong (no ICP there)."""
    staff = django_user_model.objects.create_user(email="ops@example.com", password=None, is_staff=True)
    testing.fund(customer, 1000_00)
    network.save_pool(IpPool(name="gz", region=catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1"),
                      actor=None, channel="staff")
    network.save_pool(IpPool(name="hk", region=catalogue["hk"], cidr="198.51.100.0/29", gateway="198.51.100.1"),
                      actor=None, channel="staff")
    gz = active_server(customer, catalogue, key="gz")
    no_ip = active_server(customer, catalogue, key="no-ip")
    network.unbind(no_ip, actor=customer, channel="web")
    testing.run_tasks()
    hk = bare_server(customer, {**catalogue, "region": catalogue["hk"]}, "hk")  # the test node is in gz
    network.allocate(hk)

    def file(domain, server, approve=True):
        filing = compliance.submit_filing(owner=customer, domain=domain, icp_number="京ICP备12345678号-1",
                                          server=server, actor=customer, channel="web")
        if approve:
            compliance.approve_filing(filing, actor=staff, reason="ok")

    file("B.example.cn", gz)
    file("中文.cn", gz)
    file("waiting.cn", gz, approve=False)
    file("no-ip.cn", no_ip)
    file("hk.example.com", hk)
    return gz


def test_only_approved_mainland_filings_with_a_public_ip_in_domain_order(filings):
    assert Region.objects.get(code="hk").is_mainland is False
    assert edge.allowlist() == [edge.AllowEntry("b.example.cn", "203.0.113.2", "京ICP备12345678号-1"),
                                edge.AllowEntry("xn--fiq228c.cn", "203.0.113.2", "京ICP备12345678号-1")]
    compute.release(filings, actor=None, channel="system", reason="expired")
    testing.run_tasks()
    assert edge.allowlist() == []


def test_nginx_map_body_quotes_every_value_and_covers_subdomains():
    text = edge.render_nginx([edge.AllowEntry("b.example.cn", "203.0.113.2", "京ICP备12345678号")])
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == ["hostnames;", '".b.example.cn" "203.0.113.2";']
    assert text == edge.render_nginx([edge.AllowEntry("b.example.cn", "203.0.113.2", "x")])  # stable bytes


@pytest.mark.parametrize("value", ['evil.cn" "1.2.3.4', "a.cn;\ninclude /etc/passwd", "$host", "a\\b.cn", "a b.cn"])
def test_nginx_writer_refuses_values_that_could_change_the_configuration(value):
    with pytest.raises(ValueError):
        edge.render_nginx([edge.AllowEntry(value, "203.0.113.2", "x")])


def test_json_document():
    document = json.loads(edge.render_json([edge.AllowEntry("xn--fiq228c.cn", "203.0.113.2", "京ICP备12345678号")]))
    assert document == {"version": 1, "count": 1, "includes_subdomains": True, "entries": [
        {"domain": "xn--fiq228c.cn", "address": "203.0.113.2", "icp_number": "京ICP备12345678号"}]}


def test_command_writes_either_format_to_stdout_or_a_file(filings, tmp_path, capsys):
    call_command("edge-allowlist", "--format", "nginx")
    assert '".b.example.cn" "203.0.113.2";' in capsys.readouterr().out
    target = tmp_path / "icp.json"
    call_command("edge-allowlist", "--format", "json", "--output", str(target))
    assert json.loads(target.read_text())["count"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["icp.json"]  # no temporary file left behind


def test_endpoint_is_absent_without_a_token_and_forbidden_with_a_wrong_one(client, settings, filings):
    settings.WUJI_EDGE_TOKEN = ""
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer anything").status_code == 404
    settings.WUJI_EDGE_TOKEN = "s3cret-edge-token"
    assert client.get(URL).status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer s3cret-edge-tokeN").status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION="Basic s3cret-edge-token").status_code == 403
    assert client.post(URL, HTTP_AUTHORIZATION="Bearer s3cret-edge-token").status_code == 405
    response = client.get(URL, HTTP_AUTHORIZATION="Bearer s3cret-edge-token")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert [e["domain"] for e in response.json()["entries"]] == ["b.example.cn", "xn--fiq228c.cn"]
