"""Billing's background work: the prepaid lifecycle job, refunds of failed provisioning and the freeze appeal
deadline job (5.4.7)."""

import datetime as dt

from django_tasks import task

from wuji.core.scheduler import periodic

from . import freezes, renewals


@periodic("billing.subscription_lifecycle", every=dt.timedelta(minutes=15))
@task()
def subscription_lifecycle() -> dict:
    """Auto-renewals, expiry reminders, suspension at expiry, release notices and releases (4.5.2.1).
    Idempotent: every step re-reads state and each notice has a unique row per period."""
    return renewals.run_lifecycle()


@task()
def after_balance_credited(customer_id: int) -> dict:
    """Money arrived for a customer with something waiting for it: collect unpaid pay-as-you-go usage (and lift
    arrears suspensions), then renew what is due."""
    from django.contrib.auth import get_user_model

    from . import payg

    customer = get_user_model().objects.filter(pk=customer_id).first()
    if customer is None:
        return {}
    collected = payg.after_balance_credited(customer)
    return {"payg_collected_fen": collected, **renewals.after_balance_credited(customer)}


@task()
def refund_failed_provisioning(server_id: int) -> str:
    return "refunded" if renewals.refund_failed_provisioning(server_id) else "nothing to do"


@periodic("billing.apply_freeze_outcomes", every=dt.timedelta(minutes=15))
@task()
def apply_freeze_outcomes() -> int:
    """Freezes whose appeal deadline passed without an appeal: long-term freeze or refund to the source."""
    return freezes.apply_due_outcomes()
from . import payg_tasks  # noqa: E402,F401  (registers the pay-as-you-go settlement and arrears jobs)
