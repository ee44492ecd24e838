"""Effects of an approval on the register, through enterprises.services: establishment, change (the 自贸区
tag recomputed on an address change), deregistration, migration out (and its letter), migration in,
filing; a lock taken after intake stops the approval unless it is the lock's own investigation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bizreg.core.identifiers import validate_uscc
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import Enterprise, EnterpriseStatus, FtzAddressRule
from bizreg.registration.models import CaseState, Notice, NoticeKind
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures
from bizreg.registration.tests.cases_fixtures import at, next_uscc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def approve(step):
    def run(case):
        return step(step(step(case, "pass_pre_review"), "accept"), "approve")

    return run


def test_establishment_creates_the_enterprise_with_a_valid_new_uscc(intake, approve, freeze, authority):
    freeze(at(dt.date(2025, 3, 4), 10))
    case = approve(intake("establishment", enterprise_name="广州南沙新设测试贸易有限公司"))
    entry = Enterprise.objects.get(pk=case.enterprise_id)
    assert entry.name == "广州南沙新设测试贸易有限公司"
    assert entry.authority == authority
    assert validate_uscc(entry.uscc) == entry.uscc
    assert entry.uscc.startswith("91440115")
    assert case.uscc == entry.uscc
    assert entry.established_on == dt.date(2025, 3, 4)
    assert entry.registered_capital == Decimal("1000000.00")
    assert (entry.legal_rep_name, entry.industry, entry.status) == ("陈大文", "F", EnterpriseStatus.ACTIVE)
    notice = Notice.objects.get(case=case, kind=NoticeKind.APPROVAL_ESTABLISHMENT)
    assert entry.uscc in str(notice.content)
    history = entry.history.first()
    assert case.number in history.history_change_reason


def test_establishment_keeps_a_uscc_given_at_intake(intake, approve):
    code = next_uscc()
    case = approve(intake("establishment", uscc=code))
    assert case.enterprise.uscc == code


def test_individual_business_gets_category_2(intake, approve, intake_data):
    changes = intake_data()["requested_changes"] | {"entity_type": "individual"}
    case = approve(intake("establishment", requested_changes=changes))
    assert case.enterprise.uscc.startswith("92440115")


def test_a_uscc_taken_since_intake_refuses_the_approval(intake, approve, enterprise, step):
    code = next_uscc()
    case = step(step(intake("establishment", uscc=code), "pass_pre_review"), "accept")
    enterprise(uscc=code)
    with pytest.raises(TransitionNotAllowed) as exc:
        step(case, "approve")
    assert "无法核准" in str(exc.value) and "已登记" in str(exc.value)
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.decided_at is None


def test_address_change_updates_the_enterprise_and_recomputes_the_ftz_tag(
    intake, approve, enterprise, authority
):
    FtzAddressRule.objects.create(
        authority=authority, area_name="南沙片区·龙穴岛", address_keyword="进港大道"
    )
    entry = enterprise(address="广州市南沙区环市大道 1 号")
    assert entry.in_ftz is False
    case = approve(
        intake(
            "change", enterprise_uscc=entry.uscc, requested_changes={"address": "广州市南沙区进港大道 99 号"}
        )
    )
    entry.refresh_from_db()
    assert entry.address == "广州市南沙区进港大道 99 号"
    assert (entry.in_ftz, entry.ftz_area) == (True, "南沙片区·龙穴岛")
    notice = Notice.objects.get(case=case, kind=NoticeKind.APPROVAL_CHANGE)
    assert ["住所", "广州市南沙区环市大道 1 号", "广州市南沙区进港大道 99 号"] in notice.content["blocks"][2][
        "rows"
    ]


def test_name_change_keeps_the_former_name(intake, approve, enterprise):
    entry = enterprise(name="广州南沙旧名有限公司")
    case = approve(
        intake("change", enterprise_uscc=entry.uscc, requested_changes={"name": "广州南沙新名有限公司"})
    )
    entry.refresh_from_db()
    assert entry.name == "广州南沙新名有限公司"
    assert list(entry.former_names.values_list("name", flat=True)) == ["广州南沙旧名有限公司"]
    assert case.enterprise_name == "广州南沙新名有限公司"


@pytest.mark.parametrize("case_type", ["deregistration", "simple_deregistration"])
def test_deregistration_sets_the_status(intake, approve, enterprise, freeze, case_type):
    freeze(at(dt.date(2025, 6, 3), 10))
    entry = enterprise()
    case = approve(intake(case_type, enterprise_uscc=entry.uscc))
    entry.refresh_from_db()
    assert (entry.status, entry.status_changed_on) == (EnterpriseStatus.DEREGISTERED, dt.date(2025, 6, 3))
    assert Notice.objects.filter(case=case, kind=NoticeKind.APPROVAL_DEREGISTRATION).count() == 1


def test_a_revoked_enterprise_is_deregistered_on_approval(intake, approve, enterprise, freeze, clerk):
    from bizreg.enterprises import services as enterprise_services

    freeze(at(dt.date(2025, 6, 3), 10))
    entry = enterprise()
    enterprise_services.enterprise_update(
        enterprise=entry, actor=clerk, status=EnterpriseStatus.REVOKED, status_changed_on=dt.date(2025, 5, 6)
    )
    approve(intake("deregistration", enterprise_uscc=entry.uscc))
    entry.refresh_from_db()
    assert (entry.status, entry.status_changed_on) == (EnterpriseStatus.DEREGISTERED, dt.date(2025, 6, 3))


def test_migration_out_sets_moved_out_and_issues_the_letter(intake, approve, enterprise):
    entry = enterprise()
    case = approve(
        intake(
            "migration_out",
            enterprise_uscc=entry.uscc,
            requested_changes={
                "destination_authority": "佛山市顺德区市场监督管理局",
                "destination_address": "佛山市顺德区大良街道 1 号",
            },
        )
    )
    entry.refresh_from_db()
    assert entry.status == EnterpriseStatus.MOVED_OUT
    letter = Notice.objects.get(case=case, kind=NoticeKind.MIGRATION_LETTER)
    assert letter.content["addressee"] == "佛山市顺德区市场监督管理局"
    assert "佛山市顺德区大良街道 1 号" in str(letter.content)


def test_migration_in_creates_the_enterprise_with_its_existing_uscc(intake, approve, authority):
    case = approve(intake("migration_in"))
    entry = case.enterprise
    assert entry.authority == authority
    assert entry.uscc == case.uscc and entry.uscc.startswith("91440106")
    assert entry.established_on == dt.date(2015, 3, 9)


def test_filing_changes_nothing_in_the_register(intake, approve, enterprise):
    entry = enterprise()
    before = Enterprise.objects.filter(pk=entry.pk).values().get()
    case = approve(intake("filing", enterprise_uscc=entry.uscc))
    assert Enterprise.objects.filter(pk=entry.pk).values().get() == before
    assert Notice.objects.filter(case=case, kind=NoticeKind.APPROVAL_CHANGE).count() == 1


def test_a_lock_taken_after_intake_stops_the_approval(intake, step, enterprise, role_users):
    entry = enterprise()
    case = step(step(intake("deregistration", enterprise_uscc=entry.uscc), "pass_pre_review"), "accept")
    enterprise_services.enterprise_lock(
        enterprise=entry, actor=role_users["investigator"], reason="冒用身份核查中"
    )
    with pytest.raises(TransitionNotAllowed) as exc:
        step(case, "approve")
    assert "冒用身份核查中" in str(exc.value)
    entry.refresh_from_db()
    assert entry.status == EnterpriseStatus.ACTIVE
    assert not Notice.objects.filter(case=case, kind=NoticeKind.APPROVAL_DEREGISTRATION).exists()


def test_the_investigation_that_locked_the_enterprise_may_deregister_it(
    intake, approve, enterprise, role_users
):
    entry = enterprise()
    enterprise_services.enterprise_lock(
        enterprise=entry, actor=role_users["investigator"], reason="冒用身份", case_reference="MY-2025-001"
    )
    approve(intake("deregistration", enterprise_uscc=entry.uscc, investigation_reference="MY-2025-001"))
    entry.refresh_from_db()
    assert entry.status == EnterpriseStatus.DEREGISTERED


def test_an_enterprise_deregistered_meanwhile_refuses_a_change(intake, step, enterprise, clerk):
    entry = enterprise()
    case = step(step(intake("change", enterprise_uscc=entry.uscc), "pass_pre_review"), "accept")
    enterprise_services.enterprise_update(enterprise=entry, actor=clerk, status=EnterpriseStatus.DEREGISTERED)
    with pytest.raises(TransitionNotAllowed) as exc:
        step(case, "approve")
    assert "注销" in str(exc.value)
