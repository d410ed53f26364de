"""Which server and owner a complaint's target meant at a given moment (the abuse lookup).

- An IPv4 address: the allocation open at that moment (`network.services.history`).
- A domain: an approved ICP filing for it or a parent domain, approved by then, gives the server; the owner is
  whoever held that server's address at that moment (else the server's owner).
- A URL: its host, as an address or a domain.
Anything else is unresolved: the case is opened without a server and staff look further.
"""

import dataclasses
import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wuji.compliance.choices import FilingStatus
from wuji.compliance.models import IcpFiling
from wuji.compliance.validators import normalise_domain
from wuji.network import services as network

from .choices import TargetKind

MAX_TARGET = 500


@dataclasses.dataclass(frozen=True)
class Target:
    kind: str
    text: str  # normalised: the address, the punycode domain, or the URL as given
    host: str  # the address or domain that is looked up
    server: object | None = None
    owner: object | None = None


def parse(text: str) -> Target:
    """Classify and normalise a target; ValidationError when it is none of an IPv4 address, a domain or an
    http(s) URL."""
    value = (text or "").strip()
    invalid = ValidationError(_("请填写有效的 IPv4 地址、域名或网址，例如 203.0.113.5、example.cn 或 "
                                "https://example.cn/page。"), code="invalid_target")
    if not value or len(value) > MAX_TARGET or any(c.isspace() for c in value):
        raise invalid
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is not None:
        if address.version != 4:
            raise invalid
        return Target(kind=TargetKind.IP, text=str(address), host=str(address))
    if "/" in value or ":" in value:
        parts = urlsplit(value if "://" in value else f"http://{value}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid
        host = _host(parts.hostname, invalid)
        return Target(kind=TargetKind.URL, text=value, host=host)
    return Target(kind=TargetKind.DOMAIN, text=_host(value, invalid), host=_host(value, invalid))


def _host(name: str, invalid: ValidationError) -> str:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:
            return normalise_domain(name)
        except ValidationError:
            raise invalid from None
    if address.version != 4:
        raise invalid
    return str(address)


def resolve(text: str, *, at) -> Target:
    """Parse the target and find the server and owner that held it at `at` (None, None when unknown)."""
    target = parse(text)
    server = owner = None
    try:
        ipaddress.IPv4Address(target.host)
    except ValueError:
        server = _filed_server(target.host, at)
        if server is not None:
            held = network.history(server=server, at=at).first()
            owner = held.owner if held else server.owner
    else:
        held = network.history(address=target.host, at=at).first()
        if held is not None:
            server, owner = held.server, held.owner
    return dataclasses.replace(target, server=server, owner=owner)


def _filed_server(domain: str, at):
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]  # the domain and its parents
    filings = IcpFiling.objects.filter(domain__in=candidates, status=FilingStatus.APPROVED, reviewed_at__lte=at)
    closest = max(filings.select_related("server__owner"), key=lambda f: len(f.domain), default=None)
    return closest.server if closest else None
