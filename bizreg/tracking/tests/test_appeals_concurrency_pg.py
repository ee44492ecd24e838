"""Real races on PostgreSQL, each call on its own connection: two officers closing one appeal at once (one
wins, the other is told), a close racing a reopen, an answer racing a re-route, and appeals raised together
never sharing a number."""

from __future__ import annotations

import pytest

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.testing.concurrency import race
from bizreg.tracking.models import Appeal, AppealEvent, AppealState
from bizreg.tracking.services import appeals as services
from bizreg.tracking.tests.fixtures_appeals import *  # noqa: F403 — fixtures

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles and
# streets the migrations loaded.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("appeal_clock"),
]


def act(appeal_pk: int, step):
    """What a request does: load the appeal on its own connection, then take the step."""

    def call():
        return step(Appeal.objects.get(pk=appeal_pk))

    return call


def test_two_officers_closing_at_once_one_wins(answered_appeal, officer, second_officer):
    appeal = answered_appeal()
    outcomes = race(
        act(appeal.pk, lambda a: services.appeal_close(appeal=a, actor=officer, satisfaction=5)),
        act(appeal.pk, lambda a: services.appeal_close(appeal=a, actor=second_officer, satisfaction=1)),
    )
    won = [o for o in outcomes if isinstance(o, Appeal)]
    lost = [o for o in outcomes if isinstance(o, TransitionNotAllowed)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "已被他人处理" in str(lost[0]) or "不能执行“办结”" in str(lost[0])
    assert AppealEvent.objects.filter(appeal=appeal, action="close").count() == 1
    appeal.refresh_from_db()
    assert appeal.state == AppealState.CLOSED and appeal.satisfaction == won[0].satisfaction


def test_close_and_reopen_at_once_leave_one_step(answered_appeal, officer, second_officer):
    appeal = answered_appeal()
    outcomes = race(
        act(appeal.pk, lambda a: services.appeal_close(appeal=a, actor=officer, satisfaction=4)),
        act(appeal.pk, lambda a: services.appeal_reopen(appeal=a, actor=second_officer, reason="答复不完整")),
    )
    assert sum(isinstance(o, Appeal) for o in outcomes) == 1, outcomes
    assert AppealEvent.objects.filter(appeal=appeal, action__in=["close", "reopen"]).count() == 1


def test_an_answer_racing_a_reroute_never_lands_on_the_wrong_department(
    routed_appeal, officer, member, other_department
):
    appeal = routed_appeal()
    outcomes = race(
        act(appeal.pk, lambda a: services.appeal_answer(appeal=a, actor=member, feedback="已办理")),
        act(appeal.pk, lambda a: services.appeal_route(appeal=a, department=other_department, actor=officer)),
    )
    assert all(isinstance(o, Appeal | TransitionNotAllowed) for o in outcomes), outcomes
    appeal.refresh_from_db()
    assert sum(isinstance(o, Appeal) for o in outcomes) == 1, outcomes
    # Either the answer came first (and the re-route was refused) or the re-route did (and the answer was).
    if appeal.state == AppealState.ANSWERED:
        assert appeal.department_id != other_department.pk and appeal.answered_by == member
    else:
        assert appeal.state == AppealState.ROUTED and appeal.department_id == other_department.pk
        assert appeal.feedback == ""


def test_appeals_raised_together_never_share_a_number(raise_appeal):
    outcomes = race(*[lambda: raise_appeal() for _ in range(5)])
    assert all(isinstance(o, Appeal) for o in outcomes), outcomes
    numbers = sorted(Appeal.objects.values_list("number", flat=True))
    assert numbers == [f"诉2026{n:05d}" for n in range(1, 6)]
