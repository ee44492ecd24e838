"""Business-hours arithmetic for ticket deadlines (服务时限).

A business minute is a minute inside the day's business hours on a working day. Working days come from
bizreg.core.workdays (chinesecalendar plus the admin overrides); the business hours of a working day are
`settings.CONSULTATION_BUSINESS_HOURS`, a list of ("HH:MM", "HH:MM") windows in local time (Asia/Shanghai),
by default the bureau's opening hours::

    CONSULTATION_BUSINESS_HOURS = [("09:00", "12:00"), ("13:30", "17:30")]   # 7 hours = 420 minutes a day

So a ticket arriving on Friday at 17:00 with a 60-minute first-response deadline is due on Monday at 09:30
(or later, when Monday is a public holiday). Times outside business hours never count.

`add_business_minutes(start, m)` is the earliest moment by which m business minutes have elapsed since
start; `business_minutes_between(a, b)` counts the business minutes in [a, b) (whole minutes, rounded down).
For m ≥ 0: business_minutes_between(start, add_business_minutes(start, m)) == m.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from bizreg.core.workdays import WorkingCalendar

DEFAULT_BUSINESS_HOURS = (("09:00", "12:00"), ("13:30", "17:30"))

_MINUTE = dt.timedelta(minutes=1)


@lru_cache(maxsize=8)
def _parse_windows(raw: tuple[tuple[str, str], ...]) -> tuple[tuple[dt.time, dt.time], ...]:
    windows = []
    for start, end in raw:
        try:
            opens, closes = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"CONSULTATION_BUSINESS_HOURS：无效的时间段 {start!r}–{end!r}"
            ) from None
        if closes <= opens:
            raise ImproperlyConfigured(f"CONSULTATION_BUSINESS_HOURS：{start}–{end} 结束时间须晚于开始时间")
        windows.append((opens, closes))
    windows.sort()
    for (_, previous_end), (next_start, _) in zip(windows, windows[1:], strict=False):
        if next_start < previous_end:
            raise ImproperlyConfigured("CONSULTATION_BUSINESS_HOURS：时间段不能重叠")
    if not windows:
        raise ImproperlyConfigured("CONSULTATION_BUSINESS_HOURS：至少需要一个时间段")
    return tuple(windows)


def business_windows() -> tuple[tuple[dt.time, dt.time], ...]:
    """The business-hour windows of a working day, sorted."""
    raw = getattr(settings, "CONSULTATION_BUSINESS_HOURS", None) or DEFAULT_BUSINESS_HOURS
    return _parse_windows(tuple((str(a), str(b)) for a, b in raw))


def business_minutes_per_day() -> int:
    """Business minutes in one working day (420 with the default hours)."""
    day = dt.date(2000, 1, 1)
    return sum(
        (dt.datetime.combine(day, closes) - dt.datetime.combine(day, opens)) // _MINUTE
        for opens, closes in business_windows()
    )


def _day_windows(day: dt.date, tz) -> list[tuple[dt.datetime, dt.datetime]]:
    return [
        (dt.datetime.combine(day, opens, tzinfo=tz), dt.datetime.combine(day, closes, tzinfo=tz))
        for opens, closes in business_windows()
    ]


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_default_timezone())
    return value


def add_business_minutes(start: dt.datetime, minutes: int) -> dt.datetime:
    """The moment `minutes` business minutes after `start` (an aware datetime; returned in local time).

    Zero minutes returns start unchanged. Raises CalendarDataMissing for a year with no calendar data.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = _aware(start)
    if minutes == 0:
        return start
    tz = timezone.get_default_timezone()
    local = timezone.localtime(start, tz)
    remaining = dt.timedelta(minutes=minutes)
    per_day = business_minutes_per_day()
    # Long holidays add at most ~9 rest days per 5 working days: load a span that fits, widen if not.
    span = (minutes // per_day + 1) * 2 + 20
    day = local.date()
    while True:
        calendar = WorkingCalendar(day, day + dt.timedelta(days=span))
        for _ in range(span + 1):
            if calendar.is_working_day(day):
                for opens, closes in _day_windows(day, tz):
                    if closes <= local:
                        continue
                    begin = max(opens, local)
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += dt.timedelta(days=1)
        span *= 2


def business_minutes_between(a: dt.datetime, b: dt.datetime) -> int:
    """Business minutes in [a, b), whole minutes rounded down; negative when b is before a."""
    a, b = _aware(a), _aware(b)
    if b == a:
        return 0
    if b < a:
        return -business_minutes_between(b, a)
    tz = timezone.get_default_timezone()
    local_a, local_b = timezone.localtime(a, tz), timezone.localtime(b, tz)
    calendar = WorkingCalendar(local_a.date(), local_b.date())
    total = dt.timedelta(0)
    for day in calendar.working_days():
        for opens, closes in _day_windows(day, tz):
            begin, end = max(opens, local_a), min(closes, local_b)
            if end > begin:
                total += end - begin
    return total // _MINUTE
