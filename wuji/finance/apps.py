from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "wuji.finance"
    label = "finance"
    verbose_name = "发票与合同"

    def ready(self) -> None:
        from . import notices  # noqa: F401  (declare the notices)
