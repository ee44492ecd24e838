"""Intake (services.cases.case_intake): the case number, the checklist, and every bad-input rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.core.identifiers import USCC_ALPHABET, build_resident_id, build_uscc
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import EnterpriseStatus
from bizreg.registration.models import CaseMaterial, CaseState, RegistrationCase
from bizreg.registration.services import cases as services
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures
from bizreg.registration.tests.cases_fixtures import AGENT_ID, APPLICANT_ID, at
from bizreg.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# --- what a good intake produces --------------------------------------------------------------------------


def test_establishment_intake_numbers_the_case_and_records_the_checklist(intake, clerk, authority, freeze):
    freeze(at(dt.date(2025, 3, 4), 9, 30))
    case = intake("establishment")
    assert case.number == "4401152025030400001"
    assert case.state == CaseState.RECEIVED
    assert case.received_by == clerk
    assert case.received_at == at(dt.date(2025, 3, 4), 9, 30)
    assert case.applicant_id_number == APPLICANT_ID
    materials = CaseMaterial.objects.filter(case=case).select_related("requirement")
    names = {m.requirement.name for m in materials}
    assert {"公司章程", "住所（经营场所）使用证明", "名称自主申报告知书"} <= names
    # mandatory items were ticked by the fixture, optional ones not
    assert all(m.received == m.requirement.mandatory for m in materials)
    assert case.requested_changes["registered_capital"] == "1000000.00"
    assert case.requested_changes["street"] > 0


def test_numbers_run_per_authority_and_day(
    intake, freeze, authority, other_authority, make_user, intake_data
):
    freeze(at(dt.date(2025, 3, 4)))
    first, second = intake(), intake()
    other_clerk = make_user("registration_clerk", authorities=[other_authority])
    data = intake_data()
    data["requested_changes"]["street"] = factories.street_for_authority(other_authority).pk
    other = services.case_intake(authority=other_authority, actor=other_clerk, data=data)
    freeze(at(dt.date(2025, 3, 5)))
    next_day = intake()
    assert [first.number[-5:], second.number[-5:]] == ["00001", "00002"]
    assert other.number == "4401062025030400001"
    assert next_day.number == "4401152025030500001"


def test_counter_of_a_new_day_starts_above_numbers_already_written(intake, freeze, authority):
    # Cases written by an import or the demo year for a day carry numbers the counter has not seen.
    RegistrationCase.objects.create(
        authority=authority,
        number="4401152025030400041",
        case_type="filing",
        channel="one_stop",
        enterprise_name="导入企业",
        applicant_name="张三",
        applicant_id_number=APPLICANT_ID,
        applicant_phone="13800138000",
        received_at=at(dt.date(2025, 3, 4)),
    )
    freeze(at(dt.date(2025, 3, 4), 15))
    assert intake().number == "4401152025030400042"


def test_change_intake_by_uscc_keeps_the_register_name(intake, enterprise):
    entry = enterprise(name="广州南沙变更测试有限公司")
    case = intake("change", enterprise_uscc=entry.uscc.lower(), enterprise_name="随便写的名字")
    assert case.enterprise == entry
    assert case.enterprise_name == "广州南沙变更测试有限公司"
    assert case.uscc == entry.uscc
    assert case.requested_changes == {"address": "广州市南沙区进港大道 99 号"}


def test_agent_is_recorded_when_given_completely(intake):
    case = intake(agent_name="李代理", agent_id_number=AGENT_ID, agent_phone="139 0000 1111")
    assert (case.agent_name, case.agent_id_number, case.agent_phone) == ("李代理", AGENT_ID, "13900001111")


def test_online_intake_keeps_its_external_id_and_refuses_it_twice(intake):
    intake(channel="one_stop", external_id="YWTB-2025-0001")
    with pytest.raises(ValidationError) as exc:
        intake(channel="one_stop", external_id="YWTB-2025-0001")
    assert "已登记" in errors_of(exc)["external_id"][0]


# --- bad input: each rule with the input that breaks it ----------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("applicant_id_number", "44011519850412101", "应为 18 位"),
        ("applicant_id_number", APPLICANT_ID[:-1] + ("0" if APPLICANT_ID[-1] != "0" else "1"), "校验码错误"),
        ("applicant_id_number", "440115198502301011", "出生日期"),
        ("applicant_phone", "12800138000", "手机号码"),
        ("applicant_phone", "1380013800", "手机号码"),
        ("applicant_phone", "138-0013-800a", "手机号码"),
        ("applicant_name", "", "请填写申请人姓名"),
        ("case_type", "liquidation", "业务类型"),
        ("channel", "fax", "办理渠道"),
    ],
)
def test_malformed_person_and_case_fields_are_field_errors(intake, field, value, message):
    with pytest.raises(ValidationError) as exc:
        intake(**{field: value})
    assert message in " ".join(errors_of(exc)[field])
    assert not RegistrationCase.objects.exists()


def test_a_partial_agent_is_refused_field_by_field(intake):
    with pytest.raises(ValidationError) as exc:
        intake(agent_name="李代理")
    errors = errors_of(exc)
    assert "代理人" in errors["agent_id_number"][0]
    assert "代理人" in errors["agent_phone"][0]


@pytest.mark.parametrize(
    "uscc, message",
    [
        ("91440115MA5ABCDE", "应为 18 位"),
        ("91440115MA5ABCDEOX", "不得含字母"),
        ("WRONG_CHECK_DIGIT", "第 18 位校验码错误"),
        ("91440115000000001X", "组织机构代码"),
    ],
)
def test_malformed_uscc_of_an_establishment_is_a_field_error(intake, uscc, message):
    if uscc == "WRONG_CHECK_DIGIT":
        good = build_uscc("440115", "00000000")
        uscc = good[:-1] + USCC_ALPHABET[(USCC_ALPHABET.index(good[-1]) + 1) % len(USCC_ALPHABET)]
    with pytest.raises(ValidationError) as exc:
        intake("establishment", uscc=uscc)
    assert message in errors_of(exc)["uscc"][0]


def test_a_taken_uscc_cannot_be_given_to_a_new_enterprise(intake, enterprise):
    entry = enterprise()
    with pytest.raises(ValidationError) as exc:
        intake("establishment", uscc=entry.uscc)
    assert "已登记" in errors_of(exc)["uscc"][0]


def test_migration_in_needs_its_existing_uscc(intake):
    with pytest.raises(ValidationError) as exc:
        intake("migration_in", uscc="")
    assert "原有的统一社会信用代码" in errors_of(exc)["uscc"][0]


def test_establishment_data_is_checked_with_the_register_rules(intake, intake_data, street):
    changes = intake_data()["requested_changes"] | {
        "legal_rep_id_number": "123",
        "industry": "Z",
        "street": 999999,
        "address": "",
    }
    with pytest.raises(ValidationError) as exc:
        intake("establishment", requested_changes=changes, enterprise_name="")
    errors = errors_of(exc)
    assert errors["enterprise_name"] == ["请填写拟设立（迁入）企业的名称。"]  # said once, not twice
    assert "18 位" in errors["requested_changes.legal_rep_id_number"][0]
    assert "行业门类" in errors["requested_changes.industry"][0]
    assert "辖区" in errors["requested_changes.street"][0]
    assert "住所" in errors["requested_changes.address"][0]


def test_change_needs_an_enterprise_of_the_register(intake, other_authority):
    with pytest.raises(ValidationError) as exc:
        intake("change")
    assert "统一社会信用代码" in errors_of(exc)["enterprise_uscc"][0]
    foreign = factories.EnterpriseFactory(authority=other_authority)
    with pytest.raises(ValidationError) as exc:
        intake("change", enterprise_uscc=foreign.uscc)
    assert "没有统一社会信用代码为" in errors_of(exc)["enterprise_uscc"][0]


def test_change_must_change_something(intake, enterprise):
    entry = enterprise(address="广州市南沙区环市大道 1 号")
    with pytest.raises(ValidationError) as exc:
        intake("change", enterprise_uscc=entry.uscc, requested_changes={})
    assert "至少填写一项" in errors_of(exc)["requested_changes"][0]
    with pytest.raises(ValidationError) as exc:
        intake(
            "change", enterprise_uscc=entry.uscc, requested_changes={"address": "广州市南沙区环市大道 1 号"}
        )
    assert "相同" in errors_of(exc)["requested_changes"][0]


def test_unknown_requested_items_and_materials_are_named(intake):
    with pytest.raises(ValidationError) as exc:
        intake(requested_changes={"favourite_colour": "red"}, materials=["articles", "bribe"])
    errors = errors_of(exc)
    assert "favourite_colour" in errors["requested_changes"][0]
    assert "bribe" in errors["materials"][0]


def test_deregistered_enterprise_is_refused(intake, enterprise, clerk):
    entry = enterprise()
    enterprise_services.enterprise_update(enterprise=entry, actor=clerk, status=EnterpriseStatus.DEREGISTERED)
    with pytest.raises(ValidationError) as exc:
        intake("deregistration", enterprise_uscc=entry.uscc)
    assert "注销" in errors_of(exc)["enterprise"][0]


@pytest.mark.parametrize(
    ("case_type", "received"),
    [
        ("deregistration", True),  # a revoked enterprise still has to be wound up and deregistered
        ("filing", True),  # 清算组备案
        ("simple_deregistration", False),
        ("change", False),
        ("migration_out", False),
    ],
)
def test_a_revoked_enterprise_may_only_file_and_deregister(intake, enterprise, clerk, case_type, received):
    entry = enterprise()
    enterprise_services.enterprise_update(enterprise=entry, actor=clerk, status=EnterpriseStatus.REVOKED)
    extra = {
        "filing": {"filing_items": "清算组成员、清算组负责人备案"},
        "change": {"address": "广州市南沙区海滨路 1 号"},
        "migration_out": {"destination_authority": "广州市天河区市场监督管理局"},
    }.get(case_type, {})
    if received:
        case = intake(case_type, enterprise_uscc=entry.uscc, requested_changes=extra)
        assert case.enterprise == entry
    else:
        with pytest.raises(ValidationError) as exc:
            intake(case_type, enterprise_uscc=entry.uscc, requested_changes=extra)
        assert "登记状态为“吊销”" in errors_of(exc)["enterprise"][0]


def test_received_at_in_the_future_is_refused(intake, freeze):
    freeze(at(dt.date(2025, 3, 4), 9))
    with pytest.raises(ValidationError) as exc:
        intake(received_at=at(dt.date(2025, 3, 5)))
    assert "不能晚于现在" in errors_of(exc)["received_at"][0]


def test_only_roles_that_receive_cases_may_take_them_in(intake, role_users):
    for role in ("manager", "hotline_agent", "archivist", "finance_officer"):
        with pytest.raises(PermissionDenied):
            intake(actor=role_users[role])


# --- locked enterprises -------------------------------------------------------------------------------------


def test_locked_enterprise_is_refused_with_the_lock_reason(intake, enterprise, role_users):
    entry = enterprise()
    enterprise_services.enterprise_lock(
        enterprise=entry,
        actor=role_users["investigator"],
        reason="涉嫌冒用身份登记",
        case_reference="MY-2025-007",
    )
    for case_type in ("change", "deregistration", "filing", "migration_out"):
        with pytest.raises(ValidationError) as exc:
            intake(case_type, enterprise_uscc=entry.uscc)
        message = errors_of(exc)["enterprise"][0]
        assert "被锁定" in message and "涉嫌冒用身份登记" in message and "MY-2025-007" in message
    with pytest.raises(ValidationError):
        intake("deregistration", enterprise_uscc=entry.uscc, investigation_reference="MY-2025-008")
    assert not RegistrationCase.objects.exists()


def test_locked_enterprise_accepts_the_case_of_its_own_investigation(intake, enterprise, role_users):
    entry = enterprise()
    enterprise_services.enterprise_lock(
        enterprise=entry,
        actor=role_users["investigator"],
        reason="涉嫌冒用身份登记",
        case_reference="MY-2025-007",
    )
    case = intake("deregistration", enterprise_uscc=entry.uscc, investigation_reference=" MY-2025-007 ")
    assert case.investigation_reference == "MY-2025-007"
    assert case.enterprise == entry


def test_personal_id_of_a_person_born_before_the_district_existed_is_accepted(intake):
    # A 440115 number issued to someone born in 1960 (the code is where it was issued, not where born).
    case = intake(applicant_id_number=build_resident_id("440115", dt.date(1960, 1, 1), 5))
    assert case.pk
