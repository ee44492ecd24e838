from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "bizreg.tracking"
    label = "tracking"
    verbose_name = "企业跟踪服务"
