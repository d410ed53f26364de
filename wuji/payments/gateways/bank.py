"""Bank transfer (对公转账) as a channel: the customer pays by their bank, finance confirms what arrived.

Nothing to call: no query, and refunds of bank money are paid out by finance by hand (supports_refund=False)."""

from django.conf import settings

from ..choices import PaymentChannel
from .base import Gateway, GatewayError, PaymentState, RefundResult


class BankTransferGateway(Gateway):
    channel = PaymentChannel.BANK
    supports_refund = False

    def enabled(self) -> bool:
        return bool(settings.WUJI_BANK_ACCOUNT_NUMBER)

    def query(self, *, out_trade_no: str) -> PaymentState:
        return PaymentState(paid=False)

    def refund(self, *, out_trade_no, channel_trade_no, refund_no, amount_fen, total_fen, reason) -> RefundResult:
        raise GatewayError("bank transfers are refunded by finance staff by bank transfer, not through a gateway")

    def query_refund(self, *, out_trade_no, refund_no) -> RefundResult:
        raise GatewayError("bank transfers are refunded by finance staff by bank transfer, not through a gateway")
