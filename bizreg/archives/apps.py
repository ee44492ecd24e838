from django.apps import AppConfig


class ArchivesConfig(AppConfig):
    name = "bizreg.archives"
    label = "archives"
    verbose_name = "档案管理"
