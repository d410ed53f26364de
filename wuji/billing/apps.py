from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from wuji.compute.signals import snapshot_requested, snapshot_written, vm_state_written

        # Declare the events, connect the receivers, register the periodic jobs.
        from . import freeze_notices, notices, payg, payg_notices, receivers, snapshots, tasks  # noqa: F401

        vm_state_written.connect(payg.on_vm_state_written, dispatch_uid="billing.payg.checkpoint")
        snapshot_requested.connect(snapshots.check_snapshot_allowed, dispatch_uid="billing.snapshots.check")
        snapshot_written.connect(snapshots.follow_snapshot, dispatch_uid="billing.snapshots.meter")
