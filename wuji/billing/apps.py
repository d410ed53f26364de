from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from wuji.compute.signals import vm_state_written

        from . import payg, payg_notices  # noqa: F401 — declare events

        vm_state_written.connect(payg.on_vm_state_written, dispatch_uid="billing.payg.checkpoint")
