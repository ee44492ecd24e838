"""Local calendar days as timestamp ranges.

A filter "from day A to day B" on a timestamp is written as a half-open range of aware datetimes
(local midnight of A ≤ t < local midnight after B) rather than `field__date__gte`: the `__date` lookup
wraps every row's column in a time-zone conversion (on SQLite a Python function per row), so no index
serves it; the range reads the column's index. Both select the same rows.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, aware (the current time zone: the bureau's)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def on_local_days(field: str, date_from: dt.date | None = None, date_to: dt.date | None = None) -> Q:
    """Rows whose timestamp `field` falls on a local day from `date_from` to `date_to`, both included;
    a missing bound is open."""
    condition = Q()
    if date_from:
        condition &= Q(**{f"{field}__gte": day_start(date_from)})
    if date_to:
        condition &= Q(**{f"{field}__lt": day_start(date_to + dt.timedelta(days=1))})
    return condition
