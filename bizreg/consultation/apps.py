from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "bizreg.consultation"
    label = "consultation"
    verbose_name = "咨询服务"
