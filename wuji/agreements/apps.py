from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "wuji.agreements"
    label = "agreements"
    verbose_name = "Agreements"
