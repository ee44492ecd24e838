"""Registry of the figures each app publishes for the performance module, by key.

An app declares its figures in its own `metrics.py` with `@register_metric("app.key", ...)`; the
performance module knows only the keys. A metric is a function `(authority_ids, start, end) -> Decimal`
over the half-open period [start, end).

A metric may also declare `records_url`, a `period_list_url(...)`: its module's own list page filtered to
the records behind the figure (the drill-down from every figure to its records), with the permission that
list asks for — a viewer without it is not offered the link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import import_module

from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

MetricFunction = Callable[[Sequence[int], dt.date, dt.date], Decimal]


@dataclass(frozen=True)
class PeriodListUrl:
    """A drill-down: the module's list page filtered to the records behind a figure, and the permission
    that page asks for. List pages filter by inclusive dates, so the metric period [start, end) becomes
    from=start, to=end − 1 day."""

    url_name: str
    permission: str
    from_param: str = "date_from"
    to_param: str = "date_to"
    extra: tuple[tuple[str, str], ...] = ()

    def __call__(self, authority_ids: Sequence[int], start: dt.date, end: dt.date) -> str:
        last = max(start, end - dt.timedelta(days=1))
        query = {self.from_param: start.isoformat(), self.to_param: last.isoformat(), **dict(self.extra)}
        return f"{reverse(self.url_name)}?{urlencode(query)}"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    definition: str
    compute: MetricFunction
    records_url: PeriodListUrl | None = None

    def drill_down_url(self, authority_ids: Sequence[int], start: dt.date, end: dt.date) -> str:
        """The records behind the figure over [start, end), or "" when the module declares no list."""
        if self.records_url is None:
            return ""
        return self.records_url(authority_ids, start, end)

    def offers_records_to(self, viewer) -> bool:
        """Whether `viewer` may open the list behind the figure (the finance officer may not open the
        registration cases or the calls: the figure is then shown without its link, not as a link to a
        403)."""
        return self.records_url is not None and viewer.has_perm(self.records_url.permission)


_REGISTRY: dict[str, Metric] = {}


def register_metric(
    key: str,
    *,
    label: str,
    unit: str,
    definition: str,
    records_url: PeriodListUrl | None = None,
) -> Callable[[MetricFunction], MetricFunction]:
    def decorator(func: MetricFunction) -> MetricFunction:
        if key in _REGISTRY and _REGISTRY[key].compute is not func:
            raise ValueError(f"指标键 {key} 重复注册")
        _REGISTRY[key] = Metric(
            key=key, label=label, unit=unit, definition=definition, compute=func, records_url=records_url
        )
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


# --- sharing work between the metrics of one evaluation --------------------------------------------------
# Several figures of one evaluation often rest on the same intermediate result (the decided cases of a
# year feed the mean, the P90, the on-time rate and the year-on-year change). Inside a
# `shared_computation()` block a metric module may keep such a result by key; outside it nothing is kept,
# so a figure computed on its own always reads fresh data.

_SHARED: ContextVar[dict | None] = ContextVar("metrics_shared_computation", default=None)


@contextmanager
def shared_computation():
    if _SHARED.get() is not None:  # nested: the outer block already shares
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def memoized(key: tuple, compute: Callable[[], object]):
    cache = _SHARED.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


# --- helpers every app's metrics.py uses ------------------------------------------------------------------

TWO_PLACES = Decimal("0.01")


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The half-open period [start, end) as local-midnight datetimes."""
    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end, dt.time.min, tzinfo=tz),
    )


def percent(part: int, whole: int) -> Decimal:
    """part ÷ whole × 100, two places, half up; 0 when there is nothing to divide by."""
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def period_list_url(
    url_name: str, from_param: str = "date_from", to_param: str = "date_to", *, permission: str, **extra: str
) -> PeriodListUrl:
    """The drill-down to `url_name`'s list over a metric's period; `permission` is the one that list's view
    requires."""
    return PeriodListUrl(url_name, permission, from_param, to_param, tuple(extra.items()))
