"""Aliyun SMS (阿里云短信服务) `SendSms`, API version 2017-05-25, signed with the V3 scheme ACS3-HMAC-SHA256.

Why V3 rather than the older RPC HMAC-SHA1 signature: Aliyun recommends V3 for every API in its OpenAPI
portal, it is SHA-256, and it binds the HTTP method, host, action, version, date and a nonce into the
signature, not only the query parameters.

Scheme ("V3版本请求体&签名机制", help.aliyun.com/document_detail/2593177.html, also
alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n
                       SignedHeaders \\n HexEncode(SHA256(body))
    CanonicalHeaders = for each signed header, sorted: lowercase(name) ":" trim(value) "\\n"
    StringToSign     = "ACS3-HMAC-SHA256" \\n HexEncode(SHA256(CanonicalRequest))
    Signature        = HexEncode(HMAC-SHA256(AccessKeySecret, StringToSign))
    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<...>,Signature=<...>

Query names and values are percent-encoded per RFC 3986 (only A-Z a-z 0-9 - _ . ~ left as is; space is
%20) and sorted by name. RPC-style parameters (PhoneNumbers, SignName, ...) travel in the query string of a
POST with an empty body, as in the vendor's worked example.
"""

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.parse

from django.conf import settings

from wuji.core import clock

from . import _http
from .base import SendResult, SmsBackend, SmsError

ALGORITHM = "ACS3-HMAC-SHA256"
SMS_VERSION = "2017-05-25"
# Gateway and SMS error codes worth retrying later; everything else is configuration or content.
_RETRYABLE = ("Throttling", "ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR")


def percent_encode(value: str) -> str:
    return urllib.parse.quote(str(value), safe="-_.~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_request(method: str, path: str, query: str, headers: dict[str, str],
                      payload_hash: str) -> tuple[str, str]:
    """Return (canonical request, signed-headers list) for the given headers (all of which are signed)."""
    names = sorted(name.lower() for name in headers)
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name].strip()}\n" for name in names)
    signed_headers = ";".join(names)
    uri = "/".join(percent_encode(part) for part in (path or "/").split("/"))
    return f"{method}\n{uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}", signed_headers


def sign(*, secret: str, method: str, path: str, query: str, headers: dict[str, str],
         payload_hash: str) -> tuple[str, str]:
    """Return (signature hex, signed-headers list)."""
    request, signed_headers = canonical_request(method, path, query, headers, payload_hash)
    string_to_sign = f"{ALGORITHM}\n{sha256_hex(request.encode('utf-8'))}"
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest(), signed_headers


def authorization(*, access_key_id: str, secret: str, method: str, path: str, query: str,
                  headers: dict[str, str], payload_hash: str) -> str:
    signature, signed_headers = sign(secret=secret, method=method, path=path, query=query, headers=headers,
                                     payload_hash=payload_hash)
    return f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"


class AliyunSmsBackend(SmsBackend):
    """Configured by `WUJI_SMS_ALIYUN` (ACCESS_KEY_ID, ACCESS_KEY_SECRET, ENDPOINT) and `WUJI_SMS_SIGN_NAME`."""

    def __init__(self, *, access_key_id: str | None = None, access_key_secret: str | None = None,
                 endpoint: str | None = None, sign_name: str | None = None, timeout: float | None = None):
        conf = settings.WUJI_SMS_ALIYUN
        self.access_key_id = access_key_id or conf["ACCESS_KEY_ID"]
        self.access_key_secret = access_key_secret or conf["ACCESS_KEY_SECRET"]
        self.endpoint = endpoint or conf["ENDPOINT"]
        self.sign_name = sign_name or settings.WUJI_SMS_SIGN_NAME
        self.timeout = timeout or settings.WUJI_SMS_TIMEOUT_SECONDS

    def send(self, phone_e164: str, template_code: str, params: dict[str, str]) -> SendResult:
        if not (self.access_key_id and self.access_key_secret):
            raise SmsError("Aliyun SMS credentials are not configured", code="not_configured")
        url = urllib.parse.urlsplit(self.endpoint)
        query = canonical_query({
            # Aliyun takes mainland numbers without prefix; other E.164 numbers keep their country code.
            "PhoneNumbers": phone_e164[3:] if phone_e164.startswith("+86") else phone_e164.lstrip("+"),
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        })
        payload_hash = sha256_hex(b"")
        headers = {
            "host": url.netloc,
            "x-acs-action": "SendSms",
            "x-acs-content-sha256": payload_hash,
            "x-acs-date": clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-version": SMS_VERSION,
        }
        path = url.path or "/"
        headers["Authorization"] = authorization(
            access_key_id=self.access_key_id, secret=self.access_key_secret, method="POST", path=path,
            query=query, headers=headers, payload_hash=payload_hash,
        )
        status, data = _http.post(f"{url.scheme}://{url.netloc}{path}?{query}", headers=headers, body=b"",
                                  timeout=self.timeout)
        code = str(data.get("Code", ""))
        if status == 200 and code == "OK":
            return SendResult(message_id=str(data.get("BizId", "")))
        message = data.get("Message") or f"HTTP {status}"
        raise SmsError(f"Aliyun SendSms {code or status}: {message} (RequestId {data.get('RequestId', '-')})",
                       code=code or f"http_{status}",
                       retryable=status >= 500 or code.startswith(_RETRYABLE))
