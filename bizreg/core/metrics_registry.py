"""Registry of the figures each app publishes for the performance module, by key.

An app declares its figures in its own `metrics.py` with `@register_metric("app.key", ...)`; the
performance module knows only the keys. A metric is a function `(authority_ids, start, end) -> Decimal`
over the half-open period [start, end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module

from django.apps import apps

MetricFunction = Callable[[Sequence[int], dt.date, dt.date], Decimal]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    definition: str
    compute: MetricFunction


_REGISTRY: dict[str, Metric] = {}


def register_metric(
    key: str, *, label: str, unit: str, definition: str
) -> Callable[[MetricFunction], MetricFunction]:
    def decorator(func: MetricFunction) -> MetricFunction:
        if key in _REGISTRY and _REGISTRY[key].compute is not func:
            raise ValueError(f"指标键 {key} 重复注册")
        _REGISTRY[key] = Metric(key=key, label=label, unit=unit, definition=definition, compute=func)
        return func

    return decorator


def get_metric(key: str) -> Metric:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"指标键 {key} 不存在") from None


def all_metrics() -> list[Metric]:
    return sorted(_REGISTRY.values(), key=lambda m: m.key)


def autodiscover() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("bizreg."):
            try:
                import_module(f"{config.name}.metrics")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.metrics":
                    raise
