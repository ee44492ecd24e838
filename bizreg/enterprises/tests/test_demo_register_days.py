"""The generated register dates its registration decisions on working days, as the registration demo's
cases decide (each approved 设立 takes the register's entry of its decision day)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bizreg.core.workdays import scheduled_working_day
from bizreg.enterprises import demo
from bizreg.enterprises.models import Street

pytestmark = pytest.mark.django_db


def test_establishments_closings_and_renames_fall_on_working_days():
    generated = list(
        demo.generate_enterprises(
            rng=random.Random(7),
            count=3000,
            year=2023,
            division_code="440115",
            street_ids=dict(Street.objects.values_list("code", "id")),
            ftz_rules=[],
        )
    )
    days = [
        day
        for e in generated
        for day in (e.established_on, e.status_changed_on, e.renamed_on)
        if day is not None
    ]
    assert len(days) > 3000
    assert [day for day in days if not scheduled_working_day(day)] == []
    # The Spring Festival week of the demo year and its weekends hold none; its make-up Saturday may.
    assert not any(dt.date(2023, 1, 21) <= day <= dt.date(2023, 1, 27) for day in days)
    # Every weekday of the year is drawn about equally (no pile-up on the Monday after a weekend).
    by_weekday = [sum(1 for d in days if d.year >= 2015 and d.weekday() == w) for w in range(5)]
    assert max(by_weekday) < 1.25 * min(by_weekday), by_weekday


def test_the_identity_ring_was_registered_on_working_days():
    ring = demo.identity_misuse_ring(2023)
    assert [e.established_on for e in ring.enterprises if not scheduled_working_day(e.established_on)] == []


def test_scheduled_working_days_follow_the_official_schedule_and_weekdays_before_it():
    assert not scheduled_working_day(dt.date(2023, 10, 2))  # National Day holiday, a Monday
    assert scheduled_working_day(dt.date(2023, 10, 7))  # its make-up Saturday
    assert scheduled_working_day(dt.date(2001, 10, 2))  # before chinesecalendar's years: a Tuesday
    assert not scheduled_working_day(dt.date(2001, 10, 6))  # a Saturday
