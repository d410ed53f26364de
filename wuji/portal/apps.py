from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "wuji.portal"
    label = "portal"
    verbose_name = "Portal"
