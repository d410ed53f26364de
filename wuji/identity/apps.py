from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "wuji.identity"
    label = "identity"
    verbose_name = "实名认证"

    def ready(self) -> None:
        from . import notices, tasks  # noqa: F401  (declare the notices, register the periodic job)
