from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "bizreg.registration"
    label = "registration"
    verbose_name = "商事登记业务"
