from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Declare the events, connect the receivers, register the periodic jobs.
        from . import freeze_notices, notices, receivers, tasks  # noqa: F401
