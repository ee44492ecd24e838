from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "bizreg.performance"
    label = "performance"
    verbose_name = "预算与绩效"
