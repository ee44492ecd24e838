"""Figures of the consultation module for the performance module, by key (see core.metrics_registry).

Every function takes (authority_ids, start, end) over the half-open period [start, end) of local dates
(Asia/Shanghai) and returns a Decimal. Rates are percentages with two decimals, times are seconds with one
decimal; a rate or mean over no records at all is 0 (the dashboard shows the record count next to it).

A call belongs to the period of its offered_at (the moment it reached the hunt group), whatever happened
to it later (its survey, its follow-up ticket). A ticket belongs to the period it was opened in.

All call figures of a period come from ONE grouped query (`call_figures`), all ticket figures from another
(`ticket_figures`); inside a `shared_computation()` block each is run once per period however many figures
ask. The dashboard's per-day/line/agent/hour tables (selectors.metrics) group the same aggregates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from bizreg.consultation.models import Call, CallOutcome, Ticket, TicketKind, TicketState
from bizreg.core.metrics_registry import memoized, percent, period_bounds, period_list_url, register_metric

ONE_PLACE = Decimal("0.1")
# Scores of the 1–5 post-call survey that count as satisfied (满意 and 非常满意).
SATISFIED_MIN_SCORE = 4
DONE_TICKET_STATES = (TicketState.RESOLVED, TicketState.CLOSED)


def short_abandon_seconds() -> int:
    """Abandoned calls that waited less than this many seconds are not counted as offered (a caller who
    hangs up within a second or two dialled by mistake). Setting CONSULTATION_SHORT_ABANDON_SECONDS;
    the default 0 leaves every call in."""
    value = getattr(settings, "CONSULTATION_SHORT_ABANDON_SECONDS", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured("CONSULTATION_SHORT_ABANDON_SECONDS 必须是不小于 0 的整数（秒）。")
    return value


def _mean(total: int, count: int) -> Decimal:
    if not count:
        return Decimal(0)
    return (Decimal(total) / Decimal(count)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


# --- the call figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFigures:
    """Counts and sums over a set of calls, and the rates built on them.

    offered excludes short abandons (see short_abandon_seconds); every other count is over calls that
    are offered in that sense, except `short_abandoned` itself."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    blocked: int = 0  # busy/congestion: every line of the hunt group was taken
    missed: int = 0
    answered_within_sl: int = 0
    answered_wait_seconds: int = 0
    handle_seconds: int = 0  # talk + hold + wrap-up of answered calls
    talk_seconds: int = 0
    completed: int = 0
    surveyed: int = 0
    satisfied: int = 0

    @classmethod
    def from_row(cls, row: Mapping) -> CallFigures:
        return cls(**{f.name: int(row.get(f.name) or 0) for f in fields(cls)})

    @property
    def answer_rate(self) -> Decimal:
        return percent(self.answered, self.offered)

    @property
    def abandon_rate(self) -> Decimal:
        return percent(self.abandoned, self.offered)

    @property
    def blocked_rate(self) -> Decimal:
        return percent(self.blocked, self.offered)

    @property
    def service_level(self) -> Decimal:
        return percent(self.answered_within_sl, self.answered)

    @property
    def asa_seconds(self) -> Decimal:
        return _mean(self.answered_wait_seconds, self.answered)

    @property
    def aht_seconds(self) -> Decimal:
        return _mean(self.handle_seconds, self.answered)

    @property
    def completion_rate(self) -> Decimal:
        return percent(self.completed, self.answered)

    @property
    def satisfaction_rate(self) -> Decimal:
        return percent(self.satisfied, self.surveyed)


def call_aggregates(short_abandon: int | None = None) -> dict:
    """The aggregate expressions of CallFigures, for `.aggregate(**…)` or `.values(…).annotate(**…)`."""
    short_abandon = short_abandon_seconds() if short_abandon is None else short_abandon
    short = Q(outcome=CallOutcome.ABANDONED, wait_seconds__lt=short_abandon) if short_abandon else Q(pk=None)
    counted = ~short
    answered = counted & Q(outcome=CallOutcome.ANSWERED)
    # Completed (完成解答): settled on the call, or its follow-up ticket was answered/closed — also when the
    # follow-up was merged into another ticket that was.
    completed = answered & (
        Q(resolved=True)
        | Q(follow_up_ticket__state__in=DONE_TICKET_STATES)
        | Q(follow_up_ticket__merged_into__state__in=DONE_TICKET_STATES)
    )
    surveyed = counted & Q(satisfaction_score__isnull=False)
    return {
        "offered": Count("pk", filter=counted),
        "answered": Count("pk", filter=answered),
        "abandoned": Count("pk", filter=counted & Q(outcome=CallOutcome.ABANDONED)),
        "short_abandoned": Count("pk", filter=short),
        "blocked": Count("pk", filter=counted & Q(outcome=CallOutcome.BUSY)),
        "missed": Count("pk", filter=counted & Q(outcome=CallOutcome.MISSED)),
        # Each hotline sets its own T (service_level_seconds); "within T" is wait ≤ T, as Asterisk counts.
        "answered_within_sl": Count(
            "pk", filter=answered & Q(wait_seconds__lte=F("hotline__service_level_seconds"))
        ),
        "answered_wait_seconds": Sum("wait_seconds", filter=answered),
        "handle_seconds": Sum(F("talk_seconds") + F("hold_seconds") + F("wrap_up_seconds"), filter=answered),
        "talk_seconds": Sum("talk_seconds", filter=answered),
        "completed": Count("pk", filter=completed),
        "surveyed": Count("pk", filter=surveyed),
        "satisfied": Count("pk", filter=surveyed & Q(satisfaction_score__gte=SATISFIED_MIN_SCORE)),
    }


def calls_in(authority_ids: Sequence[int], since: dt.datetime, until: dt.datetime):
    return Call.objects.filter(
        authority_id__in=list(authority_ids), offered_at__gte=since, offered_at__lt=until
    ).order_by()


def call_figures(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> CallFigures:
    """Every call figure of [start, end) in one query (kept for a shared_computation block)."""
    ids = sorted(authority_ids)
    since, until = period_bounds(start, end)
    short = short_abandon_seconds()

    def compute() -> CallFigures:
        return CallFigures.from_row(calls_in(ids, since, until).aggregate(**call_aggregates(short)))

    return memoized(("consultation.call_figures", tuple(ids), start, end, short), compute)


# --- the ticket figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFigures:
    opened: int = 0  # opened in the period, not merged, not a call's follow-up (that call already counts)
    due: int = 0  # with a resolution deadline that has passed, or resolved already
    resolved_on_time: int = 0
    complaints_due: int = 0
    complaints_on_time: int = 0
    csat_surveyed: int = 0
    csat_satisfied: int = 0

    @classmethod
    def from_row(cls, row: Mapping) -> TicketFigures:
        return cls(**{f.name: int(row.get(f.name) or 0) for f in fields(cls)})

    @property
    def resolved_within_sla_rate(self) -> Decimal:
        return percent(self.resolved_on_time, self.due)

    @property
    def complaints_on_time_rate(self) -> Decimal:
        return percent(self.complaints_on_time, self.complaints_due)

    @property
    def csat_rate(self) -> Decimal:
        return percent(self.csat_satisfied, self.csat_surveyed)


def ticket_aggregates(now: dt.datetime) -> dict:
    real = ~Q(state=TicketState.MERGED)
    done = Q(state__in=DONE_TICKET_STATES, resolved_at__isnull=False)
    # A ticket is judged once it is done or its deadline has passed; one still open and not yet due is
    # left out (it may still make it).
    judged = real & Q(resolution_due_at__isnull=False) & (done | Q(resolution_due_at__lt=now))
    on_time = judged & done & Q(resolved_at__lte=F("resolution_due_at"))
    complaint = Q(kind=TicketKind.COMPLAINT)
    surveyed = real & Q(csat_score__isnull=False)
    return {
        "opened": Count("pk", filter=real & ~Q(kind=TicketKind.FOLLOW_UP)),
        "due": Count("pk", filter=judged),
        "resolved_on_time": Count("pk", filter=on_time),
        "complaints_due": Count("pk", filter=judged & complaint),
        "complaints_on_time": Count("pk", filter=on_time & complaint),
        "csat_surveyed": Count("pk", filter=surveyed),
        "csat_satisfied": Count("pk", filter=surveyed & Q(csat_score__gte=SATISFIED_MIN_SCORE)),
    }


def ticket_figures(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> TicketFigures:
    ids = sorted(authority_ids)
    since, until = period_bounds(start, end)

    def compute() -> TicketFigures:
        row = (
            Ticket.objects.filter(authority_id__in=ids, opened_at__gte=since, opened_at__lt=until)
            .order_by()
            .aggregate(**ticket_aggregates(timezone.now()))
        )
        return TicketFigures.from_row(row)

    return memoized(("consultation.ticket_figures", tuple(ids), start, end), compute)


# --- drill-down: the module's list pages filtered to the records behind a figure --------------------------
# The list pages filter by inclusive dates and are scoped to the viewer's authorities, so the half-open
# metric period [start, end) becomes date_from=start, date_to=end − 1 day.


VIEW_CALLS = "consultation.view_call"
VIEW_TICKETS = "consultation.view_ticket"
calls_url = period_list_url("consultation:call_list", permission=VIEW_CALLS)
answered_calls_url = period_list_url(
    "consultation:call_list", permission=VIEW_CALLS, outcome=CallOutcome.ANSWERED
)
abandoned_calls_url = period_list_url(
    "consultation:call_list", permission=VIEW_CALLS, outcome=CallOutcome.ABANDONED
)
surveyed_calls_url = period_list_url("consultation:call_list", permission=VIEW_CALLS, satisfaction="rated")
tickets_url = period_list_url("consultation:ticket_list", permission=VIEW_TICKETS)
complaints_url = period_list_url(
    "consultation:ticket_list", permission=VIEW_TICKETS, kind=TicketKind.COMPLAINT
)

_OFFERED = (
    "来电量（呼入量）= 统计期内（按来电时间）到达热线分线组的全部来电：已接听、呼损（来电方挂断）、占线/拥塞"
    "（全部分线占用）、未接。等待不足 CONSULTATION_SHORT_ABANDON_SECONDS 秒即挂断的呼损视为误拨，不计入"
    "来电量（默认 0 秒，即全部计入）。"
)

# --- the three indicators of the seed ---------------------------------------------------------------------


@register_metric(
    "consultation.hotline_answer_rate",
    label="咨询热线接听率",
    unit="%",
    definition="已接听来电数 ÷ 来电量 × 100%。" + _OFFERED,
    records_url=calls_url,
)
def hotline_answer_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).answer_rate


@register_metric(
    "consultation.hotline_completion_rate",
    label="完成解答群众的电话咨询率",
    unit="%",
    definition=(
        "完成解答的来电数 ÷ 已接听来电数 × 100%。完成解答 = 坐席在通话中当场解答（登记为“当场解答”），"
        "或该来电转出的跟进工单已解答/已关闭（跟进工单被合并到另一工单的，看合并后的工单）。按来电时间统计，"
        "跟进工单的状态取计算时的状态。"
    ),
    records_url=answered_calls_url,
)
def hotline_completion_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).completion_rate


@register_metric(
    "consultation.satisfaction_rate",
    label="解答群众的电话咨询满意度",
    unit="%",
    definition=(
        "电话回访评分为 4 分（满意）或 5 分（非常满意）的来电数 ÷ 有回访评分的来电数 × 100%（评分 1–5 分，"
        "未回访或未评分的不计入分母）。按来电时间统计。指标是“电话咨询”满意度，只计来电的回访评价；在线工单的"
        "评价另见 consultation.online_satisfaction_rate，不并入本指标。"
    ),
    records_url=surveyed_calls_url,
)
def satisfaction_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).satisfaction_rate


@register_metric(
    "consultation.business_volume",
    label="咨询业务服务量",
    unit="件",
    definition=(
        "已接听来电数 ＋ 新建在线工单数（网站、邮件、微信、QQ、接口、窗口各渠道的咨询、导办、投诉），按来电/"
        "建单时间。来电转出的跟进工单不另计（该来电已计 1 件），被合并的重复工单不计。"
    ),
    records_url=answered_calls_url,
)
def business_volume(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    calls = call_figures(authority_ids, start, end)
    tickets = ticket_figures(authority_ids, start, end)
    return Decimal(calls.answered + tickets.opened)


# --- the hotline's operational figures --------------------------------------------------------------------


@register_metric(
    "consultation.hotline_abandon_rate",
    label="热线呼损率（来电方挂断）",
    unit="%",
    definition="排队或振铃中来电方挂断的来电数 ÷ 来电量 × 100%（不含占线/拥塞和无人应答）。" + _OFFERED,
    records_url=abandoned_calls_url,
)
def hotline_abandon_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).abandon_rate


@register_metric(
    "consultation.hotline_service_level",
    label="热线服务水平",
    unit="%",
    definition=(
        "等待时间不超过 T 秒即接听的来电数 ÷ 已接听来电数 × 100%（Asterisk 服务水平口径）。T 为各热线设置的"
        "服务水平时限（默认 20 秒），常用目标 80/20。按来电时间统计。"
    ),
    records_url=answered_calls_url,
)
def hotline_service_level(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).service_level


@register_metric(
    "consultation.hotline_asa_seconds",
    label="平均应答速度（ASA）",
    unit="秒",
    definition="已接听来电从到达热线到坐席接听的等待秒数的平均值（只计已接听的来电）。按来电时间统计。",
    records_url=answered_calls_url,
)
def hotline_asa_seconds(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).asa_seconds


@register_metric(
    "consultation.hotline_aht_seconds",
    label="平均处理时长（AHT）",
    unit="秒",
    definition="已接听来电的通话 + 保持 + 话后处理秒数的平均值。按来电时间统计。",
    records_url=answered_calls_url,
)
def hotline_aht_seconds(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return call_figures(authority_ids, start, end).aht_seconds


# --- online tickets and complaints ------------------------------------------------------------------------

_JUDGED = (
    "分母为统计期内（按建单时间）新建、设有解决期限的工单中，已解答/已关闭或解决期限已过的（尚未到期且未解答的"
    "不计入，被合并的重复工单不计入）；分子为其中在解决期限前（含）解答的。解决期限按工作时间计算，等待群众"
    "回复期间暂停计时。"
)


@register_metric(
    "consultation.tickets_resolved_within_sla_rate",
    label="在线工单按时解答率",
    unit="%",
    definition="按时解答的工单数 ÷ 应解答的工单数 × 100%（各渠道、各类型）。" + _JUDGED,
    records_url=tickets_url,
)
def tickets_resolved_within_sla_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return ticket_figures(authority_ids, start, end).resolved_within_sla_rate


@register_metric(
    "consultation.complaints_closed_on_time_rate",
    label="投诉按期办结率",
    unit="%",
    definition="按期办结（解答）的投诉工单数 ÷ 应办结的投诉工单数 × 100%。" + _JUDGED,
    records_url=complaints_url,
)
def complaints_closed_on_time_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return ticket_figures(authority_ids, start, end).complaints_on_time_rate


@register_metric(
    "consultation.online_satisfaction_rate",
    label="在线咨询满意度",
    unit="%",
    definition=(
        "工单关闭后群众评价为 4 分或 5 分的工单数 ÷ 有评价的工单数 × 100%（评分 1–5 分），按建单时间统计，"
        "被合并的工单不计。"
    ),
    records_url=tickets_url,
)
def online_satisfaction_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    return ticket_figures(authority_ids, start, end).csat_rate
