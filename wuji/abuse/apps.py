from django.apps import AppConfig


class AbuseConfig(AppConfig):
    name = "wuji.abuse"
    label = "abuse"
    verbose_name = "Abuse"

    def ready(self) -> None:
        from . import notices, tasks  # noqa: F401  (declare the events, register the metrics scan)
