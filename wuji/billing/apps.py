from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuji.billing"
    label = "billing"
    verbose_name = "Billing"
