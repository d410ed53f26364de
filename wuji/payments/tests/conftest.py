"""Acting as the payment channels: real RSA keys generated here, notices signed and encrypted exactly as
Alipay and WeChat Pay do, and loopback HTTP servers (127.0.0.1) that play the channels' APIs. Nothing here
reaches the internet."""

import base64
import datetime as dt
import http.server
import json
import secrets
import threading
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wuji.core import clock
from wuji.payments import gateways

from .helpers import ScriptedGateway

ALIPAY_APP_ID = "2021000123456789"
ALIPAY_SELLER_ID = "2088123456789012"
WECHAT_MCHID = "1900000109"
WECHAT_APPID = "wxd678efh567hg6787"
WECHAT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
WECHAT_PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092025112700000000000001"
APIV3_KEY = "a12d3924fd499edac8a5efc2b9c63b81"  # 32 ASCII bytes


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa2_sign(key, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(key, message: str, signature: str) -> bool:
    try:
        key.public_key().verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


@pytest.fixture(autouse=True)
def ledger_stays_consistent(db):
    """After every payments test, whatever it credited or refused: the ledger verifies."""
    yield
    from wuji.ledger import services as ledger

    assert ledger.verify() == []


@pytest.fixture(scope="session")
def keys():
    """app: our Alipay app key; alipay: "Alipay"'s key; merchant: our WeChat merchant key; platform: "WeChat
    Pay"'s platform key; intruder: a key nobody trusts."""
    return {name: new_key() for name in ("app", "alipay", "merchant", "platform", "intruder")}


# --- Alipay ----------------------------------------------------------------------------------------------


@pytest.fixture
def alipay(settings, keys, tmp_path):
    settings.WUJI_ALIPAY_APP_ID = ALIPAY_APP_ID
    key_file = tmp_path / "app_private.pem"  # a key given as a path works as well as PEM text
    key_file.write_text(private_pem(keys["app"]))
    settings.WUJI_ALIPAY_PRIVATE_KEY = str(key_file)
    settings.WUJI_ALIPAY_PUBLIC_KEY = public_pem(keys["alipay"])
    settings.WUJI_ALIPAY_SELLER_ID = ALIPAY_SELLER_ID
    settings.WUJI_ALIPAY_NOTIFY_URL = "https://cloud.example.com/payments/notify/alipay/"
    settings.WUJI_ALIPAY_RETURN_URL = "https://cloud.example.com/wallet/topups/"
    settings.WUJI_ALIPAY_GATEWAY = "http://127.0.0.1:9/gateway.do"  # nothing listens: a test that calls out fails
    return settings


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def alipay_unsigned(params: dict) -> str:
    """Alipay's verification string: every parameter but sign and sign_type, sorted, k=v joined with &."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type"))


def alipay_request_unsigned(params: dict) -> str:
    """What we sign in a request to Alipay: every parameter but sign (sign_type included), sorted."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign")


def alipay_notice(topup, key, **overrides) -> dict:
    """The asynchronous notice Alipay POSTs when `topup` is paid, signed with `key` (RSA2)."""
    now = clock.local_now().strftime("%Y-%m-%d %H:%M:%S")
    params = {
        "gmt_create": now, "charset": "utf-8", "seller_id": ALIPAY_SELLER_ID, "subject": "武极云账户充值",
        "buyer_id": "2088102177846880", "invoice_amount": yuan(topup.amount_fen), "notify_id": secrets.token_hex(16),
        "fund_bill_list": json.dumps([{"amount": yuan(topup.amount_fen), "fundChannel": "ALIPAYACCOUNT"}]),
        "notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS", "receipt_amount": "",
        "app_id": ALIPAY_APP_ID, "buyer_pay_amount": yuan(topup.amount_fen), "gmt_payment": now,
        "notify_time": now, "version": "1.0", "out_trade_no": topup.out_trade_no,
        "total_amount": yuan(topup.amount_fen),
        "trade_no": "2026112722001" + secrets.token_hex(6), "auth_app_id": ALIPAY_APP_ID, "point_amount": "0.00",
        "sign_type": "RSA2",
    }
    params.update(overrides)
    params["sign"] = rsa2_sign(key, alipay_unsigned(params))
    return params


# --- WeChat Pay ------------------------------------------------------------------------------------------


@pytest.fixture
def wechat(settings, keys):
    settings.WUJI_WECHAT_MCHID = WECHAT_MCHID
    settings.WUJI_WECHAT_APPID = WECHAT_APPID
    settings.WUJI_WECHAT_CERT_SERIAL_NO = WECHAT_SERIAL
    settings.WUJI_WECHAT_APIV3_KEY = APIV3_KEY
    settings.WUJI_WECHAT_PRIVATE_KEY = private_pem(keys["merchant"])
    settings.WUJI_WECHAT_PUBLIC_KEY = public_pem(keys["platform"])
    settings.WUJI_WECHAT_PUBLIC_KEY_ID = WECHAT_PUBLIC_KEY_ID
    settings.WUJI_WECHAT_CERT_DIR = ""
    settings.WUJI_WECHAT_NOTIFY_URL = "https://cloud.example.com/payments/notify/wechat/"
    settings.WUJI_WECHAT_API_BASE = "http://127.0.0.1:9"  # nothing listens
    return settings


def wechat_transaction(topup, **overrides) -> dict:
    resource = {
        "mchid": WECHAT_MCHID, "appid": WECHAT_APPID, "out_trade_no": topup.out_trade_no,
        "transaction_id": "4200002" + secrets.token_hex(8), "trade_type": "NATIVE", "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
        "success_time": clock.local_now().isoformat(timespec="seconds"),
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": topup.amount_fen, "payer_total": topup.amount_fen, "currency": "CNY",
                   "payer_currency": "CNY"},
    }
    resource.update(overrides)
    return resource


def wechat_sign_headers(key, body: str, *, timestamp: int | None = None, serial: str = WECHAT_PUBLIC_KEY_ID,
                        nonce: str | None = None) -> dict[str, str]:
    timestamp = int(clock.now().timestamp()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16)
    return {"Wechatpay-Timestamp": str(timestamp), "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa2_sign(key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": serial, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}


def wechat_callback(resource: dict, key, *, apiv3_key: str = APIV3_KEY, event_type: str = "TRANSACTION.SUCCESS",
                    **header_options) -> tuple[str, dict]:
    """The body and headers WeChat Pay sends: the resource AES-256-GCM encrypted with the APIv3 key, the
    message `timestamp\\nnonce\\nbody\\n` signed with the platform key."""
    nonce = secrets.token_hex(6)  # 12 ASCII bytes, used as the GCM IV
    associated_data = "transaction"
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(),
                                                     associated_data.encode())
    body = json.dumps({
        "id": "EV-2018022511223320873", "create_time": clock.local_now().isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": associated_data,
                     "nonce": nonce},
    })
    return body, wechat_sign_headers(key, body, **header_options)


def as_django_headers(headers: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}


# --- Loopback channel servers ----------------------------------------------------------------------------


class LoopbackChannel:
    """An HTTP server on 127.0.0.1 in a thread. `handler(method, path, query, body, headers)` returns
    (status, response headers, body text); every request is kept in `requests`."""

    def __init__(self, handler):
        self.handler = handler
        self.requests: list[dict] = []
        channel = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
                record = {"method": self.command, "path": parsed.path, "query": query, "body": body,
                          "headers": dict(self.headers), "raw_path": self.path}
                channel.requests.append(record)
                status, headers, text = channel.handler(record)
                data = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback():
    servers = []

    def start(handler) -> LoopbackChannel:
        server = LoopbackChannel(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def alipay_response(key, method: str, answer: dict) -> str:
    """Alipay's synchronous answer: {"<method>_response": {...}, "sign": RSA2 over that object's exact text}."""
    inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    name = method.replace(".", "_") + "_response"
    return f'{{"{name}":{inner},"sign":"{rsa2_sign(key, inner)}"}}'


def wechat_response(key, status: int, answer: dict | None) -> tuple[int, dict, str]:
    body = json.dumps(answer) if answer is not None else ""
    headers = {"Content-Type": "application/json", **wechat_sign_headers(key, body)}
    return status, headers, body


@pytest.fixture
def travel():
    """Move the platform clock forward; put it back afterwards."""
    def advance(**kwargs):
        clock.advance(dt.timedelta(**kwargs))

    yield advance
    clock.reset()



@pytest.fixture
def scripted(settings):
    """Two scripted channels, refundable for a year, registered for the test and removed after it."""
    settings.WUJI_REFUND_WINDOW_DAYS = {**settings.WUJI_REFUND_WINDOW_DAYS, "scripted": 365, "scripted2": 30}
    one, two = ScriptedGateway("scripted"), ScriptedGateway("scripted2")
    gateways.register(one)
    gateways.register(two)
    yield one, two
    gateways._GATEWAYS.pop("scripted", None)
    gateways._GATEWAYS.pop("scripted2", None)
