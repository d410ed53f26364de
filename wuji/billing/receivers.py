"""Billing listens to compute without compute importing billing (see decision 0015)."""

from django.dispatch import receiver

from wuji.compute.signals import provisioning_failed


@receiver(provisioning_failed, dispatch_uid="billing.refund_failed_provisioning")
def refund_on_provisioning_failure(sender, server_id: int, **kwargs) -> None:
    """Enqueue the refund in the transaction that recorded the failure (it commits, or neither happens)."""
    from . import tasks

    tasks.refund_failed_provisioning.enqueue(server_id=server_id)
