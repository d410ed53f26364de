"""The contract every payment channel meets (Alipay, WeChat Pay, bank transfer, the sandbox).

Gateways are called from tasks and from notice views, never inside a business transaction: a channel
call is a side effect (ARCHITECTURE §3.4). They translate the channel's own vocabulary into these
small frozen results and never touch the ledger; `payments.services` decides what the result means.
"""

import dataclasses


class GatewayError(Exception):
    """The channel could not be reached or answered with an error; safe to retry later."""


class NoticeRejected(Exception):
    """A payment notice that must not be trusted (bad signature, stale timestamp, malformed body)."""


class RefundStatus:
    SUCCEEDED = "succeeded"  # the channel has paid the money back
    PENDING = "pending"  # accepted, not yet final: query again later
    FAILED = "failed"  # refused for good (window closed, account closed…): reverse our side


@dataclasses.dataclass(frozen=True)
class RefundResult:
    status: str
    channel_refund_no: str = ""
    message: str = ""


@dataclasses.dataclass(frozen=True)
class PaymentState:
    """What the channel says of one of our top-up orders (query / reconciliation)."""

    paid: bool
    channel_trade_no: str = ""
    amount_fen: int | None = None
    closed: bool = False  # the channel will never accept payment for it


class Gateway:
    """One payment channel. `channel` is the PaymentChannel value it serves."""

    channel: str = ""
    supports_refund: bool = True

    def enabled(self) -> bool:
        raise NotImplementedError

    def query(self, *, out_trade_no: str) -> PaymentState:
        raise NotImplementedError

    def refund(self, *, out_trade_no: str, channel_trade_no: str, refund_no: str, amount_fen: int,
               total_fen: int, reason: str) -> RefundResult:
        """Ask the channel to pay `amount_fen` of the payment `out_trade_no` (of `total_fen`) back to the
        payer. `refund_no` is our unique refund number: the channel deduplicates on it, so a retry after
        a timeout never refunds twice."""
        raise NotImplementedError

    def query_refund(self, *, out_trade_no: str, refund_no: str) -> RefundResult:
        raise NotImplementedError
