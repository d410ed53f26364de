from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "wuji.payments"
    label = "payments"
    verbose_name = "Payments"
