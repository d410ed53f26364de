from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "wuji.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the platform's periodic jobs)
        from .roles import sync_after_migrate

        # A fresh install, and every deploy's `migrate`, leaves the staff groups exactly as wuji/core/roles.py
        # defines them (decision 0047).
        post_migrate.connect(sync_after_migrate, dispatch_uid="wuji.core.roles.sync_after_migrate")
