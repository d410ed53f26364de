"""The contract every payment channel meets (Alipay, WeChat Pay, bank transfer, the sandbox).

Gateways are called from tasks and from notice views, never inside a business transaction: a channel
call is a side effect (ARCHITECTURE §3.4). They translate the channel's own vocabulary into these
small frozen results and never touch the ledger; `payments.services` decides what the result means.
"""

import dataclasses


class GatewayError(Exception):
    """The channel could not be reached or answered with an error; safe to retry later."""


class NoticeRejected(Exception):
    """A payment notice that must not be trusted (bad signature, stale timestamp, malformed body).

    `verified` is True when the signature held but the content is not ours (another app id or merchant)."""

    def __init__(self, message: str, *, verified: bool = False, summary: dict | None = None):
        super().__init__(message)
        self.verified = verified
        self.summary = summary or {}


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


@dataclasses.dataclass(frozen=True)
class PaymentRequest:
    """How the payer pays one top-up: a page to send them to (Alipay page pay) or a code to scan (WeChat Native)."""

    pay_url: str = ""
    code_url: str = ""


@dataclasses.dataclass(frozen=True)
class VerifiedNotice:
    """What a notice whose signature held says. `paid` is False for notices that are not a payment success
    (a refund notice, a trade still waiting for the payer): those are acknowledged and credit nothing."""

    out_trade_no: str
    channel_trade_no: str
    amount_fen: int | None
    paid: bool
    summary: dict = dataclasses.field(default_factory=dict)


class Gateway:
    """One payment channel. `channel` is the PaymentChannel value it serves."""

    channel: str = ""
    supports_refund: bool = True

    def enabled(self) -> bool:
        raise NotImplementedError

    def create_payment(self, topup) -> PaymentRequest:
        """What the payer needs to pay `topup` (a payments.TopUp). May call the channel: run it after commit."""
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
