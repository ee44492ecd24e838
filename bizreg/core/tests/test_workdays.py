"""Working-day arithmetic on real Chinese holidays, the override table, and years without data."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bizreg.core.models import WorkingCalendarYear, WorkingDayOverride
from bizreg.core.workdays import (
    _LIBRARY_YEARS,
    CalendarDataMissing,
    add_working_days,
    is_working_day,
    working_days_between,
)

D = dt.date
FIRST_YEAR_WITHOUT_DATA = max(_LIBRARY_YEARS) + 1

pytestmark = pytest.mark.django_db


def test_national_day_2023_holiday_and_makeup_workdays():
    # 国庆 + 中秋 2023: 09-29 … 10-06 off; Saturday 10-07 and Sunday 10-08 are 调休 working days.
    for day in range(29, 31):
        assert not is_working_day(D(2023, 9, day))
    for day in range(1, 7):
        assert not is_working_day(D(2023, 10, day))
    assert is_working_day(D(2023, 10, 7))
    assert is_working_day(D(2023, 10, 8))
    assert add_working_days(D(2023, 9, 28), 1) == D(2023, 10, 7)
    assert add_working_days(D(2023, 9, 28), 2) == D(2023, 10, 8)
    assert add_working_days(D(2023, 9, 28), 3) == D(2023, 10, 9)
    assert working_days_between(D(2023, 9, 28), D(2023, 10, 9)) == 3


def test_three_working_day_deadline_over_a_weekend():
    # A case accepted on Friday 2023-03-03 is due three working days later, on Wednesday.
    assert add_working_days(D(2023, 3, 3), 3) == D(2023, 3, 8)
    assert working_days_between(D(2023, 3, 3), D(2023, 3, 8)) == 3


def test_negative_and_zero_days():
    assert add_working_days(D(2023, 10, 9), -1) == D(2023, 10, 8)
    assert add_working_days(D(2023, 10, 9), -3) == D(2023, 9, 28)
    assert add_working_days(D(2023, 10, 9), 0) == D(2023, 10, 9)
    assert working_days_between(D(2023, 10, 9), D(2023, 9, 28)) == -3
    assert working_days_between(D(2023, 5, 5), D(2023, 5, 5)) == 0


def test_spring_festival_2023_long_span():
    # 春节 2023: 01-21 … 01-27 off, 01-28/29 (Sat/Sun) worked.
    assert add_working_days(D(2023, 1, 20), 1) == D(2023, 1, 28)
    assert working_days_between(D(2023, 1, 1), D(2023, 12, 31)) == 249


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.dates(min_value=D(2022, 1, 1), max_value=D(2025, 12, 31)),
    days=st.integers(min_value=0, max_value=60),
)
def test_working_days_between_inverts_add_working_days(start, days):
    end = add_working_days(start, days)
    assert working_days_between(start, end) == days
    assert end == start or is_working_day(end)


def test_override_turns_a_working_day_into_a_rest_day():
    WorkingDayOverride.objects.create(date=D(2023, 10, 9), is_working_day=False, note="台风停工")
    assert not is_working_day(D(2023, 10, 9))
    assert add_working_days(D(2023, 9, 28), 3) == D(2023, 10, 10)
    assert working_days_between(D(2023, 9, 28), D(2023, 10, 10)) == 3


def test_override_turns_a_holiday_into_a_working_day():
    WorkingDayOverride.objects.create(date=D(2023, 10, 2), is_working_day=True)
    assert add_working_days(D(2023, 9, 28), 1) == D(2023, 10, 2)


def test_year_without_calendar_data_fails_loudly_in_chinese():
    assert FIRST_YEAR_WITHOUT_DATA >= 2027
    start = D(FIRST_YEAR_WITHOUT_DATA, 3, 1)
    with pytest.raises(CalendarDataMissing) as info:
        add_working_days(start, 5)
    assert info.value.year == FIRST_YEAR_WITHOUT_DATA
    assert f"{FIRST_YEAR_WITHOUT_DATA} 年的工作日历尚无数据" in str(info.value)
    with pytest.raises(CalendarDataMissing):
        working_days_between(D(FIRST_YEAR_WITHOUT_DATA - 1, 12, 1), start)
    with pytest.raises(CalendarDataMissing):
        is_working_day(start)


def test_a_deadline_before_the_year_end_needs_no_data_for_the_next_year():
    # Early December: three working days later is still this year, although the span the arithmetic
    # loads reaches into January.
    last_year_with_data = FIRST_YEAR_WITHOUT_DATA - 1
    assert add_working_days(D(last_year_with_data, 12, 1), 3) <= D(last_year_with_data, 12, 31)
    assert working_days_between(D(last_year_with_data, 12, 1), D(last_year_with_data, 12, 11)) > 0


def test_a_deadline_crossing_into_a_year_without_data_fails_too():
    with pytest.raises(CalendarDataMissing):
        add_working_days(D(FIRST_YEAR_WITHOUT_DATA - 1, 12, 28), 10)


def test_registered_year_uses_weekdays_and_overrides():
    year = FIRST_YEAR_WITHOUT_DATA
    WorkingCalendarYear.objects.create(year=year, note="按国务院办公厅通知人工维护")
    monday = D(year, 3, 1) + dt.timedelta(days=(7 - D(year, 3, 1).weekday()) % 7)
    assert monday.weekday() == 0
    assert add_working_days(monday, 5) == monday + dt.timedelta(days=7)
    WorkingDayOverride.objects.create(date=monday + dt.timedelta(days=1), is_working_day=False, note="放假")
    assert add_working_days(monday, 5) == monday + dt.timedelta(days=8)
    saturday = monday + dt.timedelta(days=5)
    WorkingDayOverride.objects.create(date=saturday, is_working_day=True, note="调休上班")
    assert is_working_day(saturday)
    assert working_days_between(monday, monday + dt.timedelta(days=7)) == 5


def test_a_calendar_is_loaded_in_one_query(django_assert_num_queries):
    year = FIRST_YEAR_WITHOUT_DATA
    WorkingCalendarYear.objects.create(year=year, note="按国务院办公厅通知人工维护")
    WorkingDayOverride.objects.create(date=D(year, 1, 4), is_working_day=False, note="放假")
    WorkingDayOverride.objects.create(date=D(year - 1, 12, 26), is_working_day=False, note="临时放假")
    WorkingDayOverride.objects.create(date=D(year - 1, 12, 27), is_working_day=True, note="调休上班")
    with django_assert_num_queries(1):
        days = working_days_between(D(year - 1, 12, 20), D(year, 1, 10))
    overrides = {D(year, 1, 4): False, D(year - 1, 12, 26): False, D(year - 1, 12, 27): True}
    span = [D(year - 1, 12, 20) + dt.timedelta(days=n) for n in range(1, 22)]
    expected = sum(
        overrides.get(day, chinese_calendar.is_workday(day) if day.year < year else day.weekday() < 5)
        for day in span
    )
    assert days == expected
    with django_assert_num_queries(1):
        assert add_working_days(D(year - 1, 12, 25), 1) == D(year - 1, 12, 27)  # the 26th off, the 27th on
