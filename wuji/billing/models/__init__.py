"""Billing models, one module per topic."""

from .orders import Order

__all__ = ["Order"]
