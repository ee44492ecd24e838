"""Visits through the services: creation with every bad input (an enterprise that does not exist, answers of
the wrong type, a future date, a bad phone), editing only by the visit's own officer, submission completing
the plan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.tracking.models import PlanReason, PlanState, VisitState
from bizreg.tracking.services import plans as plan_services
from bizreg.tracking.services import visits as services
from bizreg.tracking.tests.fixtures_visits import *  # noqa: F403
from bizreg.tracking.tests.fixtures_visits import COMPLETE_ANSWERS, make_plan

pytestmark = pytest.mark.django_db


def _create(authority, enterprise, actor, **fields):
    fields.setdefault("method", "on_site")
    fields.setdefault("visited_on", timezone.localdate())
    return services.visit_create(authority=authority, enterprise_id=enterprise.pk, actor=actor, **fields)


def test_an_officer_records_a_draft_visit(authority, enterprise, officer, plan, today):
    visit = _create(
        authority,
        enterprise,
        officer,
        plan=plan,
        visited_on=today,
        contact_name="陈经理",
        contact_phone="138 0013 8000",
        answers={"employees": "40", "move_out_plan": "否"},
    )
    assert visit.number == f"走{today.year}00001"
    assert (visit.state, visit.officer, visit.plan) == (VisitState.DRAFT, officer, plan)
    assert visit.contact_phone == "13800138000"
    assert visit.answers == {"employees": 40, "move_out_plan": False}
    assert visit.questionnaire.is_active
    second = _create(authority, enterprise, officer)
    assert second.number == f"走{today.year}00002"


def test_a_visit_for_an_enterprise_that_does_not_exist(authority, officer, foreign_enterprise, today):
    for enterprise_id in (987654321, foreign_enterprise.pk, None, "abc"):
        with pytest.raises(ValidationError) as exc:
            services.visit_create(
                authority=authority,
                enterprise_id=enterprise_id,
                actor=officer,
                method="phone",
                visited_on=today,
            )
        assert exc.value.message_dict["enterprise"] == ["企业不存在或不属于本登记机关，请核对后重新选择。"]


def test_questionnaire_answers_of_the_wrong_type(authority, enterprise, officer):
    with pytest.raises(ValidationError) as exc:
        _create(authority, enterprise, officer, answers={"employees": "很多", "expand_plan": "maybe"})
    assert exc.value.message_dict == {
        "employees": ["“职工人数”须为整数。"],
        "expand_plan": ["“是否有扩大经营的计划”须回答“是”或“否”。"],
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"visited_on": timezone.localdate() + dt.timedelta(days=1)}, "visited_on", "走访日期不能晚于今天。"),
        ({"visited_on": "昨天"}, "visited_on", "走访日期须为日期（YYYY-MM-DD）。"),
        ({"visited_on": dt.date(2000, 1, 1)}, "visited_on", "走访日期不能早于企业成立日期"),
        ({"contact_phone": "12345"}, "contact_phone", "联系电话须为 11 位手机号或带区号的固定电话"),
        ({"method": "email"}, "method", "请选择走访方式"),
        ({"move_out_reason": "weather"}, "move_out_reason", "请从列表中选择拟迁出原因。"),
        ({"answers": ["employees"]}, "answers", "问卷答案格式不正确。"),
    ],
)
def test_bad_visit_fields(authority, enterprise, officer, fields, field, message):
    with pytest.raises(ValidationError) as exc:
        _create(authority, enterprise, officer, **fields)
    assert exc.value.message_dict[field][0].startswith(message)


def test_landline_numbers_are_accepted(authority, enterprise, officer):
    assert (
        _create(authority, enterprise, officer, contact_phone="020-39001234").contact_phone == "020-39001234"
    )


def test_plan_checks_on_creation(authority, enterprise, officer, other_officer, manager, today):
    from bizreg.tracking.tests.fixtures_visits import make_enterprise

    other = make_enterprise(authority, established_on=today - dt.timedelta(days=30))
    plan = make_plan(enterprise, officer=other_officer)
    with pytest.raises(PermissionDenied):
        _create(authority, enterprise, officer, plan=plan)
    mine = make_plan(enterprise, officer=officer)
    with pytest.raises(ValidationError) as exc:
        _create(authority, other, officer, plan=mine)
    assert exc.value.message_dict["plan"] == ["走访计划与所选企业不一致。"]
    draft = _create(authority, enterprise, officer, plan=mine)
    with pytest.raises(ValidationError) as exc:
        _create(authority, enterprise, officer, plan=mine)
    assert draft.number in exc.value.message_dict["plan"][0]
    cancelled = plan_services.plan_cancel(plan=make_plan(enterprise), actor=manager, reason="重复")
    with pytest.raises(TransitionNotAllowed):
        _create(authority, enterprise, officer, plan=cancelled)


def test_only_officers_of_the_authority_record_visits(authority, enterprise, manager, foreign_officer):
    with pytest.raises(PermissionDenied):
        _create(authority, enterprise, manager)
    with pytest.raises(PermissionDenied):
        _create(authority, enterprise, foreign_officer)


def test_an_officer_editing_another_officers_visit(authority, enterprise, officer, other_officer, manager):
    visit = _create(authority, enterprise, officer)
    with pytest.raises(PermissionDenied) as exc:
        services.visit_update(visit=visit, actor=other_officer, findings="我来改")
    assert str(exc.value) == "只能修改本人的走访记录。"
    with pytest.raises(PermissionDenied):
        services.visit_submit(visit=visit, actor=other_officer)
    with pytest.raises(PermissionDenied):
        services.visit_update(visit=visit, actor=manager, findings="我来改")
    visit.refresh_from_db()
    assert visit.findings == ""


def test_the_own_officer_updates_a_draft(authority, enterprise, officer):
    visit = _create(authority, enterprise, officer, answers={"employees": "3"})
    updated = services.visit_update(
        visit=visit, actor=officer, method="phone", answers={"employees": "5", "revenue_trend": "明显增长"}
    )
    assert (updated.method, updated.answers) == ("phone", {"employees": 5, "revenue_trend": "明显增长"})
    with pytest.raises(ValidationError) as exc:
        services.visit_update(visit=updated, actor=officer, answers={"employees": "五"})
    assert exc.value.message_dict == {"employees": ["“职工人数”须为整数。"]}
    with pytest.raises(TypeError):
        services.visit_update(visit=updated, actor=officer, enterprise_id=1)


def test_submitting_completes_the_plan(authority, enterprise, officer, plan, today):
    visit = _create(
        authority, enterprise, officer, plan=plan, answers=COMPLETE_ANSWERS, findings="经营正常，计划扩产"
    )
    submitted = services.visit_submit(visit=visit, actor=officer)
    assert submitted.state == VisitState.SUBMITTED and submitted.submitted_at is not None
    plan.refresh_from_db()
    assert plan.state == PlanState.DONE
    assert plan.history.first().history_user == officer
    # A submitted visit is read-only.
    with pytest.raises(TransitionNotAllowed):
        services.visit_update(visit=submitted, actor=officer, findings="补充")
    with pytest.raises(TransitionNotAllowed):
        services.visit_submit(visit=submitted, actor=officer)


def test_submitting_needs_the_required_answers_and_the_findings(authority, enterprise, officer):
    visit = _create(authority, enterprise, officer, answers={"employees": "3"})
    with pytest.raises(ValidationError) as exc:
        services.visit_submit(visit=visit, actor=officer)
    errors = exc.value.message_dict
    assert errors["revenue_trend"] == ["请回答“近一年营业收入变化”。"]
    assert errors["findings"] == ["请填写走访发现（企业经营情况、反映的问题等）。"]
    assert "remarks" not in errors and "employees" not in errors
    visit.refresh_from_db()
    assert visit.state == VisitState.DRAFT


def test_a_move_out_visit_needs_the_reason(authority, enterprise, officer):
    plan = make_plan(enterprise, reason=PlanReason.MOVE_OUT, officer=officer)
    visit = _create(
        authority, enterprise, officer, plan=plan, answers=COMPLETE_ANSWERS, findings="拟迁往深圳"
    )
    with pytest.raises(ValidationError) as exc:
        services.visit_submit(visit=visit, actor=officer)
    assert exc.value.message_dict == {"move_out_reason": ["拟迁出企业的走访须填写拟迁出原因。"]}
    visit = services.visit_update(visit=visit, actor=officer, move_out_reason="policy")
    assert services.visit_submit(visit=visit, actor=officer).move_out_reason == "policy"


def test_a_visit_without_a_plan_is_submitted_alone(authority, enterprise, officer):
    visit = _create(authority, enterprise, officer, answers=COMPLETE_ANSWERS, findings="回访")
    assert services.visit_submit(visit=visit, actor=officer).state == VisitState.SUBMITTED


def test_a_plan_cancelled_while_the_visit_was_a_draft(authority, enterprise, officer, plan, manager):
    visit = _create(authority, enterprise, officer, plan=plan, answers=COMPLETE_ANSWERS, findings="x")
    plan_services.plan_cancel(plan=plan, actor=manager, reason="企业已注销")
    visit.plan.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        services.visit_submit(visit=visit, actor=officer)
