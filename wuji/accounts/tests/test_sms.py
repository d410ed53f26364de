"""SMS backends. The signing functions are checked against the vendors' published worked examples; each
backend then talks to a local vendor stand-in on 127.0.0.1 that recomputes the signature of what actually
arrived on the wire. Nothing here reaches the internet."""

import datetime as dt
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from wuji.accounts.sms import SmsError, aliyun, get_backend, tencent
from wuji.accounts.sms import log as sms_log

NOW = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


# --- worked examples ------------------------------------------------------------------------------------

def test_aliyun_v3_signature_matches_the_documented_example():
    # Aliyun "V3版本请求体&签名机制" (help.aliyun.com/document_detail/2593177.html), section 签名示例 /
    # 固定参数示例: ECS RunInstances, AccessKeyId "YourAccessKeyId", AccessKeySecret "YourAccessKeySecret",
    # x-acs-date 2023-10-26T10:22:32Z, nonce 3156853299f313e23d1673dc12e1703d, empty body.
    # Documented: HashedCanonicalRequest 7ea06492…b1e259, Signature 06563a9e…3283c0.
    query = aliyun.canonical_query({"RegionId": "cn-shanghai",
                                    "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"})
    assert query == "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
    payload_hash = aliyun.sha256_hex(b"")
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-content-sha256": payload_hash,
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-version": "2014-05-26",
    }
    canonical, signed = aliyun.canonical_request("POST", "/", query, headers, payload_hash)
    assert aliyun.sha256_hex(canonical.encode()) == "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    assert aliyun.authorization(access_key_id="YourAccessKeyId", secret="YourAccessKeySecret", method="POST",
                                path="/", query=query, headers=headers, payload_hash=payload_hash) == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_aliyun_percent_encoding_is_rfc3986():
    assert aliyun.percent_encode("a b*c~d") == "a%20b%2Ac~d"
    assert aliyun.percent_encode('{"code":"1"}') == "%7B%22code%22%3A%221%22%7D"
    assert aliyun.percent_encode("武") == "%E6%AD%A6"


def test_tencent_tc3_signature_matches_the_documented_example():
    # Tencent Cloud "签名方法 v3" (cloud.tencent.com/document/api/382/52072; English
    # tencentcloud.com/document/product/382/40467), worked example: CVM DescribeInstances, SecretId
    # "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", SecretKey "Gu5t9xGARNpq86cd98joQYCN3*******" (the documented
    # masked strings are themselves the example key), timestamp 1551113065, signed headers content-type;host.
    # Documented: payload hash 35e9c5b0…f064, hashed canonical request 5ffe6a04…7031, Signature 2230eefd…652c.
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    assert hashlib.sha256(payload).hexdigest() == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    headers = {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}
    canonical, signed = tencent.canonical_request("POST", "/", "", headers, payload)
    assert canonical == ("POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
                         "\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    to_sign = tencent.string_to_sign(timestamp=1551113065, service="cvm", canonical=canonical)
    assert to_sign == ("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                       "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")
    assert tencent.authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", secret_key="Gu5t9xGARNpq86cd98joQYCN3*******",
        timestamp=1551113065, service="cvm", method="POST", path="/", query="", headers=headers, payload=payload,
    ) == ("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
          "SignedHeaders=content-type;host, "
          "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c")


# --- local vendor stand-ins -----------------------------------------------------------------------------

class _Vendor(BaseHTTPRequestHandler):
    """Receives one vendor request, recomputes its signature from the raw request, answers like the vendor."""

    secret = ""
    mode = "ok"  # ok | error
    received: list = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        split = urllib.parse.urlsplit(self.path)
        valid = self.check_signature(split.path, split.query, body)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.received.append({"path": split.path, "query": split.query, "headers": headers, "body": body,
                              "valid": valid})
        status, answer = self.answer(valid)
        raw = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class _Aliyun(_Vendor):
    def check_signature(self, path, query, body):
        auth = self.headers["Authorization"]
        fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        names = fields["SignedHeaders"].split(";")
        if self.headers["x-acs-content-sha256"] != hashlib.sha256(body).hexdigest():
            return False
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        expected, _signed = aliyun.sign(secret=self.secret, method="POST", path=path,
                                        query=aliyun.canonical_query(params),
                                        headers={n: self.headers[n] for n in names},
                                        payload_hash=hashlib.sha256(body).hexdigest())
        return fields["Signature"] == expected and {"host", "x-acs-action", "x-acs-date"} <= set(names)

    def answer(self, valid):
        if not valid:
            return 400, {"RequestId": "r-sig", "HostId": "dysmsapi.aliyuncs.com", "Code": "SignatureDoesNotMatch",
                         "Message": "Specified signature does not match our calculation."}
        if self.mode == "error":
            return 200, {"RequestId": "r-limit", "Code": "isv.BUSINESS_LIMIT_CONTROL",
                         "Message": "触发分钟级流控Permits:1"}
        return 200, {"RequestId": "r-ok", "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}


class _Tencent(_Vendor):
    def check_signature(self, path, query, body):
        auth = self.headers["Authorization"]
        fields = dict(part.strip().split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        names = fields["SignedHeaders"].split(";")
        timestamp = int(self.headers["X-TC-Timestamp"])
        canonical, _signed = tencent.canonical_request("POST", path, query, {n: self.headers[n] for n in names},
                                                       body)
        expected = tencent.signature(secret_key=self.secret, timestamp=timestamp, service="sms",
                                     to_sign=tencent.string_to_sign(timestamp=timestamp, service="sms",
                                                                    canonical=canonical))
        scope = f"{tencent.credential_date(timestamp)}/sms/tc3_request"
        return fields["Signature"] == expected and fields["Credential"].endswith(scope)

    def answer(self, valid):
        if not valid:
            return 200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure",
                                                "Message": "The provided credentials could not be validated."},
                                      "RequestId": "t-sig"}}
        if self.mode == "error":
            return 200, {"Response": {"SendStatusSet": [{
                "SerialNo": "", "PhoneNumber": "+8613800138000", "Fee": 0, "SessionContext": "",
                "Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "the number of sms messages sent "
                "from a single mobile number every day exceeds the upper limit", "IsoCode": "CN"}],
                "RequestId": "t-limit"}}
        return 200, {"Response": {"SendStatusSet": [{
            "SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": "+8613800138000", "Fee": 1,
            "SessionContext": "", "Code": "Ok", "Message": "send success", "IsoCode": "CN"}],
            "RequestId": "t-ok"}}


@pytest.fixture
def vendor(request):
    handler = type("Handler", (request.param,), {"received": [], "secret": "local-test-secret", "mode": "ok"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _aliyun(endpoint, secret="local-test-secret"):
    return aliyun.AliyunSmsBackend(access_key_id="LTAI-test", access_key_secret=secret, endpoint=endpoint,
                                   sign_name="武极云", timeout=5)


def _tencent(endpoint, secret="local-test-secret"):
    return tencent.TencentSmsBackend(secret_id="AKID-test", secret_key=secret, sdk_app_id="1400006666",
                                     region="ap-guangzhou", endpoint=endpoint, sign_name="武极云", timeout=5)


@pytest.mark.parametrize("vendor", [_Aliyun], indirect=True)
def test_aliyun_backend_sends_a_signed_request(vendor):
    handler, endpoint = vendor
    with time_machine.travel(NOW, tick=False):
        result = _aliyun(endpoint).send("+8613800138000", "SMS_154950909", {"code": "123456"})
    assert result.message_id == "900619746936498440^0"
    (seen,) = handler.received
    assert seen["valid"] and seen["body"] == b""
    params = dict(urllib.parse.parse_qsl(seen["query"]))
    assert params == {"PhoneNumbers": "13800138000", "SignName": "武极云", "TemplateCode": "SMS_154950909",
                      "TemplateParam": '{"code":"123456"}'}
    assert seen["headers"]["x-acs-action"] == "SendSms" and seen["headers"]["x-acs-version"] == "2017-05-25"
    assert seen["headers"]["x-acs-date"] == "2026-03-01T02:00:00Z"


@pytest.mark.parametrize("vendor", [_Aliyun], indirect=True)
def test_aliyun_backend_business_error(vendor):
    handler, endpoint = vendor
    handler.mode = "error"
    with pytest.raises(SmsError) as exc:
        _aliyun(endpoint).send("+8613800138000", "SMS_1", {"code": "123456"})
    assert exc.value.code == "isv.BUSINESS_LIMIT_CONTROL" and "r-limit" in str(exc.value)


@pytest.mark.parametrize("vendor", [_Aliyun], indirect=True)
def test_aliyun_backend_wrong_secret_is_refused_by_the_stand_in(vendor):
    handler, endpoint = vendor
    with pytest.raises(SmsError) as exc:
        _aliyun(endpoint, secret="wrong").send("+8613800138000", "SMS_1", {"code": "123456"})
    assert exc.value.code == "SignatureDoesNotMatch" and not exc.value.retryable
    assert handler.received[0]["valid"] is False


@pytest.mark.parametrize("vendor", [_Tencent], indirect=True)
def test_tencent_backend_sends_a_signed_request(vendor):
    handler, endpoint = vendor
    with time_machine.travel(NOW, tick=False):
        result = _tencent(endpoint).send("+8613800138000", "449739", {"code": "123456", "minutes": "5"})
    assert result.message_id == "5000:1045710669157053657849499619"
    (seen,) = handler.received
    assert seen["valid"]
    assert json.loads(seen["body"]) == {"PhoneNumberSet": ["+8613800138000"], "SmsSdkAppId": "1400006666",
                                        "SignName": "武极云", "TemplateId": "449739",
                                        "TemplateParamSet": ["123456", "5"]}
    headers = seen["headers"]
    assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
    assert headers["x-tc-timestamp"] == str(int(NOW.timestamp())) and headers["x-tc-region"] == "ap-guangzhou"
    assert "SignedHeaders=content-type;host;x-tc-action" in headers["authorization"]


@pytest.mark.parametrize("vendor", [_Tencent], indirect=True)
def test_tencent_backend_per_number_error(vendor):
    handler, endpoint = vendor
    handler.mode = "error"
    with pytest.raises(SmsError) as exc:
        _tencent(endpoint).send("+8613800138000", "449739", {"code": "123456"})
    assert exc.value.code == "LimitExceeded.PhoneNumberDailyLimit"


@pytest.mark.parametrize("vendor", [_Tencent], indirect=True)
def test_tencent_backend_wrong_secret_is_refused_by_the_stand_in(vendor):
    _handler, endpoint = vendor
    with pytest.raises(SmsError) as exc:
        _tencent(endpoint, secret="wrong").send("+8613800138000", "449739", {"code": "123456"})
    assert exc.value.code == "AuthFailure.SignatureFailure"


def test_unreachable_endpoint_is_a_retryable_error():
    with pytest.raises(SmsError) as exc:
        _aliyun("http://127.0.0.1:9/").send("+8613800138000", "SMS_1", {"code": "1"})
    assert exc.value.code == "network" and exc.value.retryable


def test_missing_credentials():
    with pytest.raises(SmsError, match="not configured"):
        aliyun.AliyunSmsBackend(access_key_id="", access_key_secret="", endpoint="http://127.0.0.1:9/").send(
            "+8613800138000", "SMS_1", {"code": "1"})
    with pytest.raises(SmsError, match="not configured"):
        tencent.TencentSmsBackend(secret_id="", secret_key="", sdk_app_id="", endpoint="http://127.0.0.1:9/").send(
            "+8613800138000", "1", {"code": "1"})


def test_log_backend_is_the_default_and_keeps_an_outbox():
    sms_log.outbox.clear()
    backend = get_backend()
    assert isinstance(backend, sms_log.LogSmsBackend)
    result = backend.send("+8613800138000", "SMS_CODE", {"code": "654321"})
    assert sms_log.outbox[-1].params == {"code": "654321"} and sms_log.outbox[-1].message_id == result.message_id
    sms_log.outbox.clear()
