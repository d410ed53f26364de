from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self):
        from . import notices, tasks  # noqa: F401  (declare the notices, register the periodic jobs)
