"""Deadline reminders (once per case, kind and date; each kind's window), the notice-end clock event, the
beat entry, and the victim's survey (1–5, once, unknown token refused)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError

from bizreg.investigations.models import CaseEvent, DeadlineReminder, VictimSurvey
from bizreg.investigations.selectors.cases import reminders_for
from bizreg.investigations.services import cases as services
from bizreg.investigations.services import field_checks as field_check_services
from bizreg.investigations.services.reminders import deadline_reminders_send
from bizreg.investigations.services.survey import survey_answer
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
D = dt.date


def kinds() -> list[tuple[str, dt.date]]:
    return sorted(DeadlineReminder.objects.values_list("kind", "due_on"))


def test_beat_schedule_runs_the_task_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["investigations-deadline-reminders"]
    assert entry["task"] == "investigations.deadline_reminders"
    from bizreg.investigations.tasks import deadline_reminders

    assert deadline_reminders.name == "investigations.deadline_reminders"


def test_acceptance_reminded_one_working_day_before(receive, investigator, manager):
    case = receive().case  # received Mon 2 March, due Thu 5 March; nobody assigned yet
    services.case_assign(case=case, assignee=investigator, actor=manager)
    assert deadline_reminders_send(D(2026, 3, 3)) == 0  # due in 2 working days
    investigator.email = "inv@example.gov.cn"
    investigator.save()
    assert deadline_reminders_send(D(2026, 3, 4)) == 1
    assert kinds() == [("acceptance", D(2026, 3, 5))]
    assert DeadlineReminder.objects.get().recipient == investigator
    assert len(mail.outbox) == 1 and case.number in mail.outbox[0].subject
    assert deadline_reminders_send(D(2026, 3, 5)) == 0  # once per case, kind and date
    assert list(reminders_for(investigator)) == list(DeadlineReminder.objects.all())


def test_investigation_reminded_ten_working_days_before_and_again_when_moved(accepted, manager, investigator):
    case = accepted()  # due Tue 2 June 2026
    assert deadline_reminders_send(D(2026, 5, 15)) == 0
    assert deadline_reminders_send(D(2026, 5, 19)) == 1  # 2 June is 10 working days (端午 19 June is later)
    assert kinds() == [("investigation", D(2026, 6, 2))]
    services.case_extend(case=case, actor=manager, reason="情况复杂")
    assert deadline_reminders_send(D(2026, 8, 25)) == 1  # the new date is reminded again
    assert kinds()[-1] == ("investigation", D(2026, 9, 2))
    assert reminders_for(investigator).count() == 2


def test_notice_and_field_check_reminders(accepted, investigator, unreachable):
    case = accepted()
    unreachable(case)
    services.case_start_notice(case=case, actor=investigator, reason="无法联系")  # ends 16 April
    field_check_services.field_check_assign(
        case=case, actor=investigator, address="另一地址", assigned_to=investigator, due_on=D(2026, 3, 10)
    )
    assert deadline_reminders_send(D(2026, 3, 8)) == 0
    assert deadline_reminders_send(D(2026, 3, 9)) == 1
    assert deadline_reminders_send(D(2026, 4, 13)) == 1
    assert kinds() == [("field_check", D(2026, 3, 10)), ("notice", D(2026, 4, 16))]


def test_notice_end_recorded_once(accepted, investigator, unreachable):
    case = accepted()
    unreachable(case)
    services.case_start_notice(case=case, actor=investigator, reason="无法联系")
    deadline_reminders_send(D(2026, 4, 16))
    assert not CaseEvent.objects.filter(case=case, action="notice_ended").exists()
    deadline_reminders_send(D(2026, 4, 17))
    deadline_reminders_send(D(2026, 4, 18))
    event = CaseEvent.objects.get(case=case, action="notice_ended")
    assert "未收到异议" in event.reason


def test_closed_cases_are_not_reminded(receive, investigator):
    services.case_not_accept(case=receive().case, actor=investigator, reason="不属冒用")
    assert deadline_reminders_send(D(2026, 3, 4)) == 0


# --- survey -----------------------------------------------------------------------------------------------


@pytest.fixture
def survey(receive, investigator, clock):
    case = services.case_not_accept(case=receive().case, actor=investigator, reason="不属冒用")
    services.case_close(case=case, actor=investigator)
    return VictimSurvey.objects.get(case=case)


def test_survey_answered_once(survey, clock):
    clock(at(D(2026, 3, 9)))
    answered = survey_answer(token=survey.token, score=5, comment="处理及时")
    assert (answered.score, answered.comment) == (5, "处理及时")
    assert answered.answered_at == at(D(2026, 3, 9))
    with pytest.raises(ValidationError) as exc:
        survey_answer(token=survey.token, score=1)
    assert "已填写" in exc.value.message_dict["token"][0]
    survey.refresh_from_db()
    assert survey.score == 5


@pytest.mark.parametrize("score", [0, 6, "abc", None, 4.5, True])
def test_survey_score_must_be_1_to_5(survey, score):
    with pytest.raises(ValidationError) as exc:
        survey_answer(token=survey.token, score=score)
    assert "1–5" in exc.value.message_dict["score"][0]
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_survey_unknown_token_and_long_comment(survey):
    with pytest.raises(ValidationError) as exc:
        survey_answer(token="not-a-token", score=4)
    assert "问卷链接无效" in exc.value.message_dict["token"][0]
    with pytest.raises(ValidationError):
        survey_answer(token="", score=4)
    with pytest.raises(ValidationError) as exc:
        survey_answer(token=survey.token, score=4, comment="长" * 2001)
    assert "comment" in exc.value.message_dict
