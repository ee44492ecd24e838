"""The statutory clock: 3 working days from acceptance (holidays and 调休 from the official calendar), one
extension of 3 working days approved by the head with a notice, pauses not counted, due/overdue lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.core.models import WorkingCalendarYear
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.registration.models import CaseExtension, CaseState, CaseTransitionLog, Notice, NoticeKind
from bizreg.registration.selectors import cases as selectors
from bizreg.registration.services import cases as services
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures
from bizreg.registration.tests.cases_fixtures import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def accepted(intake, step, freeze):
    """accepted(day) → a case accepted at 10:00 on `day`."""

    def make(day: dt.date, **overrides):
        freeze(at(day, 9))
        case = step(intake(**overrides), "pass_pre_review")
        freeze(at(day, 10))
        return step(case, "accept")

    return make


def test_due_date_skips_the_national_day_holiday(accepted):
    case = accepted(dt.date(2025, 9, 30))
    # 1–8 October 2025 are holidays; 11 October (a Saturday) is a make-up working day
    assert case.due_on == dt.date(2025, 10, 11)
    notice = Notice.objects.get(case=case, kind=NoticeKind.ACCEPTANCE)
    assert notice.content["blocks"][2]["pairs"][-1] == ["法定办结日", "2025年10月11日"]


def test_working_days_used_count_from_acceptance_to_decision(accepted, step, freeze):
    case = accepted(dt.date(2025, 9, 30))
    freeze(at(dt.date(2025, 10, 13), 11))
    case = step(case, "approve")
    assert services.case_working_days(case) == 4  # 10-9, 10-10, 10-11, 10-13
    assert case.on_the_spot is False
    # The decision keeps its clock for the processing-time metrics.
    case.refresh_from_db()
    assert (case.processing_working_days, case.decided_on_time) == (4, False)
    clock = selectors.case_clock(case=case)
    assert (clock.used, clock.allowed, clock.status) == (4, 3, "late")


def test_same_day_approval_is_on_the_spot(accepted, step, freeze):
    case = accepted(dt.date(2025, 3, 4))
    freeze(at(dt.date(2025, 3, 4), 16))
    case = step(case, "approve")
    assert case.on_the_spot is True
    assert services.case_working_days(case) == 0
    case.refresh_from_db()
    assert (case.processing_working_days, case.decided_on_time) == (0, True)
    assert selectors.case_clock(case=case).status == "on_the_spot"


def test_time_returned_to_the_applicant_is_not_on_the_clock(intake, step, freeze):
    freeze(at(dt.date(2025, 9, 1), 9))
    case = step(intake(materials=["application"]), "return_for_correction", deficiencies=["补交全部材料"])
    freeze(at(dt.date(2025, 9, 5), 9))
    every = list(case.materials.values_list("requirement_id", flat=True))
    case = step(case, "resubmit", materials=every)
    case = step(case, "pass_pre_review")
    case = step(case, "accept")
    assert case.paused_working_days == 4
    # the clock starts at acceptance: four working days with the applicant do not shorten it
    assert case.due_on == dt.date(2025, 9, 10)
    freeze(at(dt.date(2025, 9, 9), 9))
    case = step(case, "approve")
    assert services.case_working_days(case) == 2


def test_one_extension_approved_by_the_head_adds_three_working_days(accepted, clerk, manager, freeze):
    case = accepted(dt.date(2025, 9, 30))
    freeze(at(dt.date(2025, 10, 9), 9))
    extension = services.case_extension_request(
        case=case, actor=clerk, reason="股权结构复杂，需核实投资人主体资格"
    )
    assert extension.status == CaseExtension.Status.REQUESTED
    case.refresh_from_db()
    assert (case.due_on, case.extended) == (dt.date(2025, 10, 11), False)
    extension = services.case_extension_decide(extension=extension, actor=manager, approve=True)
    case.refresh_from_db()
    assert (case.due_on, case.extended) == (dt.date(2025, 10, 15), True)
    assert extension.status == CaseExtension.Status.APPROVED and extension.decided_by == manager
    notice = Notice.objects.get(case=case, kind=NoticeKind.EXTENSION)
    assert "股权结构复杂" in str(notice.content) and "2025年10月15日" in str(notice.content)
    actions = list(CaseTransitionLog.objects.filter(case=case).values_list("action", flat=True))
    assert actions[-2:] == ["request_extension", "approve_extension"]
    assert selectors.case_clock(case=case).allowed == 6
    with pytest.raises(TransitionNotAllowed) as exc:
        services.case_extension_request(case=case, actor=clerk, reason="再延一次")
    assert "只能延长一次" in str(exc.value)


def test_a_refused_extension_leaves_the_date_and_cannot_be_asked_again(accepted, clerk, manager):
    case = accepted(dt.date(2025, 3, 4))
    extension = services.case_extension_request(case=case, actor=clerk, reason="需要核实")
    with pytest.raises(ValidationError) as exc:
        services.case_extension_decide(extension=extension, actor=manager, approve=False)
    assert "理由" in exc.value.message_dict["reason"][0]
    services.case_extension_decide(
        extension=extension, actor=manager, approve=False, reason="材料已齐，应按期办结"
    )
    case.refresh_from_db()
    assert (case.due_on, case.extended) == (dt.date(2025, 3, 7), False)
    with pytest.raises(TransitionNotAllowed) as exc:
        services.case_extension_decide(extension=extension, actor=manager, approve=True)
    assert "已处理" in str(exc.value)
    with pytest.raises(TransitionNotAllowed):
        services.case_extension_request(case=case, actor=clerk, reason="再申请")


def test_extension_rules(accepted, intake, clerk, manager, role_users, freeze):
    case = accepted(dt.date(2025, 3, 4))
    with pytest.raises(ValidationError) as exc:
        services.case_extension_request(case=case, actor=clerk, reason="  ")
    assert "理由" in exc.value.message_dict["reason"][0]
    for role in ("hotline_agent", "manager", "archivist"):
        with pytest.raises(PermissionDenied):
            services.case_extension_request(case=case, actor=role_users[role], reason="x")
    extension = services.case_extension_request(case=case, actor=clerk, reason="需要核实")
    with pytest.raises(PermissionDenied) as exc:
        services.case_extension_decide(extension=extension, actor=clerk, approve=True)
    assert "科室负责人" in str(exc.value)
    # a case not on the clock cannot be extended
    with pytest.raises(TransitionNotAllowed) as exc:
        services.case_extension_request(case=intake(), actor=clerk, reason="x")
    assert "已受理" in str(exc.value)
    # nor can a period that has already run out
    freeze(at(dt.date(2025, 3, 10), 9))
    with pytest.raises(TransitionNotAllowed) as exc:
        services.case_extension_decide(extension=extension, actor=manager, approve=True)
    assert "已过" in str(exc.value)
    case.refresh_from_db()
    assert case.extended is False


def test_acceptance_in_a_year_without_calendar_data_is_refused_with_the_reason(intake, step, freeze):
    freeze(at(dt.date(2026, 12, 30), 9))
    case = step(intake(), "pass_pre_review")
    with pytest.raises(TransitionNotAllowed) as exc:
        step(case, "accept")
    assert "2027 年的工作日历尚无数据" in str(exc.value)
    case.refresh_from_db()
    assert case.state == CaseState.PRE_REVIEWED and case.due_on is None
    WorkingCalendarYear.objects.create(year=2027)
    assert step(case, "accept").due_on == dt.date(2027, 1, 4)


# --- due / overdue lists ----------------------------------------------------------------------------------


def test_due_lists_and_summary(accepted, step, clerk, freeze, other_authority, make_user):
    overdue = accepted(dt.date(2025, 9, 26))  # due 2025-09-30
    due_today = accepted(dt.date(2025, 10, 9))  # due 2025-10-13 (10-11 is a make-up working day)
    due_next = accepted(dt.date(2025, 10, 10))  # due 2025-10-14
    later = accepted(dt.date(2025, 10, 13))  # due 2025-10-16
    decided = step(accepted(dt.date(2025, 9, 26)), "approve")
    assert decided.due_on == dt.date(2025, 9, 30)
    freeze(at(dt.date(2025, 10, 13), 8))
    summary = selectors.due_summary(user=clerk)
    assert summary == {"overdue": 1, "due_today": 1, "due_soon": 1}
    lists = selectors.due_lists(user=clerk)["lists"]
    assert [c.pk for c in lists["overdue"]] == [overdue.pk]
    assert [c.pk for c in lists["due_today"]] == [due_today.pk]
    assert [c.pk for c in lists["due_soon"]] == [due_next.pk]
    warned = selectors.case_search(user=clerk, params={"due": "warning"})
    assert {c.pk for c in warned} == {overdue.pk, due_today.pk, due_next.pk}
    assert [c.pk for c in selectors.case_search(user=clerk, params={"due": "on_track"})] == [later.pk]
    outsider = make_user("registration_clerk", authorities=[other_authority])
    assert selectors.due_summary(user=outsider) == {"overdue": 0, "due_today": 0, "due_soon": 0}


def test_a_request_of_a_case_decided_meanwhile_leaves_the_queue(accepted, step, clerk, manager):
    case = accepted(dt.date(2025, 3, 4))
    services.case_extension_request(case=case, actor=clerk, reason="需核实")
    assert [e.case_id for e in selectors.extensions_pending(user=manager)] == [case.pk]
    step(case, "approve")
    assert list(selectors.extensions_pending(user=manager)) == []
