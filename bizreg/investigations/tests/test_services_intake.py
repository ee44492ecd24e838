"""Intake of reports: validation of each input, matching on the register, duplicates merged, numbering."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.investigations.models import (
    CaseEvent,
    CaseState,
    InvestigationCase,
    Report,
    ReportedEnterprise,
)
from bizreg.investigations.services import cases as case_services
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import OTHER_VICTIM_ID, VICTIM_ID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def messages(exc: ValidationError, field: str) -> str:
    return " ".join(exc.message_dict.get(field, []))


def test_new_case_numbered_with_acceptance_deadline_and_enterprises(receive, enterprise):
    company = enterprise()
    report = receive(company)
    case = report.case
    assert case.number == "冒调202600001"
    assert case.state == CaseState.RECEIVED
    assert case.received_on == dt.date(2026, 3, 2)
    # 3 working days after Monday 2 March 2026.
    assert case.acceptance_due_on == dt.date(2026, 3, 5)
    assert case.victim_id_number == VICTIM_ID
    assert [ce.enterprise for ce in case.enterprises.all()] == [company]
    assert not case.enterprises.get().locked  # locked only once accepted
    assert report.merged_reason == ""
    named = report.named_enterprises.get()
    assert named.enterprise == company and not named.unmatched
    assert CaseEvent.objects.filter(case=case, action="receive").exists()
    second = receive(enterprise(), reporter={"name": "李四", "id_number": OTHER_VICTIM_ID, "phone": ""})
    assert second.case.number == "冒调202600002"


def test_numbers_are_per_authority(receive, enterprise, other_authority, make_user):
    receive(enterprise())
    other = make_user("investigator", authorities=[other_authority], username="inv_other")
    report = receive(authority=other_authority, actor=other)
    assert report.case.number == "冒调202600001"
    assert InvestigationCase.objects.filter(number="冒调202600001").count() == 2


def test_enterprise_matched_by_uscc_then_name_then_former_name(receive, enterprise):
    by_code = enterprise()
    by_name = enterprise()
    renamed = enterprise()
    renamed.former_names.create(name="广州旧名称贸易有限公司")
    report = receive(
        enterprises=[
            {"name": "名称写错了", "uscc": by_code.uscc.lower()},
            {"name": by_name.name, "uscc": ""},
            {"name": "广州旧名称贸易有限公司", "uscc": ""},
        ]
    )
    matched = [ne.enterprise for ne in report.named_enterprises.order_by("id")]
    assert matched == [by_code, by_name, renamed]
    assert set(report.case.enterprises.values_list("enterprise_id", flat=True)) == {
        by_code.pk,
        by_name.pk,
        renamed.pk,
    }


def test_unknown_enterprise_is_kept_and_flagged(receive):
    report = receive(enterprises=[{"name": "从未登记的幽灵有限公司", "uscc": ""}])
    named = ReportedEnterprise.objects.get(report=report)
    assert named.unmatched and named.enterprise is None
    assert named.name_as_given == "从未登记的幽灵有限公司"
    assert report.case.enterprises.count() == 0
    event = CaseEvent.objects.get(case=report.case, action="unmatched_enterprise")
    assert "从未登记的幽灵有限公司" in event.reason


def test_enterprise_of_another_authority_is_not_matched(receive, other_authority):
    from bizreg.testing.factories import EnterpriseFactory

    elsewhere = EnterpriseFactory(authority=other_authority)
    report = receive(enterprises=[{"name": elsewhere.name, "uscc": elsewhere.uscc}])
    assert report.named_enterprises.get().unmatched


@pytest.mark.parametrize(
    ("id_number", "fragment"),
    [
        ("", "请填写公民身份号码"),
        ("44011519880808", "应为 18 位"),
        ("440115198808080000", "校验码错误"),
        ("440115199902300012", "出生日期"),
    ],
)
def test_invalid_id_number_refused(receive, id_number, fragment):
    with pytest.raises(ValidationError) as exc:
        receive(reporter={"name": "张三", "id_number": id_number, "phone": ""})
    assert fragment in messages(exc.value, "reporter_id_number")
    assert not Report.objects.exists()


def test_each_bad_input_named(receive):
    with pytest.raises(ValidationError) as exc:
        receive(
            source="rumour",
            reporter={"name": "", "id_number": VICTIM_ID, "phone": "abc"},
            verification_method="telepathy",
            verification_result="maybe",
            narrative=" ",
            enterprises=[],
        )
    errors = exc.value.message_dict
    assert set(errors) >= {
        "source",
        "reporter_name",
        "reporter_phone",
        "verification_method",
        "verification_result",
        "narrative",
        "enterprises",
    }
    assert "请至少填写一家" in messages(exc.value, "enterprises")


def test_victim_report_needs_an_identity_verification(receive):
    with pytest.raises(ValidationError) as exc:
        receive(source="victim", verification_method="not_applicable", referral_reference="")
    assert "被冒用人申请须选择身份核验方式" in messages(exc.value, "verification_method")


def test_task_force_referral_needs_its_reference(receive):
    with pytest.raises(ValidationError) as exc:
        receive(referral_reference="  ")
    assert "请填写专责小组转办单号" in messages(exc.value, "referral_reference")


def test_invalid_uscc_refused_with_its_position(receive):
    with pytest.raises(ValidationError) as exc:
        receive(enterprises=[{"name": "某公司", "uscc": "91440115MA5ABCDE1X"}])
    assert "第 1 家企业" in messages(exc.value, "enterprises")


def test_received_at_in_the_future_refused(receive):
    from bizreg.investigations.tests.services_fixtures import START

    with pytest.raises(ValidationError) as exc:
        receive(received_at=START + dt.timedelta(days=1))
    assert "不能晚于现在" in messages(exc.value, "received_at")


def test_portal_intake_without_actor(receive, enterprise):
    company = enterprise()
    report = receive(
        company,
        source="victim",
        verification_method="online_face",
        verification_result="pending",
        referral_reference="",
        actor=None,
        via_portal=True,
    )
    assert report.via_portal and report.submitted_by is None
    assert report.case.enterprises.get().added_by is None


def test_portal_report_must_be_the_victims_own(receive):
    with pytest.raises(ValidationError) as exc:
        receive(actor=None, via_portal=True)
    assert "网上提交的只能是被冒用人本人的申请" in messages(exc.value, "source")


def test_staff_intake_needs_the_permission(receive, role_users):
    with pytest.raises(PermissionDenied):
        receive(actor=role_users["registration_clerk"])
    with pytest.raises(PermissionDenied):
        receive(actor=None)  # not via the portal: someone must be signed in
    assert not InvestigationCase.objects.exists()


def test_staff_of_another_authority_refused(receive, make_user, other_authority):
    outsider = make_user("investigator", authorities=[other_authority], username="inv_outsider")
    with pytest.raises(PermissionDenied):
        receive(actor=outsider)


def test_duplicate_with_overlapping_enterprise_joins_the_open_case(receive, enterprise):
    a, b = enterprise(), enterprise()
    first = receive(a)
    second = receive(a, b, source="victim", verification_method="offline_window", referral_reference="")
    assert second.case == first.case
    assert first.case.number in second.merged_reason and a.name in second.merged_reason
    assert first.case.reports.count() == 2
    assert set(first.case.enterprises.values_list("enterprise_id", flat=True)) == {a.pk, b.pk}
    assert CaseEvent.objects.filter(case=first.case, action="report_joined").count() == 1
    assert InvestigationCase.objects.count() == 1


def test_duplicate_without_matched_enterprises_joins(receive):
    first = receive(enterprises=[{"name": "查无此公司一", "uscc": ""}])
    second = receive(enterprises=[{"name": "查无此公司二", "uscc": ""}])
    assert second.case == first.case
    assert "均未匹配到登记簿企业" in second.merged_reason


def test_different_enterprises_or_victim_or_closed_case_make_a_new_case(receive, enterprise, investigator):
    a = enterprise()
    first = receive(a)
    assert receive(enterprise()).case != first.case  # same victim, other enterprise
    other = receive(a, reporter={"name": "李四", "id_number": OTHER_VICTIM_ID, "phone": ""})
    assert other.case != first.case  # same enterprise, other victim
    case_services.case_not_accept(case=first.case, actor=investigator, reason="材料不全，不属于冒用情形")
    again = receive(a)
    assert again.case != first.case  # the first case is no longer open
    assert again.merged_reason == ""


def test_accepted_case_joined_by_a_report_locks_the_new_enterprise(receive, enterprise, accepted):
    from bizreg.enterprises.services import enterprise_lock_state

    a = enterprise()
    case = accepted(a)
    b = enterprise()
    joined = receive(a, b)
    assert joined.case == case
    link = case.enterprises.get(enterprise=b)
    assert link.locked
    assert enterprise_lock_state(b).case_reference == case.number
