"""Payments models, one module per topic."""

from .channels import BankTransfer, PaymentNotice
from .topups import TopUp
from .withdrawals import BankAccount, Refund, Withdrawal

__all__ = ["BankAccount", "BankTransfer", "PaymentNotice", "Refund", "TopUp", "Withdrawal"]
