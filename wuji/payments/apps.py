from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "wuji.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from . import notices, tasks  # noqa: F401  (declare the notices, register the periodic job)
