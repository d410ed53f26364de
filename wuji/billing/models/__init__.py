"""Billing models, one module per topic."""

from .orders import Order
from .payg import LowBalanceWarning, Meter

__all__ = ["LowBalanceWarning", "Meter", "Order"]
