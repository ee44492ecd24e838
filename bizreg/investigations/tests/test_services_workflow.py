"""The case's steps and clock: acceptance (locks), non-acceptance, extension, suspension, public notice,
objections, decisions (revocation on the register, the 3-year list), closing, merging; every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises.models import EnterprisePerson, EnterpriseStatus, RegistrationRescission
from bizreg.enterprises.services import enterprise_lock, enterprise_lock_state
from bizreg.investigations.models import (
    CaseEnterprise,
    CaseEvent,
    CaseState,
    Decision,
    NoticeObjection,
    RegistrationBan,
    Suspension,
    VictimSurvey,
)
from bizreg.investigations.services import cases as services
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import CULPRIT_ID, START, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
D = dt.date


def events(case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case).order_by("occurred_at", "id").values_list("action", flat=True)
    )


def decide_revoke_all(case, manager, **overrides):
    kwargs = {
        "outcome": "revoke_all",
        "legal_basis": "《市场主体登记管理条例》第四十条",
        "reasoning": "经调查，该企业系冒用他人身份登记。",
    }
    kwargs.update(overrides)
    return services.case_decide(case=case, actor=manager, **kwargs)


def test_add_months_clamps_to_the_months_last_day():
    assert services.add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
    assert services.add_months(D(2026, 3, 2), 3) == D(2026, 6, 2)
    assert services.add_months(D(2026, 3, 2), 36) == D(2029, 3, 2)


# --- acceptance -------------------------------------------------------------------------------------------


def test_accept_starts_the_clock_assigns_and_locks(receive, enterprise, investigator):
    a, b = enterprise(), enterprise()
    case = receive(a, b).case
    case = services.case_accept(case=case, actor=investigator, reason="材料齐全")
    assert case.state == CaseState.INVESTIGATING
    assert case.accepted_on == D(2026, 3, 2)
    assert case.investigation_due_on == D(2026, 6, 2)
    assert case.assigned_to == investigator
    for company in (a, b):
        lock = enterprise_lock_state(company)
        assert lock.case_reference == case.number and lock.locked_by == investigator
    assert all(link.locked for link in case.enterprises.all())
    event = CaseEvent.objects.get(case=case, action="accept")
    assert (event.from_state, event.to_state, event.actor) == ("received", "investigating", investigator)
    assert "材料齐全" in event.reason and "2026-06-02" in event.reason


def test_accept_skips_a_lock_this_case_already_holds(receive, enterprise, investigator):
    company = enterprise()
    case = receive(company).case
    enterprise_lock(enterprise=company, actor=investigator, reason="先行锁定", case_reference=case.number)
    case = services.case_accept(case=case, actor=investigator)
    assert case.state == CaseState.INVESTIGATING
    assert enterprise_lock_state(company).reason == "先行锁定"


def test_accept_refused_when_another_case_locked_the_enterprise(receive, enterprise, investigator):
    company = enterprise()
    case = receive(company).case
    enterprise_lock(enterprise=company, actor=investigator, reason="另案调查", case_reference="冒调202500009")
    with pytest.raises(ValidationError) as exc:
        services.case_accept(case=case, actor=investigator)
    assert "冒调202500009" in " ".join(exc.value.message_dict["enterprises"])
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED and case.accepted_on is None
    assert not CaseEvent.objects.filter(case=case, action="accept").exists()


def test_accept_needs_the_permission(receive, role_users):
    case = receive().case
    with pytest.raises(PermissionDenied):
        services.case_accept(case=case, actor=role_users["registration_clerk"])
    with pytest.raises(PermissionDenied):
        services.case_accept(case=case, actor=role_users["manager"])  # decides, does not accept


def test_accept_by_another_authority_refused(receive, make_user, other_authority):
    case = receive().case
    outsider = make_user("investigator", authorities=[other_authority], username="inv_elsewhere")
    with pytest.raises(PermissionDenied):
        services.case_accept(case=case, actor=outsider)


def test_accept_twice_refused_409(accepted, investigator):
    case = accepted()
    with pytest.raises(TransitionNotAllowed):
        services.case_accept(case=case, actor=investigator)


def test_stale_copy_is_told_someone_was_faster(receive, investigator, second_investigator):
    case = receive().case
    stale = type(case).objects.get(pk=case.pk)
    services.case_accept(case=case, actor=investigator)
    with pytest.raises(TransitionNotAllowed, match="已被他人处理"):
        services.case_not_accept(case=stale, actor=second_investigator, reason="不属冒用")


def test_not_accept_needs_a_reason(receive, investigator):
    case = receive().case
    with pytest.raises(ValidationError) as exc:
        services.case_not_accept(case=case, actor=investigator, reason="  ")
    assert "请填写不予受理理由" in exc.value.message_dict["reason"][0]
    case = services.case_not_accept(case=case, actor=investigator, reason="系民事纠纷，不属冒用身份")
    assert case.state == CaseState.NOT_ACCEPTED and case.not_accepted_reason == "系民事纠纷，不属冒用身份"


# --- enterprises and assignment ---------------------------------------------------------------------------


def test_add_enterprise_locks_at_once_when_accepted(accepted, enterprise, investigator):
    case = accepted()
    company = enterprise()
    link = services.case_add_enterprise(case=case, enterprise=company, actor=investigator, reason="研判发现")
    assert link.locked and enterprise_lock_state(company).case_reference == case.number
    with pytest.raises(ValidationError, match="已是本案涉案企业"):
        services.case_add_enterprise(case=case, enterprise=company, actor=investigator, reason="再加一次")
    with pytest.raises(ValidationError) as exc:
        services.case_add_enterprise(case=case, enterprise=enterprise(), actor=investigator, reason="")
    assert "reason" in exc.value.message_dict


def test_add_enterprise_before_acceptance_does_not_lock(receive, enterprise, investigator):
    case = receive().case
    company = enterprise()
    link = services.case_add_enterprise(case=case, enterprise=company, actor=investigator, reason="研判发现")
    assert not link.locked and enterprise_lock_state(company) is None


def test_add_enterprise_of_another_authority_refused(receive, investigator, other_authority):
    from bizreg.testing.factories import EnterpriseFactory

    case = receive().case
    with pytest.raises(ValidationError) as exc:
        services.case_add_enterprise(
            case=case, enterprise=EnterpriseFactory(authority=other_authority), actor=investigator, reason="x"
        )
    assert "不属于本案的登记机关" in exc.value.message_dict["uscc"][0]


def test_assign(receive, investigator, second_investigator, manager, role_users):
    case = receive().case
    case = services.case_assign(case=case, assignee=second_investigator, actor=manager)
    assert case.assigned_to == second_investigator
    assert CaseEvent.objects.filter(case=case, action="assign").exists()
    with pytest.raises(ValidationError) as exc:
        services.case_assign(case=case, assignee=role_users["registration_clerk"], actor=investigator)
    assert "调查人员" in exc.value.message_dict["assignee"][0]
    with pytest.raises(PermissionDenied):
        services.case_assign(case=case, assignee=investigator, actor=role_users["registration_clerk"])


# --- the clock: extension, suspension -----------------------------------------------------------------


def test_extension_once_by_the_manager(accepted, manager, investigator):
    case = accepted()
    with pytest.raises(PermissionDenied):
        services.case_extend(case=case, actor=investigator, reason="情况复杂")
    with pytest.raises(ValidationError):
        services.case_extend(case=case, actor=manager, reason="")
    case = services.case_extend(case=case, actor=manager, reason="涉及多家企业，情况复杂")
    assert case.extended and case.investigation_due_on == D(2026, 9, 2)
    with pytest.raises(ValidationError) as exc:
        services.case_extend(case=case, actor=manager, reason="还要延")
    assert exc.value.message_dict["__all__"] == ["调查期限只能延长一次。"]
    assert CaseEvent.objects.filter(case=case, action="extend").count() == 1


def test_suspension_moves_the_deadline_by_its_days(accepted, investigator, clock):
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        services.case_suspend(case=case, actor=investigator, ground="holiday", reason="")
    assert set(exc.value.message_dict) == {"ground", "reason"}
    case = services.case_suspend(case=case, actor=investigator, ground="civil_dispute", reason="当事人已起诉")
    assert case.state == CaseState.SUSPENDED and case.suspended_since == D(2026, 3, 2)
    clock(at(D(2026, 3, 22)))
    with pytest.raises(ValidationError):
        services.case_resume(case=case, actor=investigator, reason="")
    case = services.case_resume(case=case, actor=investigator, reason="诉讼已撤回")
    assert case.state == CaseState.INVESTIGATING and case.suspended_since is None
    assert case.investigation_due_on == D(2026, 6, 22)
    suspension = Suspension.objects.get(case=case)
    assert (suspension.ended_on, suspension.days_added) == (D(2026, 3, 22), 20)
    assert events(case)[-2:] == ["suspend", "resume"]
    assert "顺延至 2026-06-22" in CaseEvent.objects.get(case=case, action="resume").reason


def test_suspended_case_cannot_be_extended_or_decided(accepted, investigator, manager):
    case = services.case_suspend(case=accepted(), actor=investigator, ground="criminal", reason="已移送")
    with pytest.raises(TransitionNotAllowed):
        services.case_extend(case=case, actor=manager, reason="x")
    with pytest.raises(TransitionNotAllowed):
        decide_revoke_all(case, manager)


# --- public notice and objections ---------------------------------------------------------------------


def test_notice_needs_a_field_check_finding_the_enterprise_unreachable(accepted, investigator, unreachable):
    case = accepted()
    with pytest.raises(ValidationError, match="企业无法联系"):
        services.case_start_notice(case=case, actor=investigator, reason="无法联系")
    unreachable(case, result="operating")
    with pytest.raises(ValidationError):
        services.case_start_notice(case=case, actor=investigator, reason="无法联系")
    unreachable(case)
    case = services.case_start_notice(case=case, actor=investigator, reason="企业无法联系")
    assert case.state == CaseState.PUBLIC_NOTICE
    assert (case.notice_started_on, case.notice_ends_on) == (D(2026, 3, 2), D(2026, 4, 16))


def test_objection_sends_the_case_back_to_investigation(accepted, investigator, unreachable, clock):
    case = accepted()
    unreachable(case)
    case = services.case_start_notice(case=case, actor=investigator, reason="企业无法联系")
    clock(at(D(2026, 3, 10)))
    with pytest.raises(ValidationError) as exc:
        services.notice_objection_record(
            case=case, actor=investigator, objector="", content="", received_on=D(2026, 3, 20)
        )
    assert set(exc.value.message_dict) == {"objector", "content", "received_on"}
    with pytest.raises(ValidationError, match="不能早于公示开始日期"):
        services.notice_objection_record(
            case=case, actor=investigator, objector="王五", content="我是股东", received_on=D(2026, 2, 1)
        )
    case = services.notice_objection_record(
        case=case,
        actor=investigator,
        objector="王五",
        content="本人系该企业实际股东",
        received_on=D(2026, 3, 9),
    )
    assert case.state == CaseState.INVESTIGATING
    assert NoticeObjection.objects.get(case=case).objector == "王五"
    assert events(case)[-1] == "objection"


def test_decision_during_the_notice_waits_for_its_end(accepted, investigator, manager, unreachable, clock):
    case = accepted()
    unreachable(case)
    case = services.case_start_notice(case=case, actor=investigator, reason="企业无法联系")
    clock(at(D(2026, 4, 16)))  # the last day of the notice
    with pytest.raises(TransitionNotAllowed, match="公示期至 2026-04-16 届满"):
        decide_revoke_all(case, manager)
    clock(at(D(2026, 4, 17)))
    decide_revoke_all(case, manager)
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    assert "notice_ended" in events(case)


# --- decisions --------------------------------------------------------------------------------------------


def test_decision_without_legal_basis_refused(accepted, manager):
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(case, manager, legal_basis="  ")
    assert "请填写法律依据" in exc.value.message_dict["legal_basis"][0]
    case.refresh_from_db()
    assert case.state == CaseState.INVESTIGATING and not Decision.objects.exists()


def test_decision_rules_per_outcome(accepted, manager):
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(case, manager, outcome="not_revoked")
    assert "non_revocation_ground" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(case, manager, outcome="revoke_items")
    assert "请列明撤销的事项" in exc.value.message_dict["items"][0]
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(case, manager, outcome="refer_police")
    assert "police_reference" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(case, manager, outcome="dismiss", reasoning="")
    assert set(exc.value.message_dict) == {"outcome", "reasoning"}
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(
            case,
            manager,
            outcome="not_revoked",
            non_revocation_ground="confirmed",
            responsible_persons=[{"name": "黄某", "id_number": CULPRIT_ID, "role": "代理人"}],
        )
    assert "只有撤销登记的决定" in exc.value.message_dict["responsible_persons"][0]


def test_responsible_person_with_invalid_id_refused(accepted, manager):
    case = accepted()
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(
            case, manager, responsible_persons=[{"name": "黄某", "id_number": "123", "role": "代理人"}]
        )
    assert "第 1 名责任人（黄某）" in exc.value.message_dict["responsible_persons"][0]
    assert not RegistrationBan.objects.exists()


def test_only_the_manager_decides(accepted, investigator):
    with pytest.raises(PermissionDenied):
        decide_revoke_all(accepted(), investigator)


def test_revoke_all_rescinds_every_enterprise_and_bans_for_three_years(enterprise, accepted, manager):
    a, b = enterprise(), enterprise()
    case = accepted(a, b)
    decision = decide_revoke_all(
        case, manager, responsible_persons=[{"name": "黄某", "id_number": CULPRIT_ID, "role": "委托代理人"}]
    )
    assert decision.outcome == "revoke_all" and decision.decided_by == manager
    for company in (a, b):
        company.refresh_from_db()
        assert company.status == EnterpriseStatus.RESCINDED
        assert enterprise_lock_state(company) is None
        rescission = RegistrationRescission.objects.get(enterprise=company)
        assert rescission.decision_reference == case.number and rescission.decided_on == D(2026, 3, 2)
    assert not case.enterprises.filter(locked=True).exists()
    ban = RegistrationBan.objects.get()
    assert (ban.id_number, ban.starts_on, ban.ends_on, ban.case) == (
        CULPRIT_ID,
        D(2026, 3, 2),
        D(2029, 3, 2),
        case,
    )
    assert events(case)[-2:] == ["decide", "ban"]


def test_revoke_items_ends_the_named_person_roles(enterprise, accepted, manager):
    company = enterprise()
    case = accepted(company)
    decide_revoke_all(case, manager, outcome="revoke_items", items=["legal_rep"])
    company.refresh_from_db()
    assert company.status == EnterpriseStatus.ACTIVE
    legal_rep = EnterprisePerson.objects.get(enterprise=company, role="legal_rep")
    assert legal_rep.ended_on == D(2026, 3, 2) and case.number in legal_rep.end_reason
    # Items revoked, the enterprise stays locked by the case until it closes.
    assert enterprise_lock_state(company).case_reference == case.number


def test_revoke_items_naming_an_unknown_item_refused_and_nothing_changes(enterprise, accepted, manager):
    company = enterprise()
    case = accepted(company)
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(case, manager, outcome="revoke_items", items=["董事长的猫"])
    assert company.name in exc.value.message_dict["items"][0]
    case.refresh_from_db()
    assert case.state == CaseState.INVESTIGATING and not Decision.objects.exists()


def test_revocation_of_an_already_rescinded_enterprise_refused(enterprise, accepted, manager):
    company = enterprise()
    first = accepted(company)
    decide_revoke_all(first, manager)
    second = accepted(enterprise())
    # The register entry is already revoked: a second case naming it (written directly, as the add service
    # would refuse nothing here) cannot revoke it again.
    CaseEnterprise.objects.create(case=second, enterprise=company, added_at=START, added_by=manager)
    with pytest.raises(ValidationError) as exc:
        decide_revoke_all(second, manager)
    assert "不能再次撤销" in exc.value.message_dict["outcome"][0]
    second.refresh_from_db()
    assert second.state == CaseState.INVESTIGATING


def test_not_revoked_releases_the_locks(enterprise, accepted, manager):
    company = enterprise()
    case = accepted(company)
    decide_revoke_all(case, manager, outcome="not_revoked", non_revocation_ground="confirmed")
    assert enterprise_lock_state(company) is None
    company.refresh_from_db()
    assert company.status == EnterpriseStatus.ACTIVE
    assert not RegistrationBan.objects.exists()


def test_refer_to_police(enterprise, accepted, manager):
    company = enterprise()
    case = accepted(company)
    decision = decide_revoke_all(
        case, manager, outcome="refer_police", police_reference="穗公南移〔2026〕8号"
    )
    assert decision.police_reference == "穗公南移〔2026〕8号"
    assert enterprise_lock_state(company) is None


# --- closing ---------------------------------------------------------------------------------------------


def test_close_within_the_deadline_unlocks_and_creates_the_survey(
    enterprise, accepted, manager, investigator
):
    company = enterprise()
    case = accepted(company)
    case = decide_revoke_all(case, manager, outcome="revoke_items", items=["legal_rep"]).case
    case = services.case_close(case=case, actor=investigator)
    assert case.state == CaseState.CLOSED and case.closed_within_deadline is True
    assert case.closed_at == START
    assert enterprise_lock_state(company) is None
    survey = VictimSurvey.objects.get(case=case)
    assert len(survey.token) == 43 and survey.answered_at is None


def test_close_after_the_deadline_is_late(accepted, manager, investigator, clock):
    case = accepted()
    case = decide_revoke_all(case, manager, outcome="not_revoked", non_revocation_ground="confirmed").case
    clock(at(D(2026, 6, 3)))
    case = services.case_close(case=case, actor=investigator)
    assert case.closed_within_deadline is False


def test_not_accepted_case_closes_against_the_acceptance_deadline(receive, investigator, clock):
    case = services.case_not_accept(case=receive().case, actor=investigator, reason="不属冒用")
    clock(at(D(2026, 3, 6)))
    case = services.case_close(case=case, actor=investigator)
    assert case.closed_within_deadline is False  # acceptance due 5 March


def test_any_action_after_closing_is_refused_409(accepted, manager, investigator, enterprise):
    case = accepted()
    case = decide_revoke_all(case, manager, outcome="not_revoked", non_revocation_ground="confirmed").case
    case = services.case_close(case=case, actor=investigator)
    attempts = [
        lambda: services.case_close(case=case, actor=investigator),
        lambda: services.case_extend(case=case, actor=manager, reason="x"),
        lambda: services.case_suspend(case=case, actor=investigator, ground="criminal", reason="x"),
        lambda: decide_revoke_all(case, manager),
        lambda: services.case_add_enterprise(
            case=case, enterprise=enterprise(), actor=investigator, reason="x"
        ),
        lambda: services.case_assign(case=case, assignee=investigator, actor=investigator),
    ]
    for attempt in attempts:
        with pytest.raises(TransitionNotAllowed, match="案件已结案，不能再执行"):
            attempt()


# --- merging ---------------------------------------------------------------------------------------------


def test_merge_moves_reports_and_locks(receive, enterprise, accepted, investigator):
    from bizreg.investigations.tests.services_fixtures import OTHER_VICTIM_ID

    a, b = enterprise(), enterprise()
    target = accepted(a)
    source = receive(b, reporter={"name": "李四", "id_number": OTHER_VICTIM_ID, "phone": ""}).case
    source = services.case_accept(case=source, actor=investigator)
    result = services.case_merge(case=source, into=target, actor=investigator, reason="同一代理人所为")
    source.refresh_from_db()
    assert result == target
    assert source.state == CaseState.MERGED and source.merged_into == target
    assert target.reports.count() == 2
    assert "由案件" in target.reports.order_by("id").last().merged_reason
    assert enterprise_lock_state(b).case_reference == target.number
    assert target.enterprises.get(enterprise=b).locked
    assert not source.enterprises.get(enterprise=b).locked
    assert "case_merged_in" in events(target)
    with pytest.raises(TransitionNotAllowed, match="案件已结案"):
        services.case_accept(case=source, actor=investigator)


def test_merge_bad_inputs(receive, enterprise, accepted, investigator, other_authority, make_user):
    case = receive(enterprise()).case
    with pytest.raises(ValidationError, match="不能并入本案自身"):
        services.case_merge(case=case, into=case, actor=investigator, reason="x")
    other = receive(enterprise()).case
    with pytest.raises(ValidationError):
        services.case_merge(case=case, into=other, actor=investigator, reason="")
    services.case_not_accept(case=other, actor=investigator, reason="不属冒用")
    other.refresh_from_db()
    with pytest.raises(ValidationError, match="不能并入"):
        services.case_merge(case=case, into=other, actor=investigator, reason="同一事项")
