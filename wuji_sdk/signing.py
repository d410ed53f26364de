"""Request signing, WUJI-HMAC-SHA256: the one definition the server verifies and the SDK signs with.

The scheme follows the canonical-request signatures of Tencent Cloud (TC3) and Aliyun (ACS3):

    CanonicalRequest = METHOD \\n PATH \\n CANONICAL_QUERY \\n CANONICAL_HEADERS \\n SIGNED_HEADERS \\n
                       HEX(SHA256(body))
    StringToSign     = "WUJI-HMAC-SHA256" \\n TIMESTAMP \\n DATE/wuji_request \\n HEX(SHA256(CanonicalRequest))
    SigningKey       = HMAC(HMAC("WUJI" + secret, DATE), "wuji_request")
    Signature        = HEX(HMAC(SigningKey, StringToSign))

sent as

    Authorization: WUJI-HMAC-SHA256 Credential=<key_id>/<DATE>/wuji_request, SignedHeaders=<h1;h2;…>, Signature=<hex>
    X-Wuji-Timestamp: <unix seconds>
    X-Wuji-Nonce: <16–64 characters of [A-Za-z0-9_-], never reused>

DATE is the UTC day (YYYY-MM-DD) of TIMESTAMP. PATH is the request path, decoded and percent-encoded again by
RFC 3986 with "/" kept (so "/a b" and "/a%20b" both sign as "/a%20b").
CANONICAL_QUERY is the query's name=value pairs, each side percent-encoded by RFC 3986 (unreserved characters
only left as they are), sorted by name then value, joined by "&". CANONICAL_HEADERS is "name:value\\n" for each
signed header: lower-case name, value with outer whitespace removed and inner runs of whitespace collapsed.
The signed headers must include host, x-wuji-timestamp and x-wuji-nonce, and content-type and
idempotency-key whenever the request has them.

Standard library only: the SDK has no dependencies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM = "WUJI-HMAC-SHA256"
SERVICE = "wuji_request"
TIMESTAMP_HEADER = "x-wuji-timestamp"
NONCE_HEADER = "x-wuji-nonce"
REQUIRED_HEADERS = ("host", TIMESTAMP_HEADER, NONCE_HEADER)
SIGNED_WHEN_PRESENT = ("content-type", "idempotency-key")
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_AUTHORIZATION = re.compile(
    r"^" + ALGORITHM + r" Credential=(?P<key_id>[^/,\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/" + SERVICE
    + r",\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def canonical_path(path: str) -> str:
    return quote(unquote(path or "/"), safe="/-_.~")


def canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(name, safe="-_.~"), quote(value, safe="-_.~")) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _header_value(value: str) -> str:
    return " ".join(value.split())


def canonical_request(*, method: str, path: str, query: str, headers: dict[str, str], signed: list[str],
                      body: bytes) -> str:
    canonical_headers = "".join(f"{name}:{_header_value(headers[name])}\n" for name in signed)
    return "\n".join([method.upper(), canonical_path(path), canonical_query(query), canonical_headers, ";".join(signed),
                      _sha256_hex(body)])


def day_of(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")


def signature(*, secret: str, timestamp: int, canonical: str) -> str:
    day = day_of(timestamp)
    string_to_sign = "\n".join([ALGORITHM, str(timestamp), f"{day}/{SERVICE}", _sha256_hex(canonical.encode())])
    signing_key = _hmac(_hmac(("WUJI" + secret).encode(), day), SERVICE)
    return hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign(*, key_id: str, secret: str, method: str, path: str, query: str = "", headers: dict[str, str],
         body: bytes = b"", timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers to add to a request: Authorization, X-Wuji-Timestamp and X-Wuji-Nonce.

    `headers` are the request's other headers (Host included); names may be in any case."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_urlsafe(24)
    lowered = {name.lower(): value for name, value in headers.items()}
    lowered[TIMESTAMP_HEADER], lowered[NONCE_HEADER] = str(timestamp), nonce
    signed = sorted(set(REQUIRED_HEADERS) | {h for h in SIGNED_WHEN_PRESENT if lowered.get(h)})
    canonical = canonical_request(method=method, path=path, query=query, headers=lowered, signed=signed, body=body)
    value = signature(secret=secret, timestamp=timestamp, canonical=canonical)
    return {
        "Authorization": f"{ALGORITHM} Credential={key_id}/{day_of(timestamp)}/{SERVICE}, "
                         f"SignedHeaders={';'.join(signed)}, Signature={value}",
        "X-Wuji-Timestamp": str(timestamp),
        "X-Wuji-Nonce": nonce,
    }


@dataclasses.dataclass(frozen=True)
class ParsedAuthorization:
    key_id: str
    date: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """The parts of a WUJI-HMAC-SHA256 Authorization header, or None when it is not one."""
    match = _AUTHORIZATION.match(value.strip())
    if not match:
        return None
    return ParsedAuthorization(key_id=match["key_id"], date=match["date"],
                               signed_headers=match["headers"].split(";"), signature=match["signature"])
