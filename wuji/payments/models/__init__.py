"""Payments models, one module per topic."""

from .channels import BankTransfer, PaymentNotice
from .topups import TopUp

__all__ = ["BankTransfer", "PaymentNotice", "TopUp"]
