from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "wuji.compliance"
    label = "compliance"
    verbose_name = "合规"
