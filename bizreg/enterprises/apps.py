from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "bizreg.enterprises"
    label = "enterprises"
    verbose_name = "商事主体登记簿"
