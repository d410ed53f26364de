from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "wuji.network"
    label = "network"
    verbose_name = "Network"

    def ready(self):
        from . import notices, receivers  # noqa: F401 — declare the notices, connect to compute's signals
