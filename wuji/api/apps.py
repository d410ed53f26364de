from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "wuji.api"
    label = "api"
    verbose_name = "API"
