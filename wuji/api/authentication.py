"""Signed API requests: `Authorization: WUJI-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.

The canonical request and the signature are computed by wuji_sdk.signing, the one definition the SDK signs
with; this module only gathers the request's parts, checks the key and refuses with a stable code
(decision 0041). The order of the checks: the header's shape, the signed headers, the clock, the key (one
query), the signature, then what only the key's holder may learn (expiry, replay, IP, restriction).
"""

import hmac
import io
import time

from django.conf import settings
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, status

from wuji.accounts import restrictions
from wuji_sdk import signing

from . import services
from .errors import ApiError


class FunctionRestrictedError(exceptions.PermissionDenied):
    """403 `function_restricted`: the key is valid but its owner's API access is restricted (4.5.2.2)."""

    default_code = restrictions.CODE


class SignatureRefused(ApiError, exceptions.AuthenticationFailed):
    """401 with a stable code: the request is not proven to come from the key's holder."""

    status_code = status.HTTP_401_UNAUTHORIZED


class KeyForbidden(ApiError):
    """403 with a stable code: the key's holder signed the request, but the key may not do this."""

    status_code = status.HTTP_403_FORBIDDEN


class BodyTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def _refuse(code: str, message, field: str | None = "Authorization"):
    return SignatureRefused(message, code=code, field=field)


def _body(request) -> bytes:
    """The raw body, to hash. Django keeps at most DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) in memory, but signed
    uploads (identity documents, ticket and appeal attachments) may be larger: up to WUJI_API_MAX_BODY_BYTES the
    body is read here the way HttpRequest.body reads it, and left in place for DRF's parsers."""
    raw = request._request
    length = int(raw.META.get("CONTENT_LENGTH") or 0)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if hasattr(raw, "_body") or limit is None or length <= limit:
        return raw.body
    if length > settings.WUJI_API_MAX_BODY_BYTES:
        raise BodyTooLarge(_("请求体过大（上限 %(mb)d MB）。") % {"mb": settings.WUJI_API_MAX_BODY_BYTES // 2**20},
                           code="body_too_large")
    raw._body = raw.read()
    raw._stream = io.BytesIO(raw._body)
    return raw._body


def _client_ip(request) -> str | None:
    from .views import client_ip  # imported here: DRF imports this module while wuji.api.views is loading

    return client_ip(request)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Verifies a WUJI-HMAC-SHA256 signature (wuji_sdk.signing) and returns (owner, key)."""

    keyword = signing.ALGORITHM

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        parsed = signing.parse_authorization(header)
        if parsed is None:
            raise _refuse("signature_malformed", _("Authorization 请求头格式错误，应为 WUJI-HMAC-SHA256 "
                                                   "Credential=<密钥 ID>/<日期>/wuji_request, SignedHeaders=…, "
                                                   "Signature=…。"))
        timestamp, nonce = self._timestamp_and_nonce(request, parsed)
        body = _body(request)
        headers = self._signed_headers(request, parsed, body)
        self._check_clock(timestamp)
        key = services.active_key(parsed.key_id)
        if key is None or not services.owner_may_use(key):
            raise _refuse("key_invalid", _("API 密钥不存在或已吊销。"))
        if key.is_legacy:
            raise _refuse("key_legacy", _("该 API 密钥创建于请求签名上线之前，无法用于签名请求。请在控制台"
                                          "创建新密钥，并吊销旧密钥。"))
        canonical = signing.canonical_request(
            method=request.method, path=escape_uri_path(request.path), query=request.META.get("QUERY_STRING", ""),
            headers=headers, signed=parsed.signed_headers, body=body)
        expected = signing.signature(secret=services.secret_of(key), timestamp=timestamp, canonical=canonical)
        if not hmac.compare_digest(expected, parsed.signature):
            raise _refuse("signature_mismatch", _("签名不匹配：请检查 Secret，以及签名所用的方法、路径、查询参数、"
                                                  "请求头和请求体是否与发出的请求一致。"))
        self._check_key(request, key, nonce)
        services.record_use(key, _client_ip(request))
        request.api_key = key
        return key.owner, key

    @staticmethod
    def _timestamp_and_nonce(request, parsed) -> tuple[int, str]:
        raw = request.headers.get(signing.TIMESTAMP_HEADER, "").strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 10:  # 10 digits: until the year 2286
            raise _refuse("signature_malformed", _("请在请求头 X-Wuji-Timestamp 中提供 Unix 时间戳（秒）。"),
                          field="X-Wuji-Timestamp")
        timestamp = int(raw)
        if parsed.date != signing.day_of(timestamp):
            raise _refuse("signature_malformed", _("Credential 中的日期须为 X-Wuji-Timestamp 所在的 UTC 日期。"))
        nonce = request.headers.get(signing.NONCE_HEADER, "").strip()
        if not signing.NONCE_PATTERN.match(nonce):
            raise _refuse("signature_malformed", _("请在请求头 X-Wuji-Nonce 中提供 16 至 64 个字符（字母、数字、"
                                                   "_ 或 -）的一次性随机串。"), field="X-Wuji-Nonce")
        return timestamp, nonce

    @staticmethod
    def _signed_headers(request, parsed, body: bytes) -> dict[str, str]:
        """The signed headers' values; refuses a request whose required headers are not all signed."""
        signed = set(parsed.signed_headers)
        required = set(signing.REQUIRED_HEADERS)
        if body:
            required.add("content-type")
        if request.headers.get("idempotency-key"):
            required.add("idempotency-key")
        missing = sorted(required - signed)
        if missing:
            raise _refuse("signature_header_unsigned", _("以下请求头必须参与签名（列入 SignedHeaders）：%(headers)s。")
                          % {"headers": ", ".join(missing)})
        absent = sorted(name for name in signed if request.headers.get(name) is None)
        if absent:
            raise _refuse("signature_malformed", _("SignedHeaders 中列出的请求头未随请求发送：%(headers)s。")
                          % {"headers": ", ".join(absent)})
        return {name: request.headers[name] for name in signed}

    @staticmethod
    def _check_clock(timestamp: int) -> None:
        """Against the wall clock, not the platform clock: `wuji simulate` moves the latter forward, while
        clients sign with real time (and the nonce store expires entries in real time too)."""
        skew = timestamp - time.time()
        if abs(skew) > services.SIGNATURE_WINDOW_SECONDS:
            raise _refuse("timestamp_out_of_window",
                          _("请求时间戳与服务器时间相差超过 %(seconds)d 秒：请校准时钟并重新签名。")
                          % {"seconds": services.SIGNATURE_WINDOW_SECONDS}, field="X-Wuji-Timestamp")

    @staticmethod
    def _check_key(request, key, nonce: str) -> None:
        """What is told only to the key's holder (the signature is already verified)."""
        if key.has_expired:
            raise _refuse("key_expired", _("API 密钥已过期，请在控制台创建新密钥。"))
        if not services.claim_nonce(key.key_id, nonce):
            raise _refuse("nonce_reused", _("该 X-Wuji-Nonce 已使用过：每个请求须使用新的随机串。"),
                          field="X-Wuji-Nonce")
        if not services.ip_allowed(key, _client_ip(request)):
            raise KeyForbidden(_("该 API 密钥不允许从此 IP 地址（%(ip)s）使用。") % {"ip": _client_ip(request) or "?"},
                               code="ip_not_allowed", field=None)
        if key.api_restricted:  # read with the key, in the same query (4.5.2.2)
            restrictions.require(key.owner, restrictions.RestrictedFunction.API, refuse=FunctionRestrictedError)

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the signature scheme to the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "wujiSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": SCHEME_DESCRIPTION,
        }


SCHEME_DESCRIPTION = (
    "在控制台创建 API 密钥（密钥 ID + Secret），用 Secret 为每个请求签名。Create a key in the portal and sign every "
    "request with its secret (WUJI-HMAC-SHA256, the canonical-request scheme of Tencent Cloud TC3 / Aliyun "
    "ACS3; the Python SDK `wuji_sdk` does it for you):\n\n"
    "```\n"
    "CanonicalRequest = METHOD \\n PATH \\n CANONICAL_QUERY \\n CANONICAL_HEADERS \\n SIGNED_HEADERS \\n "
    "HEX(SHA256(body))\n"
    "StringToSign     = \"WUJI-HMAC-SHA256\" \\n TIMESTAMP \\n DATE/wuji_request \\n HEX(SHA256(CanonicalRequest))\n"
    "SigningKey       = HMAC(HMAC(\"WUJI\" + secret, DATE), \"wuji_request\")\n"
    "Signature        = HEX(HMAC(SigningKey, StringToSign))\n"
    "```\n\n"
    "Send `Authorization: WUJI-HMAC-SHA256 Credential=<key_id>/<DATE>/wuji_request, SignedHeaders=<h1;h2;…>, "
    "Signature=<hex>`, `X-Wuji-Timestamp: <unix seconds>` and `X-Wuji-Nonce: <16–64 of [A-Za-z0-9_-], never "
    "reused>`. DATE is the UTC day (YYYY-MM-DD) of the timestamp. SignedHeaders must include `host`, "
    "`x-wuji-timestamp`, `x-wuji-nonce`, `content-type` when there is a body and `idempotency-key` when sent.\n\n"
    "Refusals (401): `signature_malformed`, `signature_header_unsigned`, `timestamp_out_of_window` (more than "
    "300 s from the server's clock), `key_invalid` (unknown or revoked), `key_legacy` (a key from before "
    "signing: create a new one), `signature_mismatch`, `key_expired`, `nonce_reused`. Refusals (403): "
    "`ip_not_allowed` (the key's IP allow-list), `scope_missing` (every key reads; changes need the route's "
    "scope: `servers`, `billing` or `account`), `function_restricted`."
)
