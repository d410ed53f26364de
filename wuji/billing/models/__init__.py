"""Billing models, one module per topic."""

from .orders import Order
from .subscriptions import Subscription, SubscriptionCharge, SubscriptionNotice

__all__ = ["Order", "Subscription", "SubscriptionCharge", "SubscriptionNotice"]
