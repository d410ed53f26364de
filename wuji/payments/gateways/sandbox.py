"""The sandbox channel as a gateway: it moves no real money, so queries and refunds succeed at once."""

from .. import sandbox
from ..choices import PaymentChannel
from .base import Gateway, PaymentRequest, PaymentState, RefundResult, RefundStatus


class SandboxGateway(Gateway):
    channel = PaymentChannel.SANDBOX

    def enabled(self) -> bool:
        return sandbox.enabled()

    def query(self, *, out_trade_no: str) -> PaymentState:
        # The sandbox only pays when the payer clicks "pay", which sends the notice itself.
        return PaymentState(paid=False)

    def refund(self, *, out_trade_no, channel_trade_no, refund_no, amount_fen, total_fen, reason) -> RefundResult:
        return RefundResult(status=RefundStatus.SUCCEEDED, channel_refund_no=f"SBXR-{refund_no}")

    def query_refund(self, *, out_trade_no, refund_no) -> RefundResult:
        return RefundResult(status=RefundStatus.SUCCEEDED, channel_refund_no=f"SBXR-{refund_no}")

    def create_payment(self, topup) -> PaymentRequest:
        from django.urls import reverse

        return PaymentRequest(pay_url=reverse("portal:sandbox_pay", args=[topup.out_trade_no]))
