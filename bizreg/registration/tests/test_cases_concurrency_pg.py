"""Real races on PostgreSQL: clerks acting on one case at the same moment, each with their own connection;
many intakes at once never share a case number."""

from __future__ import annotations

import pytest

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises.models import Enterprise
from bizreg.registration.models import CaseTransitionLog, Notice, NoticeKind, RegistrationCase
from bizreg.registration.services import cases as services
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures
from bizreg.testing.concurrency import race

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles, streets
# and materials checklist the migrations loaded.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("private_media"),
]


def act(case_pk: int, action: str, actor):
    """What a request does: load the case on its own connection, then take the step."""

    def call():
        case = RegistrationCase.objects.get(pk=case_pk)
        return services.case_transition(case=case, action=action, actor=actor)

    return call


def test_two_clerks_accepting_one_case_one_wins(intake, step, clerk, second_clerk):
    case = step(intake(), "pass_pre_review")
    outcomes = race(act(case.pk, "accept", clerk), act(case.pk, "accept", second_clerk))
    won = [o for o in outcomes if isinstance(o, RegistrationCase)]
    lost = [o for o in outcomes if isinstance(o, TransitionNotAllowed)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "该业务已被他人处理，当前状态为“已受理”" in str(lost[0])
    assert CaseTransitionLog.objects.filter(case=case, action="accept").count() == 1
    assert Notice.objects.filter(case=case, kind=NoticeKind.ACCEPTANCE).count() == 1


def test_two_clerks_approving_one_establishment_create_one_enterprise(intake, step, clerk, second_clerk):
    case = step(step(intake(), "pass_pre_review"), "accept")
    outcomes = race(act(case.pk, "approve", clerk), act(case.pk, "approve", second_clerk))
    assert sum(isinstance(o, RegistrationCase) for o in outcomes) == 1, outcomes
    lost = [o for o in outcomes if isinstance(o, TransitionNotAllowed)]
    assert len(lost) == 1 and "该业务已被他人处理" in str(lost[0])
    assert CaseTransitionLog.objects.filter(case=case, action="approve").count() == 1
    assert Enterprise.objects.filter(name=case.enterprise_name).count() == 1
    assert Notice.objects.filter(case=case, kind=NoticeKind.APPROVAL_ESTABLISHMENT).count() == 1


def test_approve_and_reject_at_once_leave_one_decision(intake, step, clerk, second_clerk):
    case = step(step(intake(), "pass_pre_review"), "accept")

    def reject():
        fresh = RegistrationCase.objects.get(pk=case.pk)
        return services.case_transition(
            case=fresh, action="reject", actor=second_clerk, reason="名称不符合规定"
        )

    outcomes = race(act(case.pk, "approve", clerk), reject)
    assert sum(isinstance(o, RegistrationCase) for o in outcomes) == 1, outcomes
    assert CaseTransitionLog.objects.filter(case=case, action__in=["approve", "reject"]).count() == 1
    case.refresh_from_db()
    assert case.state in ("approved", "rejected")


def test_concurrent_intakes_get_distinct_consecutive_numbers(intake, clerk, second_clerk):
    def many(actor):
        return lambda: [intake(actor=actor).number for _ in range(5)]

    outcomes = race(*(many(clerk if i % 2 else second_clerk) for i in range(8)))
    assert all(isinstance(o, list) for o in outcomes), outcomes
    numbers = [n for batch in outcomes for n in batch]
    assert len(set(numbers)) == 40
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 41))
