"""Reads of the hotline set-up: numbers, their lines in ringing order, agents and shifts.

Everything is scoped to the viewer's authorities; another authority's rows answer 404 like missing ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation.models import Agent, HotlineLine, HotlineNumber, Shift
from bizreg.consultation.services.hotline import MIN_ACTIVE_LINES
from bizreg.core.dates import day_start
from bizreg.core.scoping import authority_ids_for, scope_to_user

PAGE_SIZE = 50


def _pk(value: Any, message: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(message) from None


# --- hotline numbers and lines --------------------------------------------------------------------------


def hotlines_visible_to(user) -> QuerySet[HotlineNumber]:
    return scope_to_user(HotlineNumber.objects.select_related("authority"), user).annotate(
        line_count=Count("lines", distinct=True),
        active_line_count=Count("lines", filter=Q(lines__is_active=True), distinct=True),
    )


def hotline_list(*, user, q: str = "") -> QuerySet[HotlineNumber]:
    qs = hotlines_visible_to(user)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(name__icontains=q))
    return qs.order_by("-is_active", "number")


def hotline_for(*, user, pk: Any) -> HotlineNumber:
    message = _("没有找到该热线。")
    hotline = hotlines_visible_to(user).filter(pk=_pk(pk, message)).first()
    if hotline is None:
        raise Http404(message)
    return hotline


def hotline_lines(*, hotline: HotlineNumber) -> list[HotlineLine]:
    """The lines in ringing order."""
    return list(hotline.lines.order_by("position"))


def hotline_short_of_lines(hotline: HotlineNumber) -> int:
    """How many more active lines the hotline needs before it may be switched on (0: enough)."""
    active = getattr(hotline, "active_line_count", None)
    if active is None:
        active = hotline.lines.filter(is_active=True).count()
    return max(0, MIN_ACTIVE_LINES - active)


def lines_visible_to(user) -> QuerySet[HotlineLine]:
    return scope_to_user(HotlineLine.objects.select_related("hotline"), user, field="hotline__authority")


def line_for(*, user, pk: Any) -> HotlineLine:
    message = _("没有找到该分线。")
    line = lines_visible_to(user).filter(pk=_pk(pk, message)).first()
    if line is None:
        raise Http404(message)
    return line


def line_search(*, user, hotline_id: int | None = None, active: bool | None = None) -> QuerySet[HotlineLine]:
    qs = lines_visible_to(user)
    if hotline_id:
        qs = qs.filter(hotline_id=hotline_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("hotline__number", "position")


def line_choices(*, user) -> QuerySet[HotlineLine]:
    """Active lines of active hotlines, for logging a call (ringing order)."""
    return (
        lines_visible_to(user)
        .filter(is_active=True, hotline__is_active=True)
        .order_by("hotline__number", "position")
    )


# --- agents ---------------------------------------------------------------------------------------------


def agents_visible_to(user) -> QuerySet[Agent]:
    return scope_to_user(Agent.objects.select_related("user", "authority"), user)


def agent_search(*, user, q: str = "", active: bool | None = None) -> QuerySet[Agent]:
    qs = agents_visible_to(user)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(pbx_code__icontains=q)
            | Q(extension__icontains=q)
            | Q(user__username__icontains=q)
            | Q(user__display_name__icontains=q)
        )
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("-is_active", "pbx_code")


def agent_for(*, user, pk: Any) -> Agent:
    message = _("没有找到该坐席。")
    agent = agents_visible_to(user).filter(pk=_pk(pk, message)).first()
    if agent is None:
        raise Http404(message)
    return agent


def agent_choices(*, user) -> QuerySet[Agent]:
    return agents_visible_to(user).filter(is_active=True).order_by("pbx_code")


def own_agent(*, user, authority_id: int | None = None) -> Agent | None:
    """The user's own active agent profile (in `authority_id` when given)."""
    qs = Agent.objects.select_related("user").filter(user_id=user.pk, is_active=True)
    if authority_id is not None:
        qs = qs.filter(authority_id=authority_id)
    return qs.order_by("id").first()


def agent_user_choices(*, user):
    """Active staff of the viewer's authorities who are not agents there yet, for the agent form."""
    from bizreg.accounts.selectors import users_visible_to

    taken = Agent.objects.filter(authority_id__in=authority_ids_for(user)).values("user_id")
    return users_visible_to(user).filter(is_active=True).exclude(pk__in=taken).order_by("username")


# --- shifts ---------------------------------------------------------------------------------------------


def shifts_visible_to(user) -> QuerySet[Shift]:
    return scope_to_user(Shift.objects.select_related("agent", "agent__user"), user)


def shift_for(*, user, pk: Any) -> Shift:
    message = _("没有找到该班次。")
    shift = shifts_visible_to(user).filter(pk=_pk(pk, message)).first()
    if shift is None:
        raise Http404(message)
    return shift


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week containing `day`."""
    return day - dt.timedelta(days=day.weekday())


def shift_search(*, user, filters: Mapping[str, Any]) -> QuerySet[Shift]:
    """Shifts overlapping [date_from, date_to] (inclusive days) of the filtered agent, by start time."""
    qs = shifts_visible_to(user)
    if filters.get("agent"):
        qs = qs.filter(agent=filters["agent"])
    if filters.get("date_from"):
        qs = qs.filter(ends_at__gt=day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(starts_at__lt=day_start(filters["date_to"] + dt.timedelta(days=1)))
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(note__icontains=q)
            | Q(agent__pbx_code__icontains=q)
            | Q(agent__user__display_name__icontains=q)
            | Q(agent__user__username__icontains=q)
        )
    return qs.order_by("starts_at", "agent__pbx_code", "id")


def shift_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(shift_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


@dataclass
class WeekDay:
    day: dt.date
    shifts: list[Shift]


@dataclass
class WeekView:
    start: dt.date
    days: list[WeekDay]
    agents_on_duty: int  # distinct agents with a shift this week

    @property
    def previous(self) -> dt.date:
        return self.start - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.start + dt.timedelta(days=7)


def shift_week(*, user, start: dt.date, agent: Agent | None = None) -> WeekView:
    """The seven days from `start` (a Monday) with the shifts starting on each day."""
    start = week_start(start)
    end = start + dt.timedelta(days=7)
    qs = shifts_visible_to(user).filter(starts_at__gte=day_start(start), starts_at__lt=day_start(end))
    if agent is not None:
        qs = qs.filter(agent=agent)
    by_day: dict[dt.date, list[Shift]] = {start + dt.timedelta(days=i): [] for i in range(7)}
    agent_ids = set()
    for shift in qs.order_by("starts_at", "agent__pbx_code"):
        by_day[timezone.localdate(shift.starts_at)].append(shift)
        agent_ids.add(shift.agent_id)
    return WeekView(
        start=start, days=[WeekDay(day=d, shifts=s) for d, s in by_day.items()], agents_on_duty=len(agent_ids)
    )


def agents_on_duty(*, user, at: dt.datetime | None = None) -> QuerySet[Agent]:
    """Agents with a shift covering `at` (now)."""
    at = at or timezone.now()
    on = Shift.objects.filter(starts_at__lte=at, ends_at__gt=at).values("agent_id")
    return agents_visible_to(user).filter(pk__in=on).order_by("pbx_code")


SHIFT_EXPORT_HEADERS = (
    "日期",
    "星期",
    "坐席",
    "PBX 坐席标识",
    "分机号",
    "开始",
    "结束",
    "时长（小时）",
    "备注",
)
_WEEKDAYS = "一二三四五六日"


def shift_export_rows(queryset: QuerySet[Shift]) -> Iterator[tuple]:
    for shift in queryset.iterator(chunk_size=2000):
        start, end = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
        user = shift.agent.user
        yield (
            start.date(),
            _("星期") + _WEEKDAYS[start.weekday()],
            str(user),
            shift.agent.pbx_code,
            shift.agent.extension,
            start,
            end,
            round((end - start).total_seconds() / 3600, 2),
            shift.note,
        )
