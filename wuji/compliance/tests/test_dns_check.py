"""The periodic DNS check of approved filings against a real UDP DNS server on loopback: pointing right, pointing
elsewhere (flagged, one notice per episode), NXDOMAIN, no A record, recovery, and a timeout that is its own result
and does not stall the run."""

import datetime as dt
import socket
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import time_machine
from django.contrib.auth import get_user_model

from wuji.audit.models import Instruction
from wuji.compliance import dns_check
from wuji.compliance import services as compliance
from wuji.compliance.models import IcpFiling
from wuji.compute.tests.test_operations import active_server
from wuji.core import scheduler, testing
from wuji.network import edge
from wuji.network import services as network
from wuji.network.models import IpPool
from wuji.notifications.models import Notice

NUMBER = "京ICP备12345678号-1"
SERVER_IP = "203.0.113.2"  # the first free address of the test pool


class LoopbackDns:
    """A tiny authoritative-style UDP DNS server on 127.0.0.1: A records from `records`, an empty answer for
    names in `empty` (NOERROR, no A), silence for names in `silent` (the client times out), NXDOMAIN otherwise."""

    def __init__(self):
        self.records: dict[str, list[str]] = {}
        self.empty: set[str] = set()
        self.silent: set[str] = set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            if name in self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if name in self.records and question.rdtype == dns.rdatatype.A:
                response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", "A", self.records[name]))
            elif name not in self.records and name not in self.empty:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def close(self):
        self.stopping.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def dns_server(settings):
    server = LoopbackDns()
    settings.WUJI_DNS_RESOLVER = f"127.0.0.1:{server.port}"
    settings.WUJI_DNS_TIMEOUT_SECONDS = 0.5
    yield server
    server.close()


@pytest.fixture
def approved(customer, catalogue):
    """An approved filing for shop.example.cn on the customer's mainland server (public IP 203.0.113.2)."""
    staff = get_user_model().objects.create_user(email="ops@example.com", password=None, is_staff=True)
    testing.fund(customer, 1000_00)
    network.save_pool(IpPool(name="gz", region=catalogue["region"], cidr="203.0.113.0/29", gateway="203.0.113.1"),
                      actor=None, channel="staff")
    server = active_server(customer, catalogue, key="gz")
    assert network.address_of(server) == SERVER_IP
    filing = compliance.register_filing(owner=customer, domain="shop.example.cn", icp_number=NUMBER, server=server,
                                        actor=customer, channel="web")
    return compliance.approve_filing(filing, actor=staff, reason="已核实")


def flag_notices(customer):
    return Notice.objects.filter(recipient=customer, event="icp_filing.dns_flagged")


def test_a_domain_pointing_at_its_server_matches(dns_server, approved, customer):
    dns_server.records["shop.example.cn"] = ["198.51.100.9", SERVER_IP]  # the server among others: fine
    assert dns_check.check(IcpFiling.objects.all()) == {"matches": 1}
    approved.refresh_from_db()
    assert (approved.dns_result, approved.dns_addresses, approved.flagged_since) == (
        "matches", ["198.51.100.9", SERVER_IP], None)
    assert approved.dns_checked_at is not None
    assert not flag_notices(customer).exists()


def test_pointing_elsewhere_flags_once_per_episode_and_recovery_clears(dns_server, approved, customer):
    dns_server.records["shop.example.cn"] = ["198.51.100.9"]
    with time_machine.travel(dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC), tick=False):
        dns_check.check(IcpFiling.objects.all())
    approved.refresh_from_db()
    first_flag = approved.flagged_since
    assert (approved.dns_result, approved.dns_addresses) == ("not_ours", ["198.51.100.9"])
    assert first_flag == dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
    notice = flag_notices(customer).get()
    assert "shop.example.cn" in notice.subject and SERVER_IP in notice.body and "198.51.100.9" in notice.body
    assert Instruction.objects.filter(action="icp_filing.dns_flagged").count() == 1

    with time_machine.travel(dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC), tick=False):  # next day, still wrong
        dns_check.check(IcpFiling.objects.all())
    approved.refresh_from_db()
    assert approved.flagged_since == first_flag  # the episode started on the first day
    assert flag_notices(customer).count() == 1  # not told again every day
    assert [e.domain for e in edge.allowlist()] == ["shop.example.cn"]  # flagged filings stay on the list

    dns_server.records["shop.example.cn"] = [SERVER_IP]  # fixed
    with time_machine.travel(dt.datetime(2026, 11, 3, 3, 0, tzinfo=dt.UTC), tick=False):
        dns_check.check(IcpFiling.objects.all())
    approved.refresh_from_db()
    assert (approved.dns_result, approved.flagged_since) == ("matches", None)

    dns_server.records["shop.example.cn"] = ["203.0.113.5"]  # a new episode: another of our addresses
    with time_machine.travel(dt.datetime(2026, 11, 4, 3, 0, tzinfo=dt.UTC), tick=False):
        dns_check.check(IcpFiling.objects.all())
    approved.refresh_from_db()
    assert approved.dns_result == "other_of_ours"
    assert approved.flagged_since == dt.datetime(2026, 11, 4, 3, 0, tzinfo=dt.UTC)
    assert flag_notices(customer).count() == 2


def test_nxdomain_and_no_a_record_are_flagged_as_such(dns_server, approved, customer):
    assert dns_check.check(IcpFiling.objects.all()) == {"nxdomain": 1}  # not in the zone at all
    approved.refresh_from_db()
    assert approved.dns_result == "nxdomain" and approved.flagged_since is not None
    dns_server.empty.add("shop.example.cn")
    assert dns_check.check(IcpFiling.objects.all()) == {"no_answer": 1}
    assert flag_notices(customer).count() == 1  # the same episode


def test_a_timeout_is_its_own_result_keeps_the_flag_and_does_not_stall_the_run(dns_server, approved, customer):
    slow = [f"slow{n}.example.cn" if n else "slow.example.cn" for n in range(6)]
    for domain in slow:
        IcpFiling.objects.create(owner=customer, domain=domain, icp_number=NUMBER, server=approved.server,
                                 status="approved", submitted_at=approved.submitted_at,
                                 reviewed_at=approved.reviewed_at, reviewed_by=approved.reviewed_by)
    other = IcpFiling.objects.get(domain="slow.example.cn")
    dns_server.records["shop.example.cn"] = [SERVER_IP]
    dns_server.silent.update(slow)
    started = time.monotonic()
    assert dns_check.check(IcpFiling.objects.all()) == {"matches": 1, "timeout": 6}
    # Six silent names at 0.5 s each would take 3 s one after another; the pool waits for them side by side.
    assert time.monotonic() - started < 2.0
    other.refresh_from_db()
    assert (other.dns_result, other.flagged_since) == ("timeout", None)  # says nothing about the domain

    dns_server.silent.clear()  # slow.example.cn now answers NXDOMAIN: flagged (told once, about it alone)
    dns_check.check(IcpFiling.objects.filter(pk=other.pk))
    other.refresh_from_db()
    flagged = other.flagged_since
    assert flagged is not None
    dns_server.silent.add("slow.example.cn")  # a timeout during the episode keeps it open
    dns_check.check(IcpFiling.objects.filter(pk=other.pk))
    other.refresh_from_db()
    assert (other.dns_result, other.flagged_since) == ("timeout", flagged)
    assert flag_notices(customer).count() == 1


def test_only_approved_filings_are_checked(dns_server, approved, customer):
    compliance.withdraw_filing(approved, actor=customer, channel="web")
    assert dns_check.check(IcpFiling.objects.all()) == {}
    approved.refresh_from_db()
    assert approved.dns_checked_at is None


def test_the_job_is_registered_every_24_hours_and_checks_all_approved(dns_server, approved):
    job = next(j for j in scheduler.registered_jobs() if j.name == "compliance.icp_dns_check")
    assert job.interval == dt.timedelta(hours=24)
    dns_server.records["shop.example.cn"] = [SERVER_IP]
    assert dns_check.check_approved_filings.call() == {"matches": 1}


def test_staff_recheck_one_filing_from_the_console(client, dns_server, approved):
    staff = get_user_model().objects.create_superuser(email="boss@example.com", password="Correct-Horse-42")
    client.force_login(staff)
    dns_server.records["shop.example.cn"] = ["198.51.100.9"]
    response = client.post("/console/compliance/icpfiling/", {"action": "recheck_dns", "_selected_action": [
        approved.pk]}, follow=True)
    assert "已检查 1 条备案" in response.content.decode()
    approved.refresh_from_db()
    assert approved.dns_result == "not_ours" and approved.flagged_since is not None
    listed = client.get("/console/compliance/icpfiling/?dns_flagged=yes").content.decode()
    assert "shop.example.cn" in listed
    assert "shop.example.cn" not in client.get("/console/compliance/icpfiling/?dns_flagged=no").content.decode()
