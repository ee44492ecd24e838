"""Real races on PostgreSQL: investigators acting on one case at the same moment, each with their own
connection; reports of one victim arriving together end in one case; numbers never repeat."""

from __future__ import annotations

import pytest

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises.models import EnterpriseLock
from bizreg.investigations.models import CaseEvent, InvestigationCase, Report
from bizreg.investigations.services import cases as services
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.testing.concurrency import race

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles and
# streets the migrations loaded.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def act(case_pk: int, actor, step):
    """What a request does: load the case on its own connection, then take the step."""

    def call():
        return step(InvestigationCase.objects.get(pk=case_pk), actor)

    return call


def test_two_investigators_accepting_one_case_one_wins(
    receive, enterprise, investigator, second_investigator
):
    company = enterprise()
    case = receive(company).case

    def accept(fresh, actor):
        return services.case_accept(case=fresh, actor=actor)

    outcomes = race(act(case.pk, investigator, accept), act(case.pk, second_investigator, accept))
    won = [o for o in outcomes if isinstance(o, InvestigationCase)]
    lost = [o for o in outcomes if isinstance(o, TransitionNotAllowed)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "已被他人处理" in str(lost[0]) or "当前状态为“调查中”" in str(lost[0])
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    assert EnterpriseLock.objects.filter(enterprise=company, released_at__isnull=True).count() == 1
    case.refresh_from_db()
    assert case.assigned_to == won[0].assigned_to


def test_accept_and_not_accept_at_once_leave_one_decision(receive, investigator, second_investigator):
    case = receive().case
    outcomes = race(
        act(case.pk, investigator, lambda c, a: services.case_accept(case=c, actor=a)),
        act(
            case.pk,
            second_investigator,
            lambda c, a: services.case_not_accept(case=c, actor=a, reason="不属冒用"),
        ),
    )
    assert sum(isinstance(o, InvestigationCase) for o in outcomes) == 1, outcomes
    assert CaseEvent.objects.filter(case=case, action__in=["accept", "not_accept"]).count() == 1


def test_reports_of_one_victim_at_once_end_in_one_case(receive, enterprise):
    company = enterprise()
    outcomes = race(*[lambda: receive(company) for _ in range(4)])
    assert all(isinstance(o, Report) for o in outcomes), outcomes
    assert InvestigationCase.objects.count() == 1
    assert Report.objects.count() == 4
    assert Report.objects.exclude(merged_reason="").count() == 3


def test_concurrent_intakes_never_share_a_number(receive, enterprise):
    from bizreg.core.identifiers import build_resident_id

    companies = [enterprise() for _ in range(5)]

    def intake(n):
        victim = build_resident_id("440115", __import__("datetime").date(1970 + n, 1, 1), 500 + n)
        return lambda: receive(
            companies[n], reporter={"name": f"受害人{n}", "id_number": victim, "phone": ""}
        )

    outcomes = race(*[intake(n) for n in range(5)])
    assert all(isinstance(o, Report) for o in outcomes), outcomes
    numbers = list(InvestigationCase.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 5
