"""Billing models, one module per topic."""

from .freezes import Appeal, Freeze, FreezeFile
from .orders import Order
from .subscriptions import Subscription, SubscriptionCharge, SubscriptionNotice

__all__ = ["Appeal", "Freeze", "FreezeFile", "Order", "Subscription", "SubscriptionCharge", "SubscriptionNotice"]
