from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "bizreg.portal"
    label = "portal"
    verbose_name = "政务服务门户（公众页面）"
