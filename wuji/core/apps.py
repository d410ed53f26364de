from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wuji.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the platform's periodic jobs)
