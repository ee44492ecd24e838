"""The demo year of enterprise tracking: plans from the demo register, visits whose answers pass the
questionnaire's own check, appeals whose events tell their state, the year's migrations with the reasons
learnt at the visits, the watch list, issues and the year's last quarterly and monthly reports — all
through the real figures."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pytest

from bizreg.core.metrics_registry import get_metric
from bizreg.core.models import Authority
from bizreg.registration.models import CaseState, CaseType, RegistrationCase
from bizreg.testing.demo import demo_year_fixture
from bizreg.tracking.models import (
    Appeal,
    AppealState,
    BusinessIssue,
    Migration,
    NumberCounter,
    PlanReason,
    PlanState,
    TrackingReport,
    Visit,
    VisitPlan,
    VisitState,
    WatchEntry,
)
from bizreg.tracking.services.questionnaires import answers_clean

SCALE = 0.01
YEAR = 2023


demo_year = demo_year_fixture(SCALE)


pytestmark = pytest.mark.django_db


def _authority() -> Authority:
    return Authority.objects.get(code="440115")


def test_plans_come_from_the_register_and_the_move_out_cases(demo_year):
    assert demo_year.index("registration.year") < demo_year.index("tracking.year")
    authority = _authority()
    plans = VisitPlan.objects.filter(authority=authority)
    reasons = Counter(plans.values_list("reason", flat=True))
    assert reasons[PlanReason.NEW_ENTERPRISE] > 0 and reasons[PlanReason.MOVE_OUT] > 0
    # Every move-out application of the year for an enterprise of the register has its plan, named by its
    # case (the registration demo also has 迁出 cases of enterprises it did not put in the register).
    move_outs = set(
        RegistrationCase.objects.filter(
            authority=authority,
            case_type=CaseType.MIGRATION_OUT,
            received_at__year=YEAR,
            enterprise__isnull=False,
        )
        .exclude(state__in=(CaseState.REJECTED, CaseState.WITHDRAWN))
        .values_list("number", flat=True)
    )
    planned = set(plans.filter(reason=PlanReason.MOVE_OUT).values_list("source_case_number", flat=True))
    assert move_outs and move_outs <= planned
    assert not plans.filter(
        enterprise__entity_type__in=("individual", "branch"), reason=PlanReason.NEW_ENTERPRISE
    )


def test_visits_answer_the_questionnaire_and_complete_their_plans(demo_year):
    authority = _authority()
    visits = list(Visit.objects.filter(authority=authority).select_related("plan", "questionnaire"))
    assert visits and all(v.state == VisitState.SUBMITTED for v in visits)
    for visit in visits[:300]:
        # The stored answers are what the service's own check returns for them.
        assert answers_clean(questionnaire=visit.questionnaire, answers=visit.answers) == visit.answers
        assert visit.findings and visit.plan.state == PlanState.DONE
        assert visit.plan.enterprise_id == visit.enterprise_id
        assert bool(visit.move_out_reason) == (visit.plan.reason == PlanReason.MOVE_OUT)
    numbers = [v.number for v in visits]
    assert len(set(numbers)) == len(numbers)
    # Numbered per year: the year's last plans were visited in the next (test_demo_settled).
    per_year = Counter(v.visited_on.year for v in visits)
    assert set(per_year) == {YEAR, YEAR + 1}
    counters = NumberCounter.objects.filter(authority=authority, kind="visit")
    assert {c.year: c.last for c in counters} == dict(per_year)


def test_appeals_events_tell_their_state_and_closed_ones_carry_feedback_and_satisfaction(demo_year):
    authority = _authority()
    appeals = list(Appeal.objects.filter(authority=authority).prefetch_related("events"))
    assert appeals
    states = Counter(a.state for a in appeals)
    assert states[AppealState.CLOSED] > 0
    for appeal in appeals:
        events = list(appeal.events.all())
        assert events[0].action == "raise" and events[-1].to_state == appeal.state
        assert appeal.visit.enterprise_id == appeal.enterprise_id
        if appeal.state == AppealState.CLOSED:
            assert appeal.feedback and appeal.satisfaction and appeal.closed_on_time is not None
        if appeal.state != AppealState.REGISTERED:
            assert appeal.department and appeal.due_on >= appeal.routed_on
    on_time = get_metric("tracking.appeals_closed_on_time_rate").compute(
        [authority.pk], dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    )
    assert 50 <= on_time <= 100


def test_visits_and_appeals_were_recorded_by_their_officers_not_the_manager(demo_year):
    """The "created" history rows name who recorded each visit and appeal, so every officer's "我的最近操作"
    shows their own work (the loader used to write the manager on all of them)."""
    authority = _authority()
    visits = dict(Visit.objects.filter(authority=authority).values_list("pk", "officer_id"))
    assert visits
    assert dict(Visit.history.filter(history_type="+").values_list("id", "history_user_id")) == visits
    raised_by = {
        appeal.pk: appeal.events.get(action="raise").actor_id
        for appeal in Appeal.objects.filter(authority=authority).prefetch_related("events")
    }
    assert raised_by
    assert dict(Appeal.history.filter(history_type="+").values_list("id", "history_user_id")) == raised_by
    assert len(set(raised_by.values())) > 1


def test_migrations_copy_the_decided_cases_with_the_visit_reasons(demo_year):
    authority = _authority()
    decided = RegistrationCase.objects.filter(
        authority=authority,
        case_type__in=(CaseType.MIGRATION_IN, CaseType.MIGRATION_OUT),
        state__in=(CaseState.APPROVED, CaseState.LICENSED, CaseState.ARCHIVED),
    ).exclude(decided_at=None)
    assert Migration.objects.filter(authority=authority).count() == decided.count() > 0
    visited = dict(
        Visit.objects.filter(authority=authority)
        .exclude(move_out_reason="")
        .values_list("enterprise_id", "move_out_reason")
    )
    outs = Migration.objects.filter(authority=authority, direction="out", enterprise_id__in=list(visited))
    for migration in outs:
        assert migration.reason == visited[migration.enterprise_id]
    net = get_metric("tracking.net_migration").compute(
        [authority.pk], dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    )
    moved = Migration.objects.filter(authority=authority, moved_on__year=YEAR)
    assert net == moved.filter(direction="in").count() - moved.filter(direction="out").count()


def test_watch_list_issues_and_quarterly_reports(demo_year):
    authority = _authority()
    assert WatchEntry.objects.filter(authority=authority).exists()
    assert all(e.detail for e in WatchEntry.objects.filter(authority=authority))
    issues = BusinessIssue.objects.filter(authority=authority)
    # All resolved, the later issues' measures taking longer: some after the Q4 report, in the next year.
    assert issues.count() == 8 and issues.filter(state="resolved").count() == 8
    assert issues.filter(resolved_on__year=YEAR + 1).exists()
    reports = list(TrackingReport.objects.filter(authority=authority).order_by("period_start"))
    assert sorted(r.number for r in reports) == [f"跟踪报告{YEAR}M12-1", f"跟踪报告{YEAR}Q4-1"]
    for report in reports:
        with report.pdf.open("rb") as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == report.pdf_sha256
    completion = get_metric("tracking.visits_completion_rate").compute(
        [authority.pk], dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    )
    assert 0 < completion <= 100
