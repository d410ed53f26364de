"""Payments models, one module per topic."""

from .topups import TopUp

__all__ = ["TopUp"]
