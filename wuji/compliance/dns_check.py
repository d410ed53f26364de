"""The periodic DNS check of approved ICP filings (接入信息准确性核查, domain-cn.md §4.3; decision 0036).

Every WUJI_ICP_DNS_CHECK_HOURS the A records of each approved domain are resolved (dnspython, resolver
WUJI_DNS_RESOLVER or the system's, WUJI_DNS_TIMEOUT_SECONDS per query, a small thread pool so one slow domain
does not stall the run) and compared with the filing's server's current public IP. The result is recorded on
the filing; a domain that resolves elsewhere (or not at all) is flagged, its owner told once per episode, and
the flag clears when it points back. Timeouts and resolver errors say nothing about the domain: they are
recorded but keep the flag as it was. A flagged filing stays on the allow-list (see the decision record)."""

import concurrent.futures
import dataclasses
import datetime as dt
import ipaddress
import logging

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from wuji.audit import services as audit
from wuji.core import clock
from wuji.core.scheduler import periodic
from wuji.network import services as network
from wuji.network.models import IpPool
from wuji.notifications.services import notify

from .choices import DnsResult, FilingStatus
from .models import IcpFiling

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Lookup:
    """One A-record query: the outcome (a DnsResult for failures, "" when addresses were found) and addresses."""

    outcome: str
    addresses: tuple[str, ...] = ()


def resolver() -> dns.resolver.Resolver:
    """WUJI_DNS_RESOLVER ("host:port", "host" = port 53) or the system's (/etc/resolv.conf); no search list,
    no cache; `lifetime` bounds one query including retries."""
    configured = settings.WUJI_DNS_RESOLVER.strip()
    res = dns.resolver.Resolver(configure=not configured)
    if configured:
        host, _, port = configured.rpartition(":") if configured.count(":") == 1 else (configured, "", "53")
        res.nameservers = [host]
        res.port = int(port)
    res.lifetime = res.timeout = settings.WUJI_DNS_TIMEOUT_SECONDS
    res.use_search_by_default = False
    return res


def lookup(domain: str, res: dns.resolver.Resolver) -> Lookup:
    """The A records of `domain` (absolute name), or why there are none."""
    try:
        answer = res.resolve(dns.name.from_text(domain), "A", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(DnsResult.NXDOMAIN)
    except dns.exception.Timeout:
        return Lookup(DnsResult.TIMEOUT)
    except dns.exception.DNSException as exc:  # SERVFAIL, REFUSED, no nameserver answered…
        log.info("DNS lookup of %s failed: %s", domain, exc)
        return Lookup(DnsResult.ERROR)
    addresses = tuple(sorted({r.address for r in answer.rrset or ()}, key=ipaddress.IPv4Address))
    return Lookup("" if addresses else DnsResult.NO_ANSWER, addresses)


def our_networks() -> list[ipaddress.IPv4Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in IpPool.objects.values_list("cidr", flat=True)]


def classify(found: Lookup, expected: str | None, networks) -> str:
    """The DnsResult of one lookup, given the server's current address (None: it has none)."""
    if found.outcome in (DnsResult.TIMEOUT, DnsResult.ERROR):
        return found.outcome
    if expected is None:
        return DnsResult.NO_SERVER_ADDRESS
    if found.outcome:
        return found.outcome
    if expected in found.addresses:
        return DnsResult.MATCHES
    ours = all(any(ipaddress.IPv4Address(a) in net for net in networks) for a in found.addresses)
    return DnsResult.OTHER_OF_OURS if ours else DnsResult.NOT_OURS


def record(filing: IcpFiling, result: str, addresses, expected: str | None, *, now) -> bool:
    """Store one check on the filing; flag, notify (once per episode) or clear. True when a new flag began."""
    fields = {"dns_checked_at": now, "dns_result": result, "dns_addresses": list(addresses)}
    live = IcpFiling.objects.filter(pk=filing.pk, status=FilingStatus.APPROVED)
    with transaction.atomic():
        live.update(**fields)
        if result == DnsResult.MATCHES:
            live.update(flagged_since=None)
            return False
        if result not in DnsResult.FLAGGED or not live.filter(flagged_since__isnull=True).update(flagged_since=now):
            return False
        audit.record(actor=None, owner=filing.owner, channel="system", action="icp_filing.dns_flagged",
                     target=filing, params={"domain": filing.domain, "result": result, "found": list(addresses),
                                            "expected": expected})
        notify(filing.owner, "icp_filing.dns_flagged", {
            "domain": filing.domain, "server": filing.server.name, "expected": expected,
            "result": str(DnsResult.label(result)), "result_en": result.replace("_", " "),
            "found": ", ".join(addresses) or "—",
            "checked_at": f"{timezone.localtime(now):%Y-%m-%d %H:%M}"})
    return True


def check(filings) -> dict[str, int]:
    """Check these filings (the approved ones among them) now; returns the count per DnsResult."""
    filings = list(filings.filter(status=FilingStatus.APPROVED).select_related("owner", "server"))
    expected = {f.pk: network.address_of(f.server_id) for f in filings}
    networks = our_networks()
    res = resolver()
    workers = max(1, min(settings.WUJI_ICP_DNS_CHECK_WORKERS, len(filings)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="icp-dns") as pool:
        lookups = dict(zip([f.pk for f in filings], pool.map(lambda f: lookup(f.domain, res), filings), strict=True))
    counts: dict[str, int] = {}
    now = clock.now()
    for filing in filings:
        found = lookups[filing.pk]
        result = classify(found, expected[filing.pk], networks)
        record(filing, result, found.addresses, expected[filing.pk], now=now)
        counts[result] = counts.get(result, 0) + 1
    return counts


def flagged_filings():
    """Approved filings whose domain does not point at their server (the console's filter)."""
    return IcpFiling.objects.filter(status=FilingStatus.APPROVED, flagged_since__isnull=False)


@periodic("compliance.icp_dns_check", every=dt.timedelta(hours=settings.WUJI_ICP_DNS_CHECK_HOURS))
@task()
def check_approved_filings() -> dict[str, int]:
    """Resolve every approved filing's domain and record whether it still points at its server."""
    return check(IcpFiling.objects.all())
