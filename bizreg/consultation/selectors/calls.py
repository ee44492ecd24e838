"""Reads of hotline calls: the filtered list, one call with its history, the agent's own recent calls and
the export rows.

Scoped to the viewer's authorities (another authority's call answers 404). Caller numbers leave here masked
(138****1234) unless the caller of the selector asks for full numbers, which only views holding
core.view_full_personal_data do, writing the access log themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation.models import Call, CallOutcome, CallSource, CallTopic
from bizreg.core.dates import day_start
from bizreg.core.masking import mask_phone
from bizreg.core.scoping import scope_to_user

PAGE_SIZE = 50
WITHHELD_LABEL = "号码未显示"


def display_number(number: str, *, full: bool = False) -> str:
    if not number:
        return _(WITHHELD_LABEL)
    return number if full else mask_phone(number)


def calls_visible_to(user) -> QuerySet[Call]:
    return scope_to_user(
        Call.objects.select_related(
            "hotline", "line", "agent", "agent__user", "logged_by", "follow_up_ticket"
        ),
        user,
    )


def _yes_no(value) -> bool | None:
    return {"1": True, "0": False, True: True, False: False}.get(value)


SATISFACTION_FILTERS = (
    ("rated", "已评价"),
    ("unrated", "未评价"),
    ("low", "不满意（1–2 分）"),
    ("5", "5 分"),
    ("4", "4 分"),
    ("3", "3 分"),
    ("2", "2 分"),
    ("1", "1 分"),
)


def call_search(*, user, filters: Mapping[str, Any], full_numbers: bool = False) -> QuerySet[Call]:
    """Visible calls matching the cleaned filter form, newest first.

    `q`: up to four digits match the end of the caller's number (what a masked number shows); a longer
    run of digits matches the whole number only for `full_numbers` viewers (anyone else could otherwise
    test whether a given person called); any text matches the summary and the related case number.
    """
    qs = calls_visible_to(user)
    if filters.get("date_from"):
        qs = qs.filter(offered_at__gte=day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(offered_at__lt=day_start(filters["date_to"] + dt.timedelta(days=1)))
    for name in ("hotline", "line", "agent"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("outcome"):
        qs = qs.filter(outcome=filters["outcome"])
    if filters.get("topic"):
        qs = qs.filter(topic=filters["topic"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    resolved = _yes_no(filters.get("resolved"))
    if resolved is not None:
        qs = qs.filter(resolved=resolved)
    follow_up = _yes_no(filters.get("follow_up"))
    if follow_up is not None:
        qs = qs.filter(needs_follow_up=follow_up)
    satisfaction = filters.get("satisfaction") or ""
    if satisfaction == "rated":
        qs = qs.filter(satisfaction_score__isnull=False)
    elif satisfaction == "unrated":
        qs = qs.filter(satisfaction_score__isnull=True)
    elif satisfaction == "low":
        qs = qs.filter(satisfaction_score__lte=2)
    elif satisfaction.isdigit():
        qs = qs.filter(satisfaction_score=int(satisfaction))
    if filters.get("logged_by"):
        qs = qs.filter(logged_by=filters["logged_by"])
    q = (filters.get("q") or "").strip()
    compact = "".join(q.split()).replace("-", "")
    if compact.isdigit():
        q = compact  # a number typed with spaces or dashes
    if q:
        condition = Q(summary__icontains=q) | Q(related_case_number__iexact=q)
        if q.isdigit() and len(q) <= 4:
            condition |= Q(caller_number__endswith=q)
        elif q.isdigit() and full_numbers:
            condition |= Q(caller_number__contains=q)
        qs = qs.filter(condition)
    return qs.order_by("-offered_at", "-id")


def call_page(*, user, filters: Mapping[str, Any], page: Any, full_numbers: bool = False) -> Page:
    result = Paginator(
        call_search(user=user, filters=filters, full_numbers=full_numbers), PAGE_SIZE
    ).get_page(page)
    attach_display_numbers(result.object_list, full=False)
    return result


def attach_display_numbers(calls: Iterable[Call], *, full: bool = False) -> None:
    """Set `caller_display` on each call (masked unless `full`) for templates."""
    for call in calls:
        call.caller_display = display_number(call.caller_number, full=full)


def call_for(*, user, pk: Any) -> Call:
    message = _("没有找到该来电记录。")
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(message) from None
    call = calls_visible_to(user).filter(pk=pk).first()
    if call is None:
        raise Http404(message)
    call.caller_display = display_number(call.caller_number)
    return call


def recent_calls_logged_by(*, user, limit: int = 10) -> tuple[list[Call], int]:
    """The user's calls logged today (newest first, at most `limit`) and how many there are."""
    today = timezone.localdate()
    qs = (
        calls_visible_to(user)
        .filter(logged_by=user, created_at__gte=day_start(today))
        .order_by("-created_at")
    )
    calls = list(qs[:limit])
    attach_display_numbers(calls)
    return calls, qs.count()


# --- history --------------------------------------------------------------------------------------------

# The fields whose changes the detail page lists, in this order.
HISTORY_FIELDS = (
    "outcome",
    "offered_at",
    "answered_at",
    "ended_at",
    "line",
    "agent",
    "caller_number",
    "topic",
    "summary",
    "resolved",
    "needs_follow_up",
    "follow_up_ticket",
    "related_case_number",
    "satisfaction_score",
)


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    kind: str
    reason: str
    created: bool = False
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (label, old, new)


def _history_value(name: str, value, *, full: bool) -> str:
    if value is None or value == "":
        return "—"
    if name == "caller_number":
        return display_number(value, full=full)
    if name == "outcome":
        return str(CallOutcome(value).label) if value in CallOutcome.values else str(value)
    if name == "topic":
        return str(CallTopic(value).label) if value in CallTopic.values else str(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"
    return str(value)


def call_history(*, call: Call, full: bool = False) -> list[HistoryEntry]:
    """Every saved version of the call, oldest first, with what changed and who changed it."""
    records = list(call.history.select_related("history_user").order_by("history_date", "history_id"))
    labels = {name: str(Call._meta.get_field(name).verbose_name) for name in HISTORY_FIELDS}
    kinds = {"+": _("创建"), "~": _("修改"), "-": _("删除")}
    entries = []
    previous = None
    for record in records:
        changes = []
        for name in HISTORY_FIELDS:
            attname = Call._meta.get_field(name).attname
            new = getattr(record, attname)
            old = getattr(previous, attname) if previous is not None else None
            if previous is not None and new == old:
                continue
            if previous is None and new in (None, "", False):
                continue
            changes.append(
                (labels[name], _history_value(name, old, full=full), _history_value(name, new, full=full))
            )
        user = record.history_user
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=str(user) if user else _("系统（话单导入）"),
                kind=kinds.get(record.history_type, record.history_type),
                reason=record.history_change_reason or "",
                created=record.history_type == "+",
                changes=changes,
            )
        )
        previous = record
    return entries


# --- export ---------------------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "来电时间",
    "热线",
    "分线",
    "坐席",
    "来电号码",
    "结果",
    "接听时间",
    "结束时间",
    "等待（秒）",
    "通话（秒）",
    "咨询主题",
    "当场解答",
    "需跟进",
    "跟进工单",
    "关联业务编号",
    "满意度",
    "来源",
    "摘要",
)


def call_export_rows(queryset: QuerySet[Call], *, full: bool = False) -> Iterator[tuple]:
    """One tuple per call in EXPORT_HEADERS order, streamed; numbers masked unless `full`."""
    outcomes, topics = dict(CallOutcome.choices), dict(CallTopic.choices)
    sources = dict(CallSource.choices)
    values = queryset.values_list(
        "offered_at",
        "hotline__number",
        "line__label",
        "agent__user__display_name",
        "agent__user__username",
        "caller_number",
        "outcome",
        "answered_at",
        "ended_at",
        "wait_seconds",
        "talk_seconds",
        "topic",
        "resolved",
        "needs_follow_up",
        "follow_up_ticket__number",
        "related_case_number",
        "satisfaction_score",
        "source",
        "summary",
    )
    yes, no = _("是"), _("否")
    for row in values.iterator(chunk_size=5000):
        (offered, hotline, line, agent_name, agent_username, number, outcome, answered, ended) = row[:9]
        (wait, talk, topic, resolved, follow_up, ticket, case_number, score, source, summary) = row[9:]
        yield (
            offered,
            hotline,
            line or "",
            agent_name or agent_username or "",
            display_number(number, full=full),
            outcomes.get(outcome, outcome),
            answered,
            ended,
            wait,
            talk,
            topics.get(topic, topic),
            yes if resolved else no,
            yes if follow_up else no,
            ticket or "",
            case_number,
            score if score is not None else "",
            sources.get(source, source),
            summary,
        )
