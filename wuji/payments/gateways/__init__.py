"""Payment gateways by channel. `get(channel)` returns the gateway serving a PaymentChannel value.

Every gateway is registered; whether it is offered is `enabled()`, read from settings at each call (a
channel without credentials is not offered, and tests can switch channels on and off). `available()`
lists the enabled ones in display order.
"""

from .alipay import AlipayGateway
from .bank import BankTransferGateway
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
from .sandbox import SandboxGateway
from .wechat import WeChatGateway

_GATEWAYS: dict[str, Gateway] = {}


def register(gateway: Gateway) -> Gateway:
    _GATEWAYS[gateway.channel] = gateway
    return gateway


def get(channel: str) -> Gateway:
    try:
        return _GATEWAYS[channel]
    except KeyError:
        raise GatewayError(f"no gateway for channel {channel!r}") from None


def available() -> list[Gateway]:
    """The channels offered now: each registered gateway whose credentials are configured."""
    return [gateway for gateway in _GATEWAYS.values() if gateway.enabled()]


register(AlipayGateway())
register(WeChatGateway())
register(BankTransferGateway())
register(SandboxGateway())

__all__ = ["Gateway", "GatewayError", "NoticeRejected", "PaymentRequest", "PaymentState", "RefundResult",
           "RefundStatus", "VerifiedNotice", "available", "get", "register"]
