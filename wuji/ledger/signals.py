"""Signals the ledger sends so that other apps can react to money arriving without the ledger knowing them."""

from django.dispatch import Signal

# Sent inside the posting transaction when a transaction credits a customer's spendable balance (cash or
# gift): a top-up, a gift, an unfreeze, a refund, a rejected withdrawal. Arguments: customer_id, txn.
# Receivers that do more than a quick check should enqueue a task (it commits with the credit, or not at all).
spendable_credited = Signal()
