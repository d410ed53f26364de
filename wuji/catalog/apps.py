from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "wuji.catalog"
    label = "catalog"
    verbose_name = "Catalogue"
