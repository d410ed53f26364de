from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "wuji.support"
    label = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from . import notices, tasks  # noqa: F401  (declare the notices, register the auto-close job)
