from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "wuji.agreements"
    label = "agreements"
    verbose_name = "用户协议"

    def ready(self) -> None:
        from . import notices, tasks  # noqa: F401  (declare the notice, register the periodic job)
