from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "wuji.audit"
    label = "audit"
    verbose_name = "Audit"
