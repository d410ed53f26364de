"""Tencent Cloud SMS (腾讯云短信) `SendSms`, API version 2021-01-11, signed with TC3-HMAC-SHA256.

Scheme ("签名方法 v3", cloud.tencent.com/document/api/382/52072; English: "Signature v3",
tencentcloud.com/document/product/382/40467):

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n
                       SignedHeaders \\n HexEncode(SHA256(body))
    CanonicalHeaders = for each signed header, sorted: lowercase(name) ":" lowercase(trim(value)) "\\n"
    StringToSign     = "TC3-HMAC-SHA256" \\n Timestamp \\n Date/service/tc3_request \\n
                       HexEncode(SHA256(CanonicalRequest))
    SecretDate = HMAC_SHA256("TC3" + SecretKey, Date); SecretService = HMAC_SHA256(SecretDate, service)
    SecretSigning = HMAC_SHA256(SecretService, "tc3_request")
    Signature = HexEncode(HMAC_SHA256(SecretSigning, StringToSign))
    Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<CredentialScope>, SignedHeaders=<...>, Signature=<...>

Date is the UTC date (YYYY-MM-DD) of the X-TC-Timestamp.
"""

import datetime as dt
import hashlib
import hmac
import json
import urllib.parse

from django.conf import settings

from wuji.core import clock

from . import _http
from .base import SendResult, SmsBackend, SmsError

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
SMS_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
_RETRYABLE = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable", "FailedOperation.ServiceTimeout")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def credential_date(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")


def canonical_request(method: str, path: str, query: str, headers: dict[str, str], payload: bytes) -> tuple[str, str]:
    names = sorted(name.lower() for name in headers)
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name].strip().lower()}\n" for name in names)
    signed_headers = ";".join(names)
    payload_hash = hashlib.sha256(payload).hexdigest()
    return f"{method}\n{path or '/'}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}", signed_headers


def string_to_sign(*, timestamp: int, service: str, canonical: str) -> str:
    scope = f"{credential_date(timestamp)}/{service}/tc3_request"
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(*, secret_key: str, timestamp: int, service: str, to_sign: str) -> str:
    secret_date = _hmac(f"TC3{secret_key}".encode(), credential_date(timestamp))
    secret_signing = _hmac(_hmac(secret_date, service), "tc3_request")
    return hmac.new(secret_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(*, secret_id: str, secret_key: str, timestamp: int, service: str, method: str, path: str,
                  query: str, headers: dict[str, str], payload: bytes) -> str:
    canonical, signed_headers = canonical_request(method, path, query, headers, payload)
    to_sign = string_to_sign(timestamp=timestamp, service=service, canonical=canonical)
    sig = signature(secret_key=secret_key, timestamp=timestamp, service=service, to_sign=to_sign)
    scope = f"{credential_date(timestamp)}/{service}/tc3_request"
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={sig}"


class TencentSmsBackend(SmsBackend):
    """Configured by `WUJI_SMS_TENCENT` (SECRET_ID, SECRET_KEY, SDK_APP_ID, REGION, ENDPOINT) and
    `WUJI_SMS_SIGN_NAME`. Template parameters are positional ({1}, {2}, ...): `params` values in order."""

    def __init__(self, *, secret_id: str | None = None, secret_key: str | None = None, sdk_app_id: str | None = None,
                 region: str | None = None, endpoint: str | None = None, sign_name: str | None = None,
                 timeout: float | None = None):
        conf = settings.WUJI_SMS_TENCENT
        self.secret_id = secret_id or conf["SECRET_ID"]
        self.secret_key = secret_key or conf["SECRET_KEY"]
        self.sdk_app_id = sdk_app_id or conf["SDK_APP_ID"]
        self.region = region or conf["REGION"]
        self.endpoint = endpoint or conf["ENDPOINT"]
        self.sign_name = sign_name or settings.WUJI_SMS_SIGN_NAME
        self.timeout = timeout or settings.WUJI_SMS_TIMEOUT_SECONDS

    def send(self, phone_e164: str, template_code: str, params: dict[str, str]) -> SendResult:
        if not (self.secret_id and self.secret_key and self.sdk_app_id):
            raise SmsError("Tencent Cloud SMS credentials are not configured", code="not_configured")
        url = urllib.parse.urlsplit(self.endpoint)
        body = json.dumps({
            "PhoneNumberSet": [phone_e164],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template_code,
            "TemplateParamSet": [str(value) for value in params.values()],
        }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(clock.now().timestamp())
        signed = {"content-type": CONTENT_TYPE, "host": url.netloc, "x-tc-action": "SendSms"}
        path = url.path or "/"
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": url.netloc,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": SMS_VERSION,
            "X-TC-Region": self.region,
            "Authorization": authorization(secret_id=self.secret_id, secret_key=self.secret_key,
                                           timestamp=timestamp, service=SERVICE, method="POST", path=path,
                                           query="", headers=signed, payload=body),
        }
        status, data = _http.post(f"{url.scheme}://{url.netloc}{path}", headers=headers, body=body,
                                  timeout=self.timeout)
        response = data.get("Response") or {}
        request_id = response.get("RequestId", "-")
        error = response.get("Error")
        if error or status != 200:
            code = str((error or {}).get("Code", f"http_{status}"))
            raise SmsError(f"Tencent SendSms {code}: {(error or {}).get('Message', '')} (RequestId {request_id})",
                           code=code, retryable=status >= 500 or code.startswith(_RETRYABLE))
        statuses = response.get("SendStatusSet") or []
        if not statuses:
            raise SmsError(f"Tencent SendSms returned no status (RequestId {request_id})", code="empty")
        item = statuses[0]
        if str(item.get("Code")) != "Ok":
            code = str(item.get("Code", ""))
            raise SmsError(f"Tencent SendSms {code}: {item.get('Message', '')} (RequestId {request_id})",
                           code=code, retryable=code.startswith(_RETRYABLE))
        return SendResult(message_id=str(item.get("SerialNo", "")))
