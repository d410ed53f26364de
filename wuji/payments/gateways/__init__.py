"""Payment gateways by channel. `get(channel)` returns the gateway serving a PaymentChannel value."""

from .base import Gateway, GatewayError, NoticeRejected, PaymentState, RefundResult, RefundStatus
from .sandbox import SandboxGateway

_GATEWAYS: dict[str, Gateway] = {}


def register(gateway: Gateway) -> Gateway:
    _GATEWAYS[gateway.channel] = gateway
    return gateway


def get(channel: str) -> Gateway:
    try:
        return _GATEWAYS[channel]
    except KeyError:
        raise GatewayError(f"no gateway for channel {channel!r}") from None


register(SandboxGateway())

__all__ = ["Gateway", "GatewayError", "NoticeRejected", "PaymentState", "RefundResult", "RefundStatus",
           "get", "register"]
