"""Alipay (支付宝) on python-alipay-sdk, RSA2: page pay, notice verification, query, refund, refund query.

The SDK signs our requests with the app private key and verifies Alipay's notices and responses with the
*Alipay* public key. Amounts cross this boundary as 元 strings with two decimals and are converted to fen
here. Only `create_payment` (local signing) and `verify_notice` run in a web request; query and refund
calls go out over HTTP and are made from tasks.
"""

import json
import logging
from urllib.error import URLError

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from django.conf import settings

from wuji.core import clock, money

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

SUBJECT = "武极云账户充值"
PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
# Answers that mean "try again later" rather than "refused for good".
RETRYABLE_SUB_CODES = {"ACQ.SYSTEM_ERROR", "ACQ.SELLER_BALANCE_NOT_ENOUGH", "aop.ACQ.SYSTEM_ERROR"}
SUMMARY_FIELDS = ("app_id", "out_trade_no", "trade_no", "trade_status", "total_amount", "seller_id", "notify_id",
                  "notify_time", "gmt_payment", "refund_fee", "out_biz_no")


def _yuan(fen: int) -> str:
    return f"{money.fen_to_yuan(fen):.2f}"


def _fen(value) -> int | None:
    try:
        return money.yuan_to_fen(str(value))
    except (money.MoneyError, ValueError, TypeError):
        return None


class AlipayGateway(Gateway):
    channel = PaymentChannel.ALIPAY

    def enabled(self) -> bool:
        return bool(settings.WUJI_ALIPAY_APP_ID and settings.WUJI_ALIPAY_PRIVATE_KEY
                    and settings.WUJI_ALIPAY_PUBLIC_KEY)

    def client(self) -> AliPay:
        if not self.enabled():
            raise GatewayError("Alipay is not configured")
        try:
            client = AliPay(appid=settings.WUJI_ALIPAY_APP_ID, app_notify_url=settings.WUJI_ALIPAY_NOTIFY_URL or None,
                            app_private_key_string=pem(settings.WUJI_ALIPAY_PRIVATE_KEY),
                            alipay_public_key_string=pem(settings.WUJI_ALIPAY_PUBLIC_KEY),
                            sign_type="RSA2", config=AliPayConfig(timeout=15))
        except (ValueError, IndexError, TypeError) as exc:
            raise GatewayError(f"Alipay keys cannot be loaded: {exc}") from None
        client._gateway = settings.WUJI_ALIPAY_GATEWAY  # the SDK has no public setter; default is production
        return client

    def _timestamp(self) -> str:
        return clock.local_now().strftime("%Y-%m-%d %H:%M:%S")  # Alipay wants Beijing time

    # --- paying ------------------------------------------------------------------------------------------

    def create_payment(self, topup) -> PaymentRequest:
        client = self.client()
        biz = {"out_trade_no": topup.out_trade_no, "total_amount": _yuan(topup.amount_fen), "subject": SUBJECT,
               "product_code": "FAST_INSTANT_TRADE_PAY"}
        if topup.expires_at:
            biz["time_expire"] = topup.expires_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        query = client.client_api("alipay.trade.page.pay", biz_content=biz, timestamp=self._timestamp(),
                                  return_url=settings.WUJI_ALIPAY_RETURN_URL or None,
                                  notify_url=settings.WUJI_ALIPAY_NOTIFY_URL or None)
        return PaymentRequest(pay_url=f"{settings.WUJI_ALIPAY_GATEWAY}?{query}")

    def verify_notice(self, params: dict[str, str]) -> VerifiedNotice:
        """Verify an asynchronous notice (the POSTed form) and say what it means. Raises NoticeRejected."""
        data = dict(params)
        summary = {key: data[key] for key in SUMMARY_FIELDS if key in data}
        signature = data.pop("sign", "")
        if not signature:
            raise NoticeRejected("no signature", summary=summary)
        if data.get("sign_type", "RSA2") != "RSA2":
            raise NoticeRejected(f"sign_type {data.get('sign_type')!r} is not RSA2", summary=summary)
        try:
            good = self.client().verify(data, signature)  # over every parameter but sign and sign_type, sorted
        except (AliPayException, ValueError, TypeError) as exc:
            raise NoticeRejected(f"signature cannot be checked: {exc}", summary=summary) from None
        if not good:
            raise NoticeRejected("bad signature", summary=summary)
        if data.get("app_id") != settings.WUJI_ALIPAY_APP_ID:
            raise NoticeRejected(f"app_id {data.get('app_id')!r} is not ours", verified=True, summary=summary)
        if settings.WUJI_ALIPAY_SELLER_ID and data.get("seller_id") != settings.WUJI_ALIPAY_SELLER_ID:
            raise NoticeRejected(f"seller_id {data.get('seller_id')!r} is not ours", verified=True, summary=summary)
        amount = _fen(data.get("total_amount"))
        if amount is None:
            raise NoticeRejected("total_amount missing or malformed", verified=True, summary=summary)
        is_refund = any(data.get(key) for key in ("refund_fee", "gmt_refund", "out_biz_no"))
        return VerifiedNotice(out_trade_no=data.get("out_trade_no", ""), channel_trade_no=data.get("trade_no", ""),
                              amount_fen=amount, paid=data.get("trade_status") in PAID_STATES and not is_refund,
                              summary=summary)

    # --- server calls ------------------------------------------------------------------------------------

    def _call(self, method: str, biz: dict) -> dict:
        client = self.client()
        data = client.build_body(method, biz, timestamp=self._timestamp())
        try:
            return client.verified_sync_response(data, method.replace(".", "_") + "_response")
        except AliPayValidationError:
            raise GatewayError(f"{method}: the response signature does not verify") from None
        except AliPayException as exc:
            raise GatewayError(f"{method}: {exc}") from None
        except (URLError, OSError, json.JSONDecodeError) as exc:
            raise GatewayError(f"{method}: {exc}") from None

    def query(self, *, out_trade_no: str) -> PaymentState:
        answer = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        if answer.get("code") != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":  # the payer never opened the cashier
                return PaymentState(paid=False)
            raise GatewayError(f"alipay.trade.query: {answer.get('sub_code') or answer.get('code')}")
        status = answer.get("trade_status", "")
        if status in PAID_STATES:
            return PaymentState(paid=True, channel_trade_no=answer.get("trade_no", ""),
                                amount_fen=_fen(answer.get("total_amount")))
        return PaymentState(paid=False, channel_trade_no=answer.get("trade_no", ""), closed=status == "TRADE_CLOSED")

    def refund(self, *, out_trade_no, channel_trade_no, refund_no, amount_fen, total_fen, reason) -> RefundResult:
        answer = self._call("alipay.trade.refund", {
            "out_trade_no": out_trade_no, "refund_amount": _yuan(amount_fen), "out_request_no": refund_no,
            "refund_reason": (reason or "")[:200],
        })
        if answer.get("code") == "10000":
            # fund_change "N" is Alipay's answer to a repeated request: query to be sure of the result.
            status = RefundStatus.SUCCEEDED if answer.get("fund_change") == "Y" else RefundStatus.PENDING
            return RefundResult(status=status, channel_refund_no=answer.get("trade_no", ""))
        sub_code = answer.get("sub_code", "")
        if answer.get("code") in {"20000", "20001"} or sub_code in RETRYABLE_SUB_CODES:
            raise GatewayError(f"alipay.trade.refund: {sub_code or answer.get('code')}")
        return RefundResult(status=RefundStatus.FAILED, message=f"{sub_code}: {answer.get('sub_msg', '')}")

    def query_refund(self, *, out_trade_no, refund_no) -> RefundResult:
        answer = self._call("alipay.trade.fastpay.refund.query", {"out_trade_no": out_trade_no,
                                                                 "out_request_no": refund_no})
        if answer.get("code") != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return RefundResult(status=RefundStatus.FAILED, message="ACQ.TRADE_NOT_EXIST")
            raise GatewayError(f"alipay.trade.fastpay.refund.query: {answer.get('sub_code') or answer.get('code')}")
        # Alipay: data returned with refund_status empty or REFUND_SUCCESS means refunded; no data, not refunded.
        if answer.get("refund_amount") and answer.get("refund_status", "REFUND_SUCCESS") == "REFUND_SUCCESS":
            return RefundResult(status=RefundStatus.SUCCEEDED, channel_refund_no=answer.get("trade_no", ""))
        return RefundResult(status=RefundStatus.FAILED, message="no refund with this out_request_no")
