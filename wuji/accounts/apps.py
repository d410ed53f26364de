from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wuji.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import notices, signals, tasks  # noqa: F401 — declare events, connect receivers, register jobs
