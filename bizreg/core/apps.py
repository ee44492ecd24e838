from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bizreg.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        from bizreg.core import jobs, metrics_registry

        metrics_registry.autodiscover()
        jobs.autodiscover()
