from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "wuji.compute"
    label = "compute"
    verbose_name = "Compute"
