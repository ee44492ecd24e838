"""Reads of the migrations (迁入/迁出), scoped by the user's authorities.

`migration_analysis` is the analysis page (and the `migration_analytics` benchmark): for a period and the
filters, the totals and the breakdowns by month, industry, entity type, capital band, counterpart region
and reason, from three GROUP BY queries on the one Migration table. Nothing joins the register: Migration
keeps the enterprise's facts of the moment it moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Count, Q, QuerySet, Sum

from bizreg.core.scoping import scope_to_user
from bizreg.enterprises.models import EntityType, IndustrySection
from bizreg.tracking.models import Migration, MigrationDirection, MoveOutReason

VIEW = "tracking.view_migration"
IN, OUT = MigrationDirection.IN.value, MigrationDirection.OUT.value

# Registered capital bands in 万元: (key, label, lower bound inclusive, upper bound exclusive).
CAPITAL_BANDS: tuple[tuple[str, str, Decimal | None, Decimal | None], ...] = (
    ("lt100", "100万元以下", None, Decimal(100)),
    ("100_500", "100–500万元", Decimal(100), Decimal(500)),
    ("500_1000", "500–1000万元", Decimal(500), Decimal(1000)),
    ("1000_5000", "1000–5000万元", Decimal(1000), Decimal(5000)),
    ("ge5000", "5000万元及以上", Decimal(5000), None),
)
UNKNOWN_LABEL = "未知"
# The facts the analysis groups by, besides the month: one GROUP BY over all of them (a few thousand groups
# at most: 2 directions × 20 industries × 8 types × a handful of regions × 9 reasons) feeds every breakdown.
FACT_COLUMNS = ("direction", "industry", "entity_type", "counterpart_region", "reason")


@dataclass(frozen=True)
class MigrationFilters:
    """A period (both ends inclusive; None = open) and the analysis filters ("" = all)."""

    start: dt.date | None = None
    end: dt.date | None = None
    direction: str = ""
    industry: str = ""
    entity_type: str = ""
    region: str = ""
    reason: str = ""
    q: str = ""


@dataclass
class Breakdown:
    key: str
    label: str
    moved_in: int = 0
    moved_out: int = 0

    @property
    def net(self) -> int:
        return self.moved_in - self.moved_out

    @property
    def total(self) -> int:
        return self.moved_in + self.moved_out


@dataclass
class Totals:
    moved_in: int = 0
    moved_out: int = 0
    capital_in: Decimal = Decimal(0)  # 万元
    capital_out: Decimal = Decimal(0)

    @property
    def net(self) -> int:
        return self.moved_in - self.moved_out

    @property
    def total(self) -> int:
        return self.moved_in + self.moved_out


@dataclass
class MigrationAnalysis:
    filters: MigrationFilters
    totals: Totals
    months: list[Breakdown]
    industries: list[Breakdown]
    entity_types: list[Breakdown]
    capital_bands: list[Breakdown]
    regions: list[Breakdown]
    reasons: list[Breakdown] = field(default_factory=list)  # moves out only: moved_in is always 0

    def chart_data(self) -> dict[str, Any]:
        """What the page's ECharts draw (json_script)."""

        def series(rows: list[Breakdown]) -> dict[str, list]:
            return {
                "labels": [r.label for r in rows],
                "in": [r.moved_in for r in rows],
                "out": [r.moved_out for r in rows],
                "net": [r.net for r in rows],
            }

        return {
            "months": series(self.months),
            "industries": series(self.industries),
            "regions": series(self.regions),
            "reasons": [{"name": r.label, "value": r.moved_out} for r in self.reasons if r.moved_out],
            "labels": {"in": "迁入", "out": "迁出", "net": "净迁入"},
        }


# --- scoping -------------------------------------------------------------------------------------------


def migrations_visible_to(user) -> QuerySet[Migration]:
    """The migrations of the user's authorities; none without tracking.view_migration."""
    if not (getattr(user, "is_authenticated", False) and user.has_perm(VIEW)):
        return Migration.objects.none()
    return scope_to_user(Migration.objects.all(), user)


def _filtered(queryset: QuerySet[Migration], filters: MigrationFilters) -> QuerySet[Migration]:
    if filters.start is not None:
        queryset = queryset.filter(moved_on__gte=filters.start)
    if filters.end is not None:
        queryset = queryset.filter(moved_on__lte=filters.end)
    if filters.direction:
        queryset = queryset.filter(direction=filters.direction)
    if filters.industry:
        queryset = queryset.filter(industry=filters.industry)
    if filters.entity_type:
        queryset = queryset.filter(entity_type=filters.entity_type)
    if filters.region:
        queryset = queryset.filter(counterpart_region=filters.region)
    if filters.reason:
        queryset = queryset.filter(reason=filters.reason)
    if filters.q:
        q = filters.q.strip()
        queryset = queryset.filter(
            Q(enterprise_name__icontains=q)
            | Q(uscc=q.upper())
            | Q(case_number=q)
            | Q(counterpart_authority__icontains=q)
        )
    return queryset


def migration_listing(*, user, filters: MigrationFilters) -> QuerySet[Migration]:
    """The migration list (newest first) for the filters."""
    return _filtered(migrations_visible_to(user), filters).order_by("-moved_on", "-id")


def region_choices(*, user) -> list[str]:
    """The regions that occur in the user's migrations (the list's filter)."""
    return list(
        migrations_visible_to(user)
        .order_by("counterpart_region")
        .values_list("counterpart_region", flat=True)
        .distinct()
    )


# --- the analysis --------------------------------------------------------------------------------------


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


class _Fact(NamedTuple):
    """One group of the facts query."""

    direction: str
    industry: str
    entity_type: str
    region: str
    reason: str
    n: int
    capital: Decimal
    bands: list[int]  # count per CAPITAL_BANDS entry


def _below_counts() -> dict[str, Count]:
    """COUNT(…) FILTER (WHERE capital < bound) per upper bound of a band, so the bands come out of the facts
    query's scan with one comparison per bound (a band's count is the difference of two of them)."""
    return {
        # Counts a NOT NULL column of the analysis index, not the id: the query stays index-only.
        f"below_{n}": Count("moved_on", filter=Q(registered_capital__lt=high))
        for n, (_key, _label, _low, high) in enumerate(CAPITAL_BANDS)
        if high is not None
    }


def _band_counts(n: int, below: list[int]) -> list[int]:
    """Each band's count from the row's total and its cumulative counts below each upper bound."""
    bounds = [*below, n]
    return [bounds[0], *(bounds[i] - bounds[i - 1] for i in range(1, len(bounds)))]


def _breakdowns(
    rows: Iterable[tuple[Any, str, int]], labels: Mapping[Any, str], *, order: list | None = None
) -> list[Breakdown]:
    """Fold (key, direction, count) rows into one Breakdown per key; keys in `order` first (all of them,
    zeros included), the rest by total descending."""
    found: dict[Any, Breakdown] = {}
    for key, direction, n in rows:
        if not n:
            continue
        row = found.get(key)
        if row is None:
            row = found[key] = Breakdown(key=str(key), label=labels.get(key) or str(key or UNKNOWN_LABEL))
        if direction == IN:
            row.moved_in += n
        else:
            row.moved_out += n
    result = []
    if order is not None:
        for key in order:
            result.append(found.pop(key, None) or Breakdown(key=str(key), label=labels.get(key, str(key))))
    result += sorted(found.values(), key=lambda r: (-r.total, r.key))
    return result


def migration_analysis(*, user, filters: MigrationFilters) -> MigrationAnalysis:
    """Every figure of the analysis page for the period and filters.

    Two GROUP BY queries, each one scan of the period's rows and few groups whatever the number of rows:
    by day and direction (the months and the counts, answered from the (authority, direction, moved_on)
    index alone), and by FACT_COLUMNS with the capital bands as filtered counts and the capital sum (every
    other breakdown and the capital totals, folded here). One query per breakdown (seven) read the rows
    seven times: five years of 300k moves took 2 s at p95 that way (bench/RESULTS.md).
    """
    base = _filtered(migrations_visible_to(user), filters).order_by()

    days = list(
        base.values("moved_on", "direction").annotate(n=Count("*")).values_list("moved_on", "direction", "n")
    )
    below = _below_counts()
    facts = [
        _Fact(
            direction,
            industry,
            entity_type,
            region,
            reason,
            n,
            capital or Decimal(0),
            _band_counts(n, counts),
        )
        for direction, industry, entity_type, region, reason, n, capital, *counts in base.values(
            *FACT_COLUMNS
        )
        .annotate(n=Count("*"), capital=Sum("registered_capital"), **below)
        .values_list(*FACT_COLUMNS, "n", "capital", *below)
    ]

    totals = Totals()
    for _day, direction, n in days:
        if direction == IN:
            totals.moved_in += n
        else:
            totals.moved_out += n
    for fact in facts:
        if fact.direction == IN:
            totals.capital_in += fact.capital
        else:
            totals.capital_out += fact.capital

    month_rows = [(day.replace(day=1), direction, n) for day, direction, n in days]
    if filters.start is not None and filters.end is not None:
        order = _months(filters.start, filters.end)
    else:
        order = sorted({month for month, _d, _n in month_rows})
    band_keys = [key for key, _label, _low, _high in CAPITAL_BANDS]
    return MigrationAnalysis(
        filters=filters,
        totals=totals,
        months=_breakdowns(month_rows, {m: f"{m:%Y-%m}" for m in order}, order=order),
        industries=_breakdowns(
            ((f.industry, f.direction, f.n) for f in facts), dict(IndustrySection.choices)
        ),
        entity_types=_breakdowns(
            ((f.entity_type, f.direction, f.n) for f in facts), dict(EntityType.choices)
        ),
        capital_bands=_breakdowns(
            ((key, f.direction, f.bands[k]) for f in facts for k, key in enumerate(band_keys)),
            {key: label for key, label, _low, _high in CAPITAL_BANDS},
            order=band_keys,
        ),
        regions=_breakdowns(((f.region, f.direction, f.n) for f in facts), {}),
        reasons=_breakdowns(
            ((f.reason, f.direction, f.n) for f in facts if f.direction == OUT), dict(MoveOutReason.choices)
        ),
    )
