"""Figures of the investigations module for the performance module, by key (indicators 5 and 9).

Every function takes (authority_ids, start, end) over the half-open period [start, end) of local dates
(Asia/Shanghai) and returns a Decimal; rates are percentages with two decimals, 0 over no records. Each
declares the case list filtered to the records behind it (investigations:case_list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, Q

from bizreg.core.metrics_registry import percent, period_bounds, period_list_url, register_metric
from bizreg.investigations.models import CaseState, Decision, DecisionOutcome, InvestigationCase, VictimSurvey
from bizreg.investigations.selectors.cases import VIEW

REVOKING = (DecisionOutcome.REVOKE_ALL, DecisionOutcome.REVOKE_ITEMS)

closed_cases_url = period_list_url("investigations:case_list", "closed_from", "closed_to", permission=VIEW)
revocations_url = period_list_url(
    "investigations:case_list", "decided_from", "decided_to", permission=VIEW, outcome="revoke"
)
answered_surveys_url = period_list_url(
    "investigations:case_list", "answered_from", "answered_to", permission=VIEW
)


def _closed(authority_ids: Sequence[int], start: dt.date, end: dt.date):
    since, until = period_bounds(start, end)
    return InvestigationCase.objects.filter(
        authority_id__in=list(authority_ids),
        state=CaseState.CLOSED,
        closed_at__gte=since,
        closed_at__lt=until,
    )


@register_metric(
    "investigations.cases_handled",
    label="办结冒用身份案件数",
    unit="件",
    definition=(
        "统计期内结案的冒用身份虚假登记案件件数（按结案时间；含作出撤销、不予撤销、移送决定后结案的和"
        "不予受理后结案的；并入他案的线索不另计）。"
    ),
    records_url=closed_cases_url,
)
def cases_handled(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return Decimal(_closed(authority_ids, start, end).count())


@register_metric(
    "investigations.closed_within_deadline_rate",
    label="冒用身份案件期限内办结率",
    unit="%",
    definition=(
        "期限内结案的案件数 ÷ 统计期内结案的案件数 × 100%。期限：受理后 3 个月的调查期限（经批准延长的为"
        "延长后期限，中止期间顺延）；不予受理的案件为收到后 3 个工作日的受理期限。按结案时间落入统计期。"
    ),
    records_url=closed_cases_url,
)
def closed_within_deadline_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    counts = _closed(authority_ids, start, end).aggregate(
        closed=Count("pk"), within=Count("pk", filter=Q(closed_within_deadline=True))
    )
    return percent(counts["within"], counts["closed"])


@register_metric(
    "investigations.revocations",
    label="撤销冒名登记案件数",
    unit="件",
    definition="统计期内作出撤销全部登记或撤销部分登记事项决定的案件件数（按决定时间）。",
    records_url=revocations_url,
)
def revocations(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    since, until = period_bounds(start, end)
    return Decimal(
        Decision.objects.filter(
            case__authority_id__in=list(authority_ids),
            outcome__in=REVOKING,
            decided_at__gte=since,
            decided_at__lt=until,
        ).count()
    )


@register_metric(
    "investigations.victim_satisfaction_rate",
    label="被冒用人满意度",
    unit="%",
    definition=(
        "结案后回访问卷中评为“满意”或“非常满意”（4–5 分）的份数 ÷ 已填写的问卷份数 × 100%，按填写时间"
        "落入统计期；未填写的问卷不计入分母。"
    ),
    records_url=answered_surveys_url,
)
def victim_satisfaction_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    since, until = period_bounds(start, end)
    counts = VictimSurvey.objects.filter(
        case__authority_id__in=list(authority_ids), answered_at__gte=since, answered_at__lt=until
    ).aggregate(answered=Count("pk"), satisfied=Count("pk", filter=Q(score__gte=4)))
    return percent(counts["satisfied"], counts["answered"])
