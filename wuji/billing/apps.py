from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from wuji.compute.signals import vm_state_written

        # Declare the events, connect the receivers, register the periodic jobs.
        from . import freeze_notices, notices, payg, payg_notices, receivers, tasks  # noqa: F401

        vm_state_written.connect(payg.on_vm_state_written, dispatch_uid="billing.payg.checkpoint")
