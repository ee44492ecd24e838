"""One DRF router for the whole project; each app registers its viewsets from its `api.py`."""

from importlib import import_module

from django.apps import apps
from rest_framework.routers import DefaultRouter

router = DefaultRouter()


def urls():
    for config in apps.get_app_configs():
        if config.name.startswith("bizreg.") and config.name != "bizreg.core":
            try:
                import_module(f"{config.name}.api")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.api":
                    raise
    return router.urls
