from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "wuji.status"
    label = "status"
    verbose_name = "公告与服务状态"

    def ready(self):
        from . import notices, tasks  # noqa: F401  (events declared, periodic jobs registered)
