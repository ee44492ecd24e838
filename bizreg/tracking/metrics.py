"""Figures of the tracking module for the performance module, by key.

Every function takes (authority_ids, start, end) over the half-open period [start, end) of local dates
(Asia/Shanghai) and returns a Decimal; rates are percentages with two decimals, 0 over no records. The
base querysets are selectors.reports' (the periodic report counts the same rows).

Definitions:

- ``tracking.visits_done`` (户次): submitted (已提交) visits whose visit date falls in the period; drafts do
  not count.
- ``tracking.visits_completion_rate`` (%): of the visit plans falling due in the period (by the plan's due
  date; cancelled plans excluded), those done (已走访) ÷ all of them × 100 — visits done against visits
  planned, never over 100 %; visits made without a plan count in ``visits_done`` only.
- ``tracking.appeals_closed_on_time_rate`` (%): appeals closed (办结) in the period, by closing time, that
  were closed on time (``closed_on_time``, stored at closing: answered or closed on or before the due date) ÷
  appeals closed in the period × 100.
- ``tracking.appeal_satisfaction_rate`` (%): among the appeals closed in the period with a satisfaction
  rating, those rated 4 or 5 (满意, 非常满意) ÷ those rated × 100; appeals closed without a rating are
  left out.
- ``tracking.net_migration`` (户): moves in minus moves out with a move date in the period (negative when
  more enterprises left than arrived).

Drill-downs: the visit list (submitted, visited in the period), the appeal list (closed in the period) and
the migration list (moved in the period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, Q

from bizreg.core.metrics_registry import percent, period_list_url, register_metric
from bizreg.tracking.models import MigrationDirection, PlanState, VisitState
from bizreg.tracking.selectors.appeals import VIEW as VIEW_APPEALS
from bizreg.tracking.selectors.migrations import VIEW as VIEW_MIGRATIONS
from bizreg.tracking.selectors.reports import (
    appeals_closed,
    closure_counts,
    migrations_between,
    plans_due,
    visits_done,
)
from bizreg.tracking.selectors.visits import VIEW as VIEW_VISITS

visits_url = period_list_url(
    "tracking:visit_list", "visited_from", "visited_to", permission=VIEW_VISITS, state=VisitState.SUBMITTED
)
closed_appeals_url = period_list_url(
    "tracking:appeal_list", "closed_from", "closed_to", permission=VIEW_APPEALS, state="closed"
)
migrations_url = period_list_url(
    "tracking:migration_list", "date_from", "date_to", permission=VIEW_MIGRATIONS, period="range"
)


@register_metric(
    "tracking.visits_done",
    label="完成企业走访户次",
    unit="户次",
    definition="统计期内已提交的企业走访记录数（按走访日期；草稿不计）。",
    records_url=visits_url,
)
def visits_done_count(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return Decimal(visits_done(authority_ids, start, end).count())


@register_metric(
    "tracking.visits_completion_rate",
    label="企业走访完成率",
    unit="%",
    definition=(
        "统计期内到期的走访计划（按走访期限；已取消的计划不计）中已完成走访的 ÷ 到期计划数 × 100%；"
        "未列入计划的走访只计入走访户次。"
    ),
    records_url=visits_url,
)
def visits_completion_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    due = plans_due(authority_ids, start, end)
    return percent(due.filter(state=PlanState.DONE).count(), due.count())


@register_metric(
    "tracking.appeals_closed_on_time_rate",
    label="企业诉求按期办结率",
    unit="%",
    definition=(
        "统计期内办结（按办结时间）且按期办结的诉求数 ÷ 统计期内办结的诉求数 × 100%。按期：承办部门在办理"
        "期限内反馈（未转办的诉求为登记当日办结），办结时记录。"
    ),
    records_url=closed_appeals_url,
)
def appeals_closed_on_time_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    counts = closure_counts(appeals_closed(authority_ids, start, end))
    return percent(counts["on_time"], counts["closed"])


@register_metric(
    "tracking.appeal_satisfaction_rate",
    label="企业诉求满意度",
    unit="%",
    definition=(
        "统计期内办结且企业作出满意度评价的诉求中，评为“满意”或“非常满意”（4–5 分）的件数 ÷ 作出评价的"
        "件数 × 100%；未评价的不计入分母。"
    ),
    records_url=closed_appeals_url,
)
def appeal_satisfaction_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    counts = closure_counts(appeals_closed(authority_ids, start, end))
    return percent(counts["satisfied"], counts["rated"])


@register_metric(
    "tracking.net_migration",
    label="企业净迁入户数",
    unit="户",
    definition="统计期内迁入企业户数 − 迁出企业户数（按迁移日期；为负表示净迁出）。",
    records_url=migrations_url,
)
def net_migration(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    counts = migrations_between(authority_ids, start, end).aggregate(
        moved_in=Count("pk", filter=Q(direction=MigrationDirection.IN)),
        moved_out=Count("pk", filter=Q(direction=MigrationDirection.OUT)),
    )
    return Decimal(counts["moved_in"] - counts["moved_out"])
