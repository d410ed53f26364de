"""Billing models, one module per topic."""

from .freezes import Appeal, Freeze, FreezeFile
from .orders import Order

__all__ = ["Appeal", "Freeze", "FreezeFile", "Order"]
