from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from . import notices, receivers, tasks  # noqa: F401 — declare events, connect receivers, register jobs
