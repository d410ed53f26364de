"""Payments models, one module per topic."""

from .topups import TopUp
from .withdrawals import BankAccount, Refund, Withdrawal

__all__ = ["BankAccount", "Refund", "TopUp", "Withdrawal"]
