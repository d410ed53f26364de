from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "wuji.compliance"
    label = "compliance"
    verbose_name = "合规"

    def ready(self):
        from . import dns_check, notices  # noqa: F401 — register the periodic DNS check, declare the notices
