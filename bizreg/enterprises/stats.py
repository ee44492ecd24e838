"""Aggregate figures of the register for the home page and dashboards, scoped by the viewer's authorities.

Only aggregates leave this module (counts per year or per type), never rows, so it carries no
personal data.
"""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import ExtractYear

from bizreg.core.scoping import scope_to_user
from bizreg.enterprises.models import Enterprise, EntityType


def established_per_year(*, user, last_years: int = 20) -> list[dict]:
    """[{year, count}] of enterprises established each year, the last `last_years` years with data.

    Years without any establishment inside the span are listed with 0 so the chart's axis is honest.
    """
    rows = (
        scope_to_user(Enterprise.objects.all(), user)
        .annotate(year=ExtractYear("established_on"))
        .values("year")
        .annotate(count=Count("id"))
        .order_by("year")
    )
    counts = {row["year"]: row["count"] for row in rows}
    if not counts:
        return []
    last = max(counts)
    first = max(min(counts), last - last_years + 1)
    return [{"year": year, "count": counts.get(year, 0)} for year in range(first, last + 1)]


def count_by_entity_type(*, user) -> list[dict]:
    """[{code, label, count}] per entity type, largest first; types with no enterprise are left out."""
    rows = (
        scope_to_user(Enterprise.objects.all(), user)
        .values("entity_type")
        .annotate(count=Count("id"))
        .order_by("-count", "entity_type")
    )
    labels = dict(EntityType.choices)
    return [
        {
            "code": row["entity_type"],
            "label": labels.get(row["entity_type"], row["entity_type"]),
            "count": row["count"],
        }
        for row in rows
    ]
