"""Billing models, one module per topic."""

from .freezes import Appeal, Freeze, FreezeFile
from .orders import Order
from .payg import LowBalanceWarning, Meter
from .snapshots import SnapshotMeter
from .subscriptions import Subscription, SubscriptionCharge, SubscriptionNotice

__all__ = ["Appeal", "Freeze", "FreezeFile", "LowBalanceWarning", "Meter", "Order", "SnapshotMeter", "Subscription",
           "SubscriptionCharge", "SubscriptionNotice"]
