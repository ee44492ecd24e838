from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bizreg.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        from bizreg.core import exports, jobs, metrics_registry  # noqa: F401 — exports registers its runner

        metrics_registry.autodiscover()
        jobs.autodiscover()
