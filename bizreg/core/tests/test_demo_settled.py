"""The demo year is looked at years later: what it received is worked on into the next year's first
quarter (core.demo.DemoContext.settled_until), so no list of any module shows the demo's work as years
overdue today — each checked by the module's own overdue rule, the one its lists and badges use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from bizreg.archives.models import AccessRequest, ArchiveFile, ArchiveStatus, BorrowRequest, BorrowState
from bizreg.archives.selectors.access import OPEN_STATES as OPEN_ACCESS_STATES
from bizreg.core.models import Authority
from bizreg.core.workdays import add_working_days
from bizreg.enterprises.models import EnterpriseLock
from bizreg.investigations.models import CaseState, InvestigationCase
from bizreg.investigations.selectors.cases import overdue_q as investigation_overdue_q
from bizreg.testing.demo import demo_year_fixture
from bizreg.tracking.models import (
    Appeal,
    AppealState,
    BusinessIssue,
    ImprovementMeasure,
    MeasureState,
    PlanState,
    Visit,
    VisitPlan,
)
from bizreg.tracking.selectors.plans import OPEN_STATES as OPEN_PLAN_STATES
from bizreg.tracking.services.appeals import overdue_q as appeal_overdue_q

SCALE = 0.01
YEAR = 2023
YEAR_END = dt.date(YEAR, 12, 31)


demo_year = demo_year_fixture(SCALE)


pytestmark = pytest.mark.django_db


def _authority() -> Authority:
    return Authority.objects.get(code="440115")


def test_no_investigation_case_is_overdue_and_the_years_open_cases_went_on(demo_year):
    cases = InvestigationCase.objects.filter(authority=_authority())
    assert cases.exists()
    assert not cases.filter(investigation_overdue_q(timezone.localdate())).exists()
    # Every report of the year was received within it; work went on after it (the cases received since are
    # investigations.today's, below).
    assert cases.filter(created_at__date__gt=YEAR_END).count() == 2


def test_the_investigator_has_work_in_hand_from_the_last_working_day(demo_year):
    """investigations.today: a referral accepted with its field check assigned (the enterprise locked) and a
    victim's report waiting to be accepted, both received on the last working day, through the services."""
    last = add_working_days(timezone.localdate(), -1)
    current = InvestigationCase.objects.filter(authority=_authority(), created_at__date__gt=YEAR_END)
    assert {(timezone.localtime(c.created_at).date(), c.state) for c in current} == {
        (last, CaseState.INVESTIGATING),
        (last, CaseState.RECEIVED),
    }
    investigating = current.get(state=CaseState.INVESTIGATING)
    assert investigating.field_checks.filter(assigned_to__username="investigator").exists()
    assert EnterpriseLock.objects.filter(case_reference=investigating.number, released_at=None).exists()
    assert not current.filter(investigation_overdue_q(timezone.localdate())).exists()


def test_no_visit_plan_appeal_or_measure_is_overdue(demo_year):
    authority = _authority()
    today = timezone.localdate()
    plans = VisitPlan.objects.filter(authority=authority)
    assert not plans.filter(state__in=OPEN_PLAN_STATES, due_on__lt=today).exists()
    cancelled = plans.filter(state=PlanState.CANCELLED)
    assert cancelled.exists() and not cancelled.filter(cancel_reason="").exists()
    # The year's last plans were visited in the next year.
    assert Visit.objects.filter(authority=authority, visited_on__gt=YEAR_END).exists()
    appeals = Appeal.objects.filter(authority=authority)
    assert not appeals.filter(appeal_overdue_q(today)).exists()
    assert not appeals.exclude(state=AppealState.CLOSED).filter(raised_on__lt=today - dt.timedelta(days=90))
    measures = ImprovementMeasure.objects.filter(issue__authority=authority)
    assert not measures.exclude(state=MeasureState.DONE).filter(due_on__lt=today).exists()
    issues = BusinessIssue.objects.filter(authority=authority)
    assert issues.count() == issues.filter(state="resolved").count() == 8


def test_no_loan_or_archive_query_is_overdue(demo_year):
    authority = _authority()
    now = timezone.now()
    loans = BorrowRequest.objects.filter(authority=authority)
    assert not loans.filter(state=BorrowState.LENT, due_at__lt=now).exists()
    assert not ArchiveFile.objects.filter(authority=authority, status=ArchiveStatus.LENT).exists()
    # The three lent in the year's last weeks came back in January, one after its due date.
    year_end_loans = loans.filter(lent_at__date__gt=YEAR_END - dt.timedelta(days=21))
    assert year_end_loans.count() == 3
    assert all(loan.returned_at.year == YEAR + 1 for loan in year_end_loans)
    assert year_end_loans.filter(returned_at__gt=F("due_at")).count() == 1
    queries = AccessRequest.objects.filter(authority=authority)
    assert not queries.filter(state__in=OPEN_ACCESS_STATES, due_at__lt=now).exists()
