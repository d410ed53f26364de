"""Billing listens to compute without compute importing billing (see decision 0015)."""

from django.dispatch import receiver

from wuji.compute.signals import provisioning_failed
from wuji.ledger.signals import spendable_credited


@receiver(provisioning_failed, dispatch_uid="billing.refund_failed_provisioning")
def refund_on_provisioning_failure(sender, server_id: int, **kwargs) -> None:
    """Enqueue the refund in the transaction that recorded the failure (it commits, or neither happens)."""
    from . import tasks

    tasks.refund_failed_provisioning.enqueue(server_id=server_id)


@receiver(spendable_credited, dispatch_uid="billing.after_balance_credited")
def follow_up_credit(sender, customer_id: int, **kwargs) -> None:
    """Money arrived: if the customer has anything waiting for it (a due auto-renewal, an expired server to
    renew, unpaid pay-as-you-go usage, a server suspended for arrears), enqueue the follow-up in the crediting
    transaction. Nothing waiting, no task."""
    from . import payg, renewals, tasks

    if renewals.waiting_for_money(customer_id) or payg.waiting_for_money(customer_id):
        tasks.after_balance_credited.enqueue(customer_id=customer_id)
