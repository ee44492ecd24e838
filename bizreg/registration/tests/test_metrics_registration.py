"""The registration figures on small hand-computed fixtures (2023 calendar: 劳动节 4/29–5/3 off)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from bizreg.core.metrics_registry import get_metric
from bizreg.registration import metrics
from bizreg.registration.models import (
    CasePause,
    CaseState,
    LicenceBatch,
    LicenceSheet,
    MailPackage,
    Notice,
    RegistrationCase,
    ServiceRecord,
)
from bizreg.registration.services.cases import case_working_days
from bizreg.registration.tests.records_fixtures import at, make_case

TZ = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db

MAY = (dt.date(2023, 4, 1), dt.date(2023, 6, 1))
D = dt.date


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


def decided(authority, accepted: dt.date, decided_on: dt.date, due: dt.date, state=CaseState.APPROVED, **kw):
    return make_case(
        authority,
        state=state,
        received_at=at(accepted, 9),
        accepted_at=at(accepted, 10),
        decided_at=at(decided_on, 16),
        due_on=due,
        **kw,
    )


@pytest.fixture
def processing(authority, other_authority):
    """Five cases decided in the period, worked out by hand:

    A accepted Thu 4/27, decided Thu 5/4: 4/28 + 5/4 (4/29–5/3 holiday) = 2, due 5/5 → on time
    B accepted Mon 5/8, decided the same day = 0, due 5/11 → on time
    C accepted Mon 5/8, decided Mon 5/15: 5/9–5/12 + 5/15 = 5, less a pause 5/9–5/11 (5/10, 5/11) = 3,
      due 5/11 → late
    D accepted Mon 5/8, extended, decided Tue 5/16: 6, due 5/16 → on time
    E rejected: accepted Mon 5/22, decided Wed 5/24 = 2, due 5/25 → on time
    mean 13/5 = 2.60; P90 (rank ⌈4.5⌉ = 5 of 0,2,2,3,6) = 6; on time 4/5 = 80 %.
    """
    cases = {
        "A": decided(authority, D(2023, 4, 27), D(2023, 5, 4), D(2023, 5, 5)),
        "B": decided(authority, D(2023, 5, 8), D(2023, 5, 8), D(2023, 5, 11), on_the_spot=True),
        "C": decided(authority, D(2023, 5, 8), D(2023, 5, 15), D(2023, 5, 11)),
        "D": decided(authority, D(2023, 5, 8), D(2023, 5, 16), D(2023, 5, 16), extended=True),
        "E": decided(authority, D(2023, 5, 22), D(2023, 5, 24), D(2023, 5, 25), state=CaseState.REJECTED),
    }
    CasePause.objects.create(case=cases["C"], started_on=D(2023, 5, 9), ended_on=D(2023, 5, 11))
    # Not counted: decided after the period, never accepted, still open, another authority.
    decided(authority, D(2023, 5, 30), D(2023, 6, 1), D(2023, 6, 2))
    make_case(authority, state=CaseState.WITHDRAWN, received_at=at(D(2023, 5, 8)))
    make_case(authority, state=CaseState.ACCEPTED, accepted_at=at(D(2023, 5, 29)), due_on=D(2023, 6, 1))
    decided(other_authority, D(2023, 5, 8), D(2023, 5, 31), D(2023, 5, 11))
    return cases


def test_mean_p90_on_time(authority, processing):
    ids = [authority.pk]
    assert metrics.mean_processing_working_days(ids, *MAY) == Decimal("2.60")
    assert metrics.p90_processing_working_days(ids, *MAY) == Decimal(6)
    assert metrics.on_time_rate(ids, *MAY) == Decimal("80.00")


def test_working_days_follow_the_case_rule(authority, processing):
    """The fast per-period computation gives each case what services.cases.case_working_days gives it."""
    computed = sorted(
        c.working_days for c in metrics.decided_cases([authority.pk], *MAY) for _ in range(c.count)
    )
    expected = sorted(case_working_days(case) for case in processing.values())
    assert computed == expected == [0, 2, 2, 3, 6]


def test_year_on_year_change(authority, processing):
    # A year earlier: 3 and 2 working days (Mon 5/9/2022 → Thu 5/12 and → Wed 5/11), mean 2.5.
    decided(authority, D(2022, 5, 9), D(2022, 5, 12), D(2022, 5, 12))
    decided(authority, D(2022, 5, 9), D(2022, 5, 11), D(2022, 5, 12))
    # (2.6 − 2.5) ÷ 2.5 = +4 %
    assert metrics.processing_time_yoy_change([authority.pk], *MAY) == Decimal("4.00")


def test_figures_over_no_cases_are_zero(authority):
    ids = [authority.pk]
    for func in (
        metrics.mean_processing_working_days,
        metrics.p90_processing_working_days,
        metrics.on_time_rate,
        metrics.processing_time_yoy_change,
        metrics.licence_usage_rate,
    ):
        assert func(ids, *MAY) == Decimal(0)


def test_no_earlier_year_gives_no_change(authority, processing):
    assert metrics.processing_time_yoy_change([authority.pk], *MAY) == Decimal(0)


@pytest.fixture
def batch(authority, clerk):
    return LicenceBatch.objects.create(
        authority=authority,
        kind="original",
        serial_start=1,
        serial_end=20,
        unit_cost=Decimal("1.50"),
        received_on=D(2023, 1, 3),
        received_by=clerk,
    )


def sheet(batch, n: int, status: str, used: dt.date | None = None, retired: dt.date | None = None):
    return LicenceSheet.objects.create(
        authority=batch.authority,
        batch=batch,
        kind=batch.kind,
        serial=f"T{n:06d}",
        number=n,
        status=status,
        used_at=at(used) if used else None,
        retired_at=at(retired, 15) if retired else None,
    )


def test_licence_usage_rate(authority, batch):
    """May: 7 printed, 1 spoiled, 1 printed then voided in June, 1 blank voided → 7 valid of 10 consumed."""
    n = iter(range(1, 100))
    for _ in range(7):
        sheet(batch, next(n), "printed", used=D(2023, 5, 10))
    sheet(batch, next(n), "spoiled", used=D(2023, 5, 10), retired=D(2023, 5, 10))
    sheet(batch, next(n), "voided", used=D(2023, 5, 11), retired=D(2023, 6, 5))
    sheet(batch, next(n), "voided", retired=D(2023, 5, 12))
    for _ in range(2):
        sheet(batch, next(n), "printed", used=D(2023, 6, 2))
    for _ in range(5):
        sheet(batch, next(n), "blank")
    assert metrics.licence_usage_rate([authority.pk], *MAY) == Decimal("70.00")
    assert metrics.licence_usage_rate([authority.pk], D(2023, 6, 1), D(2023, 7, 1)) == Decimal("100.00")


@pytest.fixture
def volume(authority, other_authority, clerk, batch):
    for day in (D(2023, 4, 3), D(2023, 5, 5), D(2023, 5, 31)):
        make_case(authority, received_at=at(day))
    make_case(authority, received_at=at(D(2023, 6, 1), 0, 1))  # after the period
    make_case(other_authority, received_at=at(D(2023, 5, 5)))
    for day in (D(2023, 4, 1), D(2023, 4, 20), D(2023, 5, 2), D(2023, 5, 31)):
        ServiceRecord.objects.create(
            authority=authority,
            kind="info_entry",
            staff=clerk,
            enterprise_name="某公司",
            occurred_at=at(day),
            minutes=5,
        )
    ServiceRecord.objects.create(
        authority=authority,
        kind="info_entry",
        staff=clerk,
        enterprise_name="某公司",
        occurred_at=at(D(2023, 3, 31), 23),
        minutes=5,
    )
    sheet(batch, 1, "printed", used=D(2023, 5, 2))
    sheet(batch, 2, "printed", used=D(2023, 5, 2))
    sheet(batch, 3, "spoiled", used=D(2023, 5, 2), retired=D(2023, 5, 2))
    for n, day in enumerate((D(2023, 4, 10), D(2023, 5, 10), D(2023, 7, 1))):
        MailPackage.objects.create(
            authority=authority,
            direction="inbound",
            courier="sf",
            tracking_number=f"SF14{n:011d}",
            enterprise_name="某公司",
            documents="变更申请书",
            recorded_at=at(day),
            recorded_by=clerk,
        )
    case = make_case(authority, received_at=at(D(2023, 4, 3)))
    Notice.objects.create(
        authority=authority,
        case=case,
        kind="acceptance",
        number="测试受理〔2023〕1号",
        verification_code="ABCD1234EFGH5678",
        issued_at=at(D(2023, 4, 3)),
        issued_by=clerk,
    )


def test_business_volume_default_definition(authority, volume):
    # cases 3 (+1 case received 4/3 for the notice) + records 4 + valid licences 2 + mail 2 = 12
    assert metrics.business_volume([authority.pk], *MAY) == Decimal(12)
    breakdown = metrics.business_volume_breakdown([authority.pk], *MAY)
    assert breakdown == {
        "cases_received": 4,
        "service_records": 4,
        "licences_printed": 2,
        "mail_packages": 2,
        "notices_issued": 1,
        "follow_up_contacts": 0,
    }
    assert metrics.info_entries_and_guidance([authority.pk], *MAY) == Decimal(4)
    assert metrics.cases_received([authority.pk], *MAY) == Decimal(4)


def test_business_volume_is_configurable(authority, volume, settings):
    settings.REGISTRATION_BUSINESS_VOLUME_KINDS = ("cases_received", "notices_issued")
    assert metrics.business_volume([authority.pk], *MAY) == Decimal(5)
    settings.REGISTRATION_BUSINESS_VOLUME_KINDS = ("cases_received", "phone_calls")
    with pytest.raises(ImproperlyConfigured, match="phone_calls"):
        metrics.business_volume([authority.pk], *MAY)


def test_metrics_are_registered_by_key():
    for key in (
        "registration.business_volume",
        "registration.info_entries_and_guidance",
        "registration.licence_usage_rate",
        "registration.mean_processing_working_days",
        "registration.p90_processing_working_days",
        "registration.on_time_rate",
        "registration.processing_time_yoy_change",
    ):
        metric = get_metric(key)
        assert metric.definition and metric.unit


def test_processing_figures_drill_down_to_the_decided_cases(authority, processing, clerk):
    """The mean/P90/on-time figures link to the case list filtered to exactly the cases they count."""
    from bizreg.registration.selectors.cases import case_search

    for key in (
        "registration.mean_processing_working_days",
        "registration.p90_processing_working_days",
        "registration.on_time_rate",
        "registration.processing_time_yoy_change",
    ):
        url = get_metric(key).records_url([authority.pk], *MAY)
        assert (
            url.startswith("/registration/")
            and "decided_from=2023-04-01" in url
            and "decided_to=2023-05-31" in url
        )
    listed = case_search(user=clerk, params={"decided_from": "2023-04-01", "decided_to": "2023-05-31"})
    assert {c.pk for c in listed} == {c.pk for c in processing.values()}


def test_stored_decision_clocks_give_the_same_figures_as_recounting(authority, processing):
    """Cases decided through the service keep their working days and punctuality; the figures added up
    from those stored values equal the figures recounted from the dates and pauses."""
    ids = [authority.pk]
    recounted = (
        metrics.mean_processing_working_days(ids, *MAY),
        metrics.p90_processing_working_days(ids, *MAY),
        metrics.on_time_rate(ids, *MAY),
    )
    for case in processing.values():
        RegistrationCase.objects.filter(pk=case.pk).update(
            processing_working_days=case_working_days(case),
            decided_on_time=case.decided_at.astimezone(TZ).date() <= case.due_on,
        )
    stored = [c for c in metrics.decided_cases(ids, *MAY) if c.accepted_on is None]
    assert sum(c.count for c in stored) == 5  # all five now come from the stored values
    assert (
        (
            metrics.mean_processing_working_days(ids, *MAY),
            metrics.p90_processing_working_days(ids, *MAY),
            metrics.on_time_rate(ids, *MAY),
        )
        == recounted
        == (Decimal("2.60"), Decimal(6), Decimal("80.00"))
    )
