from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "wuji.ledger"
    label = "ledger"
    verbose_name = "Ledger"
