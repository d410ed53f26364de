"""WeChat Pay APIv3 (微信支付, Native) on wechatpayv3: code_url, callback verification, query, refund.

Callbacks: the signature over `timestamp\\nnonce\\nbody\\n` is checked with the platform key whose id/serial
matches `Wechatpay-Serial` (the 微信支付公钥 or a platform certificate in WUJI_WECHAT_CERT_DIR), the resource
is decrypted with the APIv3 key (AES-256-GCM), and — which the SDK does not do — a timestamp further than
WUJI_WECHAT_NOTICE_WINDOW_SECONDS from now is refused. Amounts are fen on both sides.
"""

import datetime as dt
import json
import logging

import requests
from django.conf import settings
from wechatpayv3 import WeChatPay, WeChatPayType

from wuji.core import clock

from ..choices import PaymentChannel
from .base import (
    Gateway,
    GatewayError,
    NoticeRejected,
    PaymentRequest,
    PaymentState,
    RefundResult,
    RefundStatus,
    VerifiedNotice,
)
from .keys import pem

log = logging.getLogger(__name__)

DESCRIPTION = "武极云账户充值"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
           "Wechatpay-Signature-Type")
REFUND_STATES = {"SUCCESS": RefundStatus.SUCCEEDED, "PROCESSING": RefundStatus.PENDING,
                 "CLOSED": RefundStatus.FAILED, "ABNORMAL": RefundStatus.FAILED}
RETRYABLE_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "FREQUENCY_LIMIT_EXCEED"}


class WeChatGateway(Gateway):
    channel = PaymentChannel.WECHAT

    def enabled(self) -> bool:
        platform_key = (settings.WUJI_WECHAT_PUBLIC_KEY and settings.WUJI_WECHAT_PUBLIC_KEY_ID) or \
            settings.WUJI_WECHAT_CERT_DIR
        return bool(settings.WUJI_WECHAT_MCHID and settings.WUJI_WECHAT_APPID and settings.WUJI_WECHAT_CERT_SERIAL_NO
                    and settings.WUJI_WECHAT_APIV3_KEY and settings.WUJI_WECHAT_PRIVATE_KEY and platform_key)

    def _public_key_mode(self) -> bool:
        return bool(settings.WUJI_WECHAT_PUBLIC_KEY and settings.WUJI_WECHAT_PUBLIC_KEY_ID)

    def client(self) -> WeChatPay:
        if not self.enabled():
            raise GatewayError("WeChat Pay is not configured")
        public = self._public_key_mode()
        try:
            client = WeChatPay(
                wechatpay_type=WeChatPayType.NATIVE, mchid=settings.WUJI_WECHAT_MCHID,
                private_key=pem(settings.WUJI_WECHAT_PRIVATE_KEY), cert_serial_no=settings.WUJI_WECHAT_CERT_SERIAL_NO,
                appid=settings.WUJI_WECHAT_APPID, apiv3_key=settings.WUJI_WECHAT_APIV3_KEY,
                notify_url=settings.WUJI_WECHAT_NOTIFY_URL or None,
                cert_dir=None if public else settings.WUJI_WECHAT_CERT_DIR,
                public_key=pem(settings.WUJI_WECHAT_PUBLIC_KEY) if public else None,
                public_key_id=settings.WUJI_WECHAT_PUBLIC_KEY_ID if public else None,
                timeout=(10, 30),
            )
        except GatewayError:
            raise
        except Exception as exc:  # the SDK raises bare Exception for bad keys or missing certificates
            raise GatewayError(f"WeChat Pay client cannot be set up: {exc}") from None
        client._core._gate_way = settings.WUJI_WECHAT_API_BASE.rstrip("/")  # no public setter in the SDK
        return client

    def _request(self, what: str, call, *args, **kwargs) -> tuple[int, dict]:
        try:
            code, message = call(*args, **kwargs)
        except requests.RequestException as exc:
            raise GatewayError(f"{what}: {exc}") from None
        except Exception as exc:  # e.g. "failed to verify the signature" of the response
            raise GatewayError(f"{what}: {exc}") from None
        try:
            body = json.loads(message) if message else {}
        except (TypeError, ValueError):
            body = {}
        if code >= 500:
            raise GatewayError(f"{what}: HTTP {code} {body.get('code', '')}")
        return code, body

    # --- paying ------------------------------------------------------------------------------------------

    def create_payment(self, topup) -> PaymentRequest:
        client = self.client()
        expire = (topup.expires_at or (clock.now() + dt.timedelta(minutes=settings.WUJI_TOPUP_EXPIRY_MINUTES)))
        code, body = self._request("native pay", client.pay, description=DESCRIPTION, out_trade_no=topup.out_trade_no,
                                   amount={"total": topup.amount_fen, "currency": "CNY"},
                                   time_expire=expire.astimezone(clock.SHANGHAI).isoformat(timespec="seconds"))
        if code != 200 or not body.get("code_url"):
            raise GatewayError(f"native pay: HTTP {code} {body.get('code', '')} {body.get('message', '')}".strip())
        return PaymentRequest(code_url=body["code_url"])

    def verify_notice(self, headers, body: bytes) -> VerifiedNotice:
        """Verify a payment callback (headers as received, raw body bytes). Raises NoticeRejected."""
        wanted = {name: (headers.get(name) or "") for name in HEADERS}
        summary = {"serial": wanted["Wechatpay-Serial"], "timestamp": wanted["Wechatpay-Timestamp"]}
        if wanted["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
            raise NoticeRejected(f"signature type {wanted['Wechatpay-Signature-Type']!r} not supported",
                                 summary=summary)
        if not wanted["Wechatpay-Signature"] or not wanted["Wechatpay-Nonce"]:
            raise NoticeRejected("signature headers missing", summary=summary)
        try:
            sent = int(wanted["Wechatpay-Timestamp"])
        except ValueError:
            raise NoticeRejected("timestamp missing or malformed", summary=summary) from None
        if abs(clock.now().timestamp() - sent) > settings.WUJI_WECHAT_NOTICE_WINDOW_SECONDS:
            raise NoticeRejected("timestamp outside the allowed window (stale or replayed)", summary=summary)
        if self._public_key_mode() and not settings.WUJI_WECHAT_CERT_DIR \
                and wanted["Wechatpay-Serial"] != settings.WUJI_WECHAT_PUBLIC_KEY_ID:
            # Without certificates the SDK would try to download them for an unknown serial: refuse here instead.
            raise NoticeRejected("unknown Wechatpay-Serial", summary=summary)
        client = self.client()
        try:
            result = client.callback(wanted, body)
        except Exception as exc:  # malformed JSON, unsupported algorithm…
            raise NoticeRejected(f"callback cannot be read: {exc}", summary=summary) from None
        if not result:
            raise NoticeRejected("bad signature, or the resource does not decrypt with our APIv3 key",
                                 summary=summary)
        resource = result.get("resource") or {}
        amount = resource.get("amount") or {}
        summary.update(event_type=result.get("event_type", ""), id=result.get("id", ""),
                       out_trade_no=resource.get("out_trade_no", ""), transaction_id=resource.get("transaction_id", ""),
                       trade_state=resource.get("trade_state", ""), total=amount.get("total"),
                       currency=amount.get("currency", ""), mchid=resource.get("mchid", ""),
                       appid=resource.get("appid", ""))
        if result.get("event_type") != "TRANSACTION.SUCCESS":
            return VerifiedNotice(out_trade_no=resource.get("out_trade_no", ""), channel_trade_no="",
                                  amount_fen=None, paid=False, summary=summary)
        if resource.get("mchid") != settings.WUJI_WECHAT_MCHID or resource.get("appid") != settings.WUJI_WECHAT_APPID:
            raise NoticeRejected("mchid or appid is not ours", verified=True, summary=summary)
        total = amount.get("total")
        if not isinstance(total, int) or amount.get("currency", "CNY") != "CNY":
            raise NoticeRejected("amount missing or not CNY", verified=True, summary=summary)
        return VerifiedNotice(out_trade_no=resource.get("out_trade_no", ""),
                              channel_trade_no=resource.get("transaction_id", ""), amount_fen=total,
                              paid=resource.get("trade_state") == "SUCCESS", summary=summary)

    # --- server calls ------------------------------------------------------------------------------------

    def query(self, *, out_trade_no: str) -> PaymentState:
        code, body = self._request("query", self.client().query, out_trade_no=out_trade_no)
        if code == 404 or body.get("code") == "ORDER_NOT_EXIST":
            return PaymentState(paid=False)
        if code != 200:
            raise GatewayError(f"query: HTTP {code} {body.get('code', '')}")
        state = body.get("trade_state", "")
        if state == "SUCCESS":
            total = (body.get("amount") or {}).get("total")
            return PaymentState(paid=True, channel_trade_no=body.get("transaction_id", ""),
                                amount_fen=total if isinstance(total, int) else None)
        return PaymentState(paid=False, closed=state in {"CLOSED", "REVOKED", "PAYERROR"})

    def _refund_result(self, what: str, code: int, body: dict) -> RefundResult:
        if code == 200:
            status = REFUND_STATES.get(body.get("status", ""), RefundStatus.PENDING)
            return RefundResult(status=status, channel_refund_no=body.get("refund_id", ""),
                                message=body.get("status", ""))
        if body.get("code") in RETRYABLE_CODES or code == 429:
            raise GatewayError(f"{what}: HTTP {code} {body.get('code', '')}")
        return RefundResult(status=RefundStatus.FAILED, message=f"{body.get('code', code)}: {body.get('message', '')}")

    def refund(self, *, out_trade_no, channel_trade_no, refund_no, amount_fen, total_fen, reason) -> RefundResult:
        code, body = self._request("refund", self.client().refund, out_refund_no=refund_no, out_trade_no=out_trade_no,
                                   amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
                                   reason=(reason or "")[:80] or None)
        return self._refund_result("refund", code, body)

    def query_refund(self, *, out_trade_no, refund_no) -> RefundResult:
        code, body = self._request("refund query", self.client().query_refund, out_refund_no=refund_no)
        return self._refund_result("refund query", code, body)
