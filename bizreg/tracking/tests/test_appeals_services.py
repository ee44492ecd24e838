"""The appeal services: raising (every bad input), routing with its working-day deadline, the department's
answer (only its members), reopening, closing (feedback and satisfaction required, punctuality stored),
withdrawing, one AppealEvent per step, the overdue alert (once per appeal per day) and the departments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import Appeal, AppealEvent, AppealState, Department, Visit
from bizreg.tracking.services import appeals as services
from bizreg.tracking.tests.fixtures_appeals import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_appeals import START, add_role, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appeal_clock")]
D = dt.date


def errors_of(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


def events(appeal) -> list[str]:
    return list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True))


VISIT_DAY = dt.date(2026, 3, 2)


def make_visit(authority, enterprise, officer, *, day=VISIT_DAY, number="走202600001") -> Visit:
    return Visit.objects.create(
        authority=authority,
        number=number,
        enterprise=enterprise,
        officer=officer,
        method="on_site",
        visited_on=day,
        contact_name="刘财务",
        contact_phone="13912345678",
    )


# --- raising -------------------------------------------------------------------------------------------


def test_raise_registers_a_numbered_appeal_with_one_event(raise_appeal, officer, company):
    appeal = raise_appeal()
    assert appeal.number == "诉202600001"
    assert appeal.state == AppealState.REGISTERED
    assert appeal.raised_on == START.date() and appeal.raised_by == officer
    assert appeal.enterprise == company
    assert events(appeal) == ["raise"]
    assert raise_appeal().number == "诉202600002"
    assert appeal.history.first().history_user == officer


def test_raise_from_a_visit_of_the_same_enterprise(raise_appeal, authority, company, officer):
    visit = make_visit(authority, company, officer)
    appeal = raise_appeal(visit=visit)
    assert appeal.visit == visit
    assert list(visit.appeals.all()) == [appeal]


def test_raise_for_an_enterprise_that_does_not_exist_is_refused(raise_appeal):
    with pytest.raises(ValidationError) as exc:
        raise_appeal(enterprise_id=987654)
    assert errors_of(exc)["enterprise"] == ["企业不存在或不属于本登记机关，请核对后重新选择。"]
    with pytest.raises(ValidationError) as exc:
        raise_appeal(enterprise_id="abc")
    assert "enterprise" in errors_of(exc)
    assert not Appeal.objects.exists()


def test_raise_for_another_authoritys_enterprise_is_refused(raise_appeal, other_authority):
    elsewhere = EnterpriseFactory(authority=other_authority)
    with pytest.raises(ValidationError) as exc:
        raise_appeal(enterprise_id=elsewhere.pk)
    assert "enterprise" in errors_of(exc)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_phone", "12345", "联系电话应为 11 位手机号码"),
        ("contact_phone", "1391234567a", "联系电话应为 11 位手机号码"),
        ("contact_phone", "", "请填写联系电话。"),
        ("contact_name", " ", "请填写联系人。"),
        ("title", "", "请填写诉求标题。"),
        ("title", "长" * 101, "诉求标题不能超过 100 个字。"),
        ("description", "", "请填写诉求内容。"),
        ("category", "weather", "请选择诉求类别。"),
        ("raised_on", D(2026, 3, 3), "登记日期不能晚于今天。"),
        ("raised_on", "3月1日", "登记日期应为日期"),
    ],
)
def test_raise_refuses_bad_input(raise_appeal, field, value, message):
    with pytest.raises(ValidationError) as exc:
        raise_appeal(**{field: value})
    assert any(m.startswith(message) for m in errors_of(exc)[field]), errors_of(exc)
    assert not Appeal.objects.exists()


def test_a_landline_with_area_code_is_accepted(raise_appeal):
    assert raise_appeal(contact_phone="020-84981234").contact_phone == "020-84981234"


def test_raise_from_a_visit_of_another_enterprise_is_refused(raise_appeal, authority, officer):
    other = EnterpriseFactory(authority=authority)
    visit = make_visit(authority, other, officer)
    with pytest.raises(ValidationError) as exc:
        raise_appeal(visit=visit)
    assert errors_of(exc)["visit"] == ["来源走访须为同一企业的走访记录。"]


def test_raise_before_the_visit_is_refused(raise_appeal, authority, company, officer):
    visit = make_visit(authority, company, officer, day=D(2026, 3, 2))
    with pytest.raises(ValidationError) as exc:
        raise_appeal(visit=visit, raised_on=D(2026, 2, 27))
    assert errors_of(exc)["raised_on"] == ["登记日期不能早于来源走访的日期。"]


@pytest.mark.parametrize("who", ["manager", "member"])
def test_only_officers_raise_appeals(raise_appeal, request, who):
    with pytest.raises(PermissionDenied):
        raise_appeal(actor=request.getfixturevalue(who))


def test_an_officer_of_another_authority_cannot_raise_here(raise_appeal, make_user, other_authority):
    stranger = make_user("enterprise_officer", authorities=[other_authority])
    with pytest.raises(PermissionDenied):
        raise_appeal(actor=stranger)


# --- routing -------------------------------------------------------------------------------------------


def test_route_sets_the_department_and_a_working_day_deadline(raise_appeal, department, officer):
    appeal = services.appeal_route(appeal=raise_appeal(), department=department, actor=officer)
    assert appeal.state == AppealState.ROUTED
    assert appeal.department == department and appeal.routed_on == D(2026, 3, 2)
    assert appeal.due_on == D(2026, 3, 16)  # 10 working days
    assert events(appeal) == ["raise", "route"]
    assert "区发展和改革局" in appeal.events.get(action="route").reason


def test_route_with_an_explicit_deadline_and_reroute(raise_appeal, department, other_department, officer):
    appeal = services.appeal_route(
        appeal=raise_appeal(), department=department, actor=officer, due_on=D(2026, 3, 20)
    )
    assert appeal.due_on == D(2026, 3, 20)
    appeal = services.appeal_route(
        appeal=appeal, department=other_department, actor=officer, reason="属人社职能"
    )
    assert appeal.department == other_department and appeal.due_on == D(2026, 3, 9)  # 5 working days
    reason = appeal.events.filter(action="route").last().reason
    assert "由区发展和改革局改为转办至区人力资源和社会保障局" in reason and "属人社职能" in reason


def test_route_refuses_a_past_deadline_an_inactive_or_foreign_department(
    raise_appeal, department, officer, other_authority
):
    appeal = raise_appeal()
    with pytest.raises(ValidationError) as exc:
        services.appeal_route(appeal=appeal, department=department, actor=officer, due_on=D(2026, 3, 1))
    assert errors_of(exc)["due_on"] == ["办理期限不能早于今天。"]
    department.is_active = False
    department.save()
    with pytest.raises(ValidationError) as exc:
        services.appeal_route(appeal=appeal, department=department, actor=officer)
    assert errors_of(exc)["department"] == ["承办部门“区发展和改革局”已停用。"]
    foreign = Department.objects.create(authority=other_authority, name="天河区发改局")
    with pytest.raises(ValidationError) as exc:
        services.appeal_route(appeal=appeal, department=foreign, actor=officer)
    assert errors_of(exc)["department"] == ["承办部门不属于该诉求的登记机关。"]
    assert events(appeal) == ["raise"]


def test_route_needs_the_permission_and_the_state(
    answered_appeal, raise_appeal, department, manager, officer
):
    with pytest.raises(PermissionDenied):
        services.appeal_route(appeal=raise_appeal(), department=department, actor=manager)
    with pytest.raises(TransitionNotAllowed):
        services.appeal_route(appeal=answered_appeal(), department=department, actor=officer)


def test_an_officer_of_another_authority_cannot_route(raise_appeal, department, make_user, other_authority):
    stranger = make_user("enterprise_officer", authorities=[other_authority])
    with pytest.raises(PermissionDenied):
        services.appeal_route(appeal=raise_appeal(), department=department, actor=stranger)


# --- answering -----------------------------------------------------------------------------------------


def test_a_member_of_the_department_answers(routed_appeal, member):
    appeal = services.appeal_answer(appeal=routed_appeal(), actor=member, feedback="已联系企业，政策已解读。")
    assert appeal.state == AppealState.ANSWERED
    assert appeal.feedback == "已联系企业，政策已解读。"
    assert appeal.answered_by == member and appeal.answered_at == START
    assert events(appeal) == ["raise", "route", "answer"]


def test_a_member_of_another_department_may_not_answer(routed_appeal, other_member):
    appeal = routed_appeal()
    with pytest.raises(PermissionDenied) as exc:
        services.appeal_answer(appeal=appeal, actor=other_member, feedback="越权答复")
    assert str(exc.value) == "该诉求未转办至您所在的部门。"
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ROUTED and appeal.feedback == ""


def test_officers_do_not_answer_for_the_department(routed_appeal, officer):
    with pytest.raises(PermissionDenied):
        services.appeal_answer(appeal=routed_appeal(), actor=officer, feedback="代答")


def test_answer_needs_feedback_and_a_routed_appeal(routed_appeal, raise_appeal, member):
    with pytest.raises(ValidationError) as exc:
        services.appeal_answer(appeal=routed_appeal(), actor=member, feedback="  ")
    assert errors_of(exc)["feedback"] == ["请填写办理反馈。"]
    with pytest.raises(TransitionNotAllowed):
        services.appeal_answer(appeal=raise_appeal(), actor=member, feedback="尚未转办")


def test_an_answer_to_an_appeal_rerouted_meanwhile_is_refused(
    routed_appeal, other_department, officer, member
):
    appeal = routed_appeal()
    stale = Appeal.objects.get(pk=appeal.pk)
    services.appeal_route(appeal=appeal, department=other_department, actor=officer)
    with pytest.raises(TransitionNotAllowed, match="已改转其他部门"):
        services.appeal_answer(appeal=stale, actor=member, feedback="按旧页面答复")


# --- reopening -----------------------------------------------------------------------------------------


def test_reopen_sends_the_appeal_back_and_needs_a_reason(answered_appeal, officer, member):
    appeal = answered_appeal()
    with pytest.raises(ValidationError) as exc:
        services.appeal_reopen(appeal=appeal, actor=officer, reason="")
    assert errors_of(exc)["reason"] == ["请填写退回理由。"]
    appeal = services.appeal_reopen(appeal=appeal, actor=officer, reason="未答复贴息比例")
    assert appeal.state == AppealState.ROUTED and appeal.feedback == "" and appeal.answered_at is None
    assert appeal.due_on == D(2026, 3, 16)
    appeal = services.appeal_answer(appeal=appeal, actor=member, feedback="贴息比例为 LPR 的 50%。")
    assert events(appeal) == ["raise", "route", "answer", "reopen", "answer"]
    # The first answer stays in the timeline.
    assert "申报材料清单" in appeal.events.filter(action="answer").first().reason


def test_reopen_only_an_answered_appeal(routed_appeal, officer):
    with pytest.raises(TransitionNotAllowed):
        services.appeal_reopen(appeal=routed_appeal(), actor=officer, reason="退回")


# --- closing -------------------------------------------------------------------------------------------


def test_an_appeal_closed_without_feedback_is_refused(raise_appeal, routed_appeal, officer):
    for appeal in (raise_appeal(), routed_appeal()):
        with pytest.raises(ValidationError) as exc:
            services.appeal_close(appeal=appeal, actor=officer, satisfaction=5)
        assert errors_of(exc)["feedback"] == ["办结诉求须填写办理反馈。"]
        with pytest.raises(ValidationError):
            services.appeal_close(appeal=appeal, actor=officer, satisfaction=5, feedback="   ")
        appeal.refresh_from_db()
        assert appeal.state != AppealState.CLOSED and appeal.closed_at is None
    assert not AppealEvent.objects.filter(action="close").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "请选择企业满意度。"),
        ("", "请选择企业满意度。"),
        (9, "企业满意度须为 1–5 分（非常不满意至非常满意）。"),
        ("很好", "企业满意度须为 1–5 分（非常不满意至非常满意）。"),
    ],
)
def test_close_needs_the_satisfaction(answered_appeal, officer, value, message):
    appeal = answered_appeal()
    with pytest.raises(ValidationError) as exc:
        services.appeal_close(appeal=appeal, actor=officer, satisfaction=value)
    assert errors_of(exc)["satisfaction"] == [message]


def test_close_after_the_departments_answer(answered_appeal, officer, appeal_clock):
    appeal = answered_appeal()
    appeal_clock(at(D(2026, 3, 20)))
    appeal = services.appeal_close(appeal=appeal, actor=officer, satisfaction="4", comment="响应及时")
    assert appeal.state == AppealState.CLOSED
    assert appeal.satisfaction == 4 and appeal.satisfaction_comment == "响应及时"
    assert appeal.closed_at == at(D(2026, 3, 20))
    assert appeal.closed_on_time is True  # answered 2 March, due 16 March; closing later does not count
    assert events(appeal)[-1] == "close"
    assert "满意" in appeal.events.get(action="close").reason


def test_the_officers_own_feedback_closes_or_adds_to_the_answer(routed_appeal, answered_appeal, officer):
    appeal = services.appeal_close(
        appeal=routed_appeal(), actor=officer, satisfaction=5, feedback="当场解答，企业无需部门再办理。"
    )
    assert appeal.feedback == "当场解答，企业无需部门再办理。"
    appeal = services.appeal_close(
        appeal=answered_appeal(), actor=officer, satisfaction=3, feedback="已回访。"
    )
    assert appeal.feedback.startswith("已对接区发改局") and appeal.feedback.endswith("办结说明：已回访。")


def test_answered_after_the_deadline_is_not_on_time(routed_appeal, member, officer, appeal_clock):
    appeal = routed_appeal()  # due 16 March
    appeal_clock(at(D(2026, 3, 17)))
    appeal = services.appeal_answer(appeal=appeal, actor=member, feedback="迟到的答复")
    appeal = services.appeal_close(appeal=appeal, actor=officer, satisfaction=2)
    assert appeal.closed_on_time is False


def test_closed_without_an_answer_counts_the_closing_day(routed_appeal, officer, appeal_clock):
    on_time = routed_appeal()
    appeal_clock(at(D(2026, 3, 16), 17))
    assert services.appeal_close(
        appeal=on_time, actor=officer, satisfaction=4, feedback="自办"
    ).closed_on_time
    late = routed_appeal()  # routed 16 March, due 30 March
    appeal_clock(at(D(2026, 3, 31)))
    assert (
        services.appeal_close(appeal=late, actor=officer, satisfaction=4, feedback="自办").closed_on_time
        is False
    )


def test_never_routed_is_on_time_only_when_settled_the_day_it_was_raised(raise_appeal, officer, appeal_clock):
    same_day = services.appeal_close(
        appeal=raise_appeal(), actor=officer, satisfaction=5, feedback="当场解答"
    )
    assert same_day.closed_on_time is True
    later = raise_appeal()
    appeal_clock(at(D(2026, 3, 3)))
    assert (
        services.appeal_close(appeal=later, actor=officer, satisfaction=5, feedback="次日解答").closed_on_time
        is False
    )


def test_a_closed_appeal_takes_no_more_steps(answered_appeal, officer, department):
    appeal = services.appeal_close(appeal=answered_appeal(), actor=officer, satisfaction=5)
    for step in (
        lambda: services.appeal_close(appeal=appeal, actor=officer, satisfaction=5),
        lambda: services.appeal_reopen(appeal=appeal, actor=officer, reason="再办"),
        lambda: services.appeal_withdraw(appeal=appeal, actor=officer, reason="撤回"),
        lambda: services.appeal_route(appeal=appeal, department=department, actor=officer),
    ):
        with pytest.raises(TransitionNotAllowed):
            step()
    assert events(appeal).count("close") == 1


def test_a_stale_page_is_told_someone_was_faster(answered_appeal, officer, second_officer):
    appeal = answered_appeal()
    stale = Appeal.objects.get(pk=appeal.pk)
    services.appeal_close(appeal=appeal, actor=officer, satisfaction=5)
    with pytest.raises(TransitionNotAllowed) as exc:
        services.appeal_close(appeal=stale, actor=second_officer, satisfaction=1)
    assert "已被他人处理" in str(exc.value)


def test_managers_and_members_do_not_close(answered_appeal, manager, member):
    appeal = answered_appeal()
    for actor in (manager, member):
        with pytest.raises(PermissionDenied):
            services.appeal_close(appeal=appeal, actor=actor, satisfaction=5)


# --- withdrawing ---------------------------------------------------------------------------------------


def test_withdraw_needs_a_reason_and_an_unanswered_appeal(raise_appeal, answered_appeal, officer):
    appeal = raise_appeal()
    with pytest.raises(ValidationError) as exc:
        services.appeal_withdraw(appeal=appeal, actor=officer, reason=" ")
    assert errors_of(exc)["reason"] == ["请填写撤回原因。"]
    appeal = services.appeal_withdraw(appeal=appeal, actor=officer, reason="企业已自行解决")
    assert appeal.state == AppealState.WITHDRAWN and appeal.closed_at is None
    assert events(appeal) == ["raise", "withdraw"]
    with pytest.raises(TransitionNotAllowed):
        services.appeal_withdraw(appeal=answered_appeal(), actor=officer, reason="已答复后撤回")


# --- overdue alerts ------------------------------------------------------------------------------------


def test_overdue_appeals_are_alerted_once_a_day(routed_appeal, answered_appeal, member, officer):
    member.email = "fgj@example.gov.cn"
    member.save()
    officer.email = "officer@example.gov.cn"
    officer.save()
    late = routed_appeal()  # due 16 March
    answered_appeal()  # answered: the department's part is done, not overdue
    assert services.appeals_alert_overdue(today=D(2026, 3, 16)) == 0
    assert services.appeals_alert_overdue(today=D(2026, 3, 17)) == 1
    assert len(mail.outbox) == 1
    assert late.number in mail.outbox[0].subject
    assert sorted(mail.outbox[0].to) == ["fgj@example.gov.cn", "officer@example.gov.cn"]
    assert services.appeals_alert_overdue(today=D(2026, 3, 17)) == 0  # idempotent per day
    assert services.appeals_alert_overdue(today=D(2026, 3, 18)) == 1
    alerts = late.events.filter(action=services.OVERDUE_ALERT)
    assert alerts.count() == 2 and all(a.actor is None for a in alerts)
    assert "1 天" in alerts.first().reason


def test_an_alert_is_not_recorded_when_the_mail_fails(routed_appeal, member, monkeypatch):
    member.email = "fgj@example.gov.cn"
    member.save()
    appeal = routed_appeal()

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(services, "send_mail", broken)
    assert services.appeals_alert_overdue(today=D(2026, 3, 17)) == 0
    assert not appeal.events.filter(action=services.OVERDUE_ALERT).exists()


def test_closed_and_withdrawn_appeals_are_not_alerted(routed_appeal, officer):
    services.appeal_close(appeal=routed_appeal(), actor=officer, satisfaction=4, feedback="自办")
    services.appeal_withdraw(appeal=routed_appeal(), actor=officer, reason="企业撤回")
    assert services.appeals_alert_overdue(today=D(2026, 4, 1)) == 0


# --- departments ---------------------------------------------------------------------------------------


def test_the_manager_creates_and_edits_a_department(authority, manager, member):
    dep = services.department_save(authority=authority, actor=manager, name=" 区税务局 ", default_days="7")
    assert dep.name == "区税务局" and dep.default_days == 7 and dep.is_active
    dep = services.department_save(
        authority=authority, actor=manager, department=dep, name="区税务局", default_days=8, members=[member]
    )
    assert dep.default_days == 8 and list(dep.members.all()) == [member]
    services.department_set_members(department=dep, actor=manager, members=[])
    assert not dep.members.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": ""}, "name", "请填写部门名称。"),
        ({"name": "区发展和改革局"}, "name", "已有名为“区发展和改革局”的承办部门。"),
        ({"default_days": 0}, "default_days", "默认办理时限应在 1 至 180 个工作日之间。"),
        ({"default_days": "十"}, "default_days", "默认办理时限应为整数（工作日）。"),
    ],
)
def test_department_bad_input(authority, manager, department, kwargs, field, message):
    data = {"authority": authority, "actor": manager, "name": "区市场监管局", "default_days": 10, **kwargs}
    with pytest.raises(ValidationError) as exc:
        services.department_save(**data)
    assert errors_of(exc)[field] == [message]


def test_members_must_work_for_the_authority_and_may_answer(
    authority, manager, officer, make_user, other_authority
):
    stranger = make_user("department_viewer", authorities=[other_authority], display_name="外区人员")
    for person, message in ((officer, "的角色不能答复诉求"), (stranger, "不属于本登记机关")):
        with pytest.raises(ValidationError) as exc:
            services.department_save(authority=authority, actor=manager, name="区税务局", members=[person])
        assert message in errors_of(exc)["members"][0]
    # An officer given the department role too may be a member.
    add_role(officer, "department_viewer")
    dep = services.department_save(authority=authority, actor=manager, name="区税务局", members=[officer])
    assert list(dep.members.all()) == [officer]


def test_only_the_manager_edits_departments(authority, officer, department, make_user, other_authority):
    with pytest.raises(PermissionDenied):
        services.department_save(authority=authority, actor=officer, name="区税务局")
    with pytest.raises(PermissionDenied):
        services.department_set_members(department=department, actor=officer, members=[])
    foreign_manager = make_user("manager", authorities=[other_authority])
    with pytest.raises(PermissionDenied):
        services.department_save(
            authority=authority, actor=foreign_manager, department=department, name="改名"
        )
