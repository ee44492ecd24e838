"""Working-day calendar for statutory deadlines (工作日).

Source of truth, in order: the admin-editable WorkingDayOverride table, then chinesecalendar's official
holiday/make-up-day data, then — only for a year staff registered as WorkingCalendarYear — plain
Monday–Friday. A date in a year with none of these raises CalendarDataMissing: a deadline computed on a
guessed calendar would be silently wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import chinese_calendar


class CalendarDataMissing(Exception):
    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year} 年的工作日历尚无数据：chinesecalendar 未收录该年度。请在管理后台"
            f"“人工维护的工作日历年度”中登记 {year} 年，并在“工作日调整”中录入该年的节假日与调休。"
        )


def _library_years() -> range:
    holiday_years = {d.year for d in chinese_calendar.holidays}
    return range(min(holiday_years), max(holiday_years) + 1)


_LIBRARY_YEARS = _library_years()


class WorkingCalendar:
    """Working-day arithmetic over a date span, with the overrides of that span loaded once."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        if end < start:
            start, end = end, start
        self.start, self.end = start, end
        years = set(range(start.year, end.year + 1))
        self._overrides, manual = _load_overrides_and_manual_years(start, end, years)
        self._manual_years = manual
        # Raised only when a day of such a year is asked about: arithmetic loads a span wider than it needs,
        # and a deadline that falls in December must not wait for next year's holiday schedule.
        self._missing_years = {year for year in years if year not in _LIBRARY_YEARS and year not in manual}

    def is_working_day(self, day: dt.date) -> bool:
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} 超出已加载的日历范围 {self.start}–{self.end}")
        if day.year in self._missing_years:
            raise CalendarDataMissing(day.year)
        if day in self._overrides:
            return self._overrides[day]
        if day.year in _LIBRARY_YEARS:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def working_days(self) -> Iterable[dt.date]:
        day = self.start
        while day <= self.end:
            if self.is_working_day(day):
                yield day
            day += dt.timedelta(days=1)


def _load_overrides_and_manual_years(
    start: dt.date, end: dt.date, years: set[int]
) -> tuple[dict[dt.date, bool], set[int]]:
    """The overrides of [start, end] and which of `years` staff maintain by hand, in one round trip (every
    deadline, clock and timeline computes a calendar; a second query each time showed in their cost)."""
    from django.db.models import BooleanField, DateField, IntegerField, Value

    from bizreg.core.models import WorkingCalendarYear, WorkingDayOverride

    overrides = (
        WorkingDayOverride.objects.filter(date__range=(start, end))
        .annotate(manual_year=Value(None, output_field=IntegerField()))
        .values_list("date", "is_working_day", "manual_year")
        .order_by()
    )
    manual_years = (
        WorkingCalendarYear.objects.filter(year__in=years)
        .annotate(
            override_date=Value(None, output_field=DateField()),
            override_working=Value(None, output_field=BooleanField()),
        )
        .values_list("override_date", "override_working", "year")
        .order_by()
    )
    found: dict[dt.date, bool] = {}
    manual: set[int] = set()
    for date, working, year in overrides.union(manual_years, all=True):
        if year is None:
            found[date] = working
        else:
            manual.add(year)
    return found, manual


def is_working_day(day: dt.date) -> bool:
    return WorkingCalendar(day, day).is_working_day(day)


def scheduled_working_day(day: dt.date) -> bool:
    """The official schedule alone: chinesecalendar where it has the year, Monday–Friday outside it, no staff
    overrides and no database. For generated history only (the demo register reaches back before the
    library's first year and must draw the same days on any database) — never for a deadline."""
    if day.year in _LIBRARY_YEARS:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself not counted); days may be negative."""
    if isinstance(start, dt.datetime):
        start = start.date()
    if days == 0:
        return start
    step = 1 if days > 0 else -1
    # Long holidays (春节, 国庆) add at most ~9 rest days per 5 working days; widen the span until it fits.
    span = abs(days) * 2 + 20
    while True:
        end = start + dt.timedelta(days=span * step)
        calendar = WorkingCalendar(start, end)
        remaining = abs(days)
        day = start
        for _ in range(span):
            day += dt.timedelta(days=step)
            if calendar.is_working_day(day):
                remaining -= 1
                if remaining == 0:
                    return day
        span *= 2


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: add_working_days(start, n) == end implies this returns n.

    Negative when end is before start.
    """
    if isinstance(start, dt.datetime):
        start = start.date()
    if isinstance(end, dt.datetime):
        end = end.date()
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start)
    calendar = WorkingCalendar(start + dt.timedelta(days=1), end)
    return sum(1 for _ in calendar.working_days())
