from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "wuji.notifications"
    label = "notifications"
    verbose_name = "Notifications"
