"""Business-hours arithmetic (sla.py): fixed cases a clerk can check on a calendar, and properties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bizreg.consultation import sla

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0, ss=0):
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=SH)


pytestmark = pytest.mark.django_db


def test_default_day_is_seven_hours():
    assert sla.business_minutes_per_day() == 420


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Tuesday morning, inside the first window.
        (at(2025, 6, 10, 9, 0), 60, at(2025, 6, 10, 10, 0)),
        # Across lunch: 11:30 + 60 → 12:00 then 13:30 + 30.
        (at(2025, 6, 10, 11, 30), 60, at(2025, 6, 10, 14, 0)),
        # Arriving at lunch time starts counting at 13:30.
        (at(2025, 6, 10, 12, 15), 30, at(2025, 6, 10, 14, 0)),
        # Friday 17:00 + 60 → Monday 09:30.
        (at(2025, 6, 13, 17, 0), 60, at(2025, 6, 16, 9, 30)),
        # Saturday night → Monday.
        (at(2025, 6, 14, 22, 0), 10, at(2025, 6, 16, 9, 10)),
        # 国庆 2025: 9/30 (Tue) 17:00 + 60 → 10/9 (Thu) 09:30 (10/1–10/8 holiday).
        (at(2025, 9, 30, 17, 0), 60, at(2025, 10, 9, 9, 30)),
        # 2025-09-28 (Sunday) is a make-up working day.
        (at(2025, 9, 28, 8, 0), 30, at(2025, 9, 28, 9, 30)),
        # A window's end is reached exactly: the deadline is 12:00, not 13:30.
        (at(2025, 6, 10, 11, 0), 60, at(2025, 6, 10, 12, 0)),
        # Two business days from Tuesday 10:00 is Thursday 10:00.
        (at(2025, 6, 10, 10, 0), 840, at(2025, 6, 12, 10, 0)),
        # Zero minutes: the start itself, even outside hours.
        (at(2025, 6, 14, 22, 0), 0, at(2025, 6, 14, 22, 0)),
    ],
)
def test_add_business_minutes(start, minutes, expected):
    assert sla.add_business_minutes(start, minutes) == expected


def test_utc_input_is_read_in_local_time():
    start = at(2025, 6, 10, 9, 0).astimezone(dt.UTC)  # 01:00 UTC
    assert sla.add_business_minutes(start, 30) == at(2025, 6, 10, 9, 30)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (at(2025, 6, 10, 9, 0), at(2025, 6, 10, 17, 30), 420),
        (at(2025, 6, 13, 17, 0), at(2025, 6, 16, 9, 30), 60),
        (at(2025, 6, 10, 12, 0), at(2025, 6, 10, 13, 30), 0),
        (at(2025, 9, 30, 9, 0), at(2025, 10, 9, 9, 0), 420),
        (at(2025, 6, 10, 10, 0), at(2025, 6, 10, 9, 0), -60),
        (at(2025, 6, 10, 9, 0, 30), at(2025, 6, 10, 9, 1, 29), 0),
    ],
)
def test_business_minutes_between(a, b, expected):
    assert sla.business_minutes_between(a, b) == expected


def test_custom_business_hours(settings):
    settings.CONSULTATION_BUSINESS_HOURS = [("08:30", "12:00"), ("14:00", "18:00")]
    assert sla.business_minutes_per_day() == 450
    assert sla.add_business_minutes(at(2025, 6, 10, 11, 45), 30) == at(2025, 6, 10, 14, 15)


@pytest.mark.parametrize(
    "hours",
    [[("12:00", "09:00")], [("09:00", "12:00"), ("11:00", "13:00")], [("9点", "12:00")], []],
)
def test_bad_business_hours_are_refused(settings, hours):
    settings.CONSULTATION_BUSINESS_HOURS = hours or [("x", "y")]
    with pytest.raises(ImproperlyConfigured):
        sla.business_minutes_per_day()


_starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2025, 12, 20), timezones=st.just(SH)
)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=_starts, minutes=st.integers(min_value=0, max_value=3000))
def test_between_inverts_add(start, minutes):
    end = sla.add_business_minutes(start, minutes)
    assert end >= start
    assert sla.business_minutes_between(start, end) == minutes


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=_starts, first=st.integers(min_value=1, max_value=1500), second=st.integers(0, 1500))
def test_adding_in_two_steps_equals_adding_once(start, first, second):
    """Why moving a deadline by the paused minutes equals recomputing it with them."""
    stepwise = sla.add_business_minutes(sla.add_business_minutes(start, first), second)
    assert stepwise == sla.add_business_minutes(start, first + second)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=_starts, b=_starts, c=_starts)
def test_between_is_additive(a, b, c):
    a, b, c = sorted([a, b, c])
    assert sla.business_minutes_between(a, c) - sla.business_minutes_between(
        a, b
    ) - sla.business_minutes_between(b, c) in (0, 1)  # whole minutes rounded down in each part
