import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bizreg.core.models import BackgroundJob
from bizreg.enterprises import services
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterpriseLock,
    FtzAddressRule,
    UsccException,
)
from bizreg.enterprises.tests.conftest import VALID_USCC, next_uscc, wrong_check_digit

pytestmark = pytest.mark.django_db


def test_create_stores_entry_with_initials_history_and_actor(create, clerk, authority):
    enterprise = create(uscc=VALID_USCC.lower(), name="广州南沙海港科技有限公司")
    assert enterprise.uscc == VALID_USCC  # normalized
    assert enterprise.authority == authority
    assert enterprise.name_initials == "gznshgkjyxgs"
    assert enterprise.uscc_is_exception is False
    record = enterprise.history.get()
    assert record.history_type == "+"
    assert record.history_user == clerk


def test_create_tags_ftz_from_the_first_matching_active_rule(create, authority, other_authority, street):
    FtzAddressRule.objects.create(
        authority=other_authority, area_name="别处", address_keyword="进港大道", priority=1
    )
    FtzAddressRule.objects.create(
        authority=authority, area_name="停用", address_keyword="进港", is_active=False
    )
    later = FtzAddressRule.objects.create(
        authority=authority, area_name="南沙片区", address_keyword="大道", priority=50
    )
    first = FtzAddressRule.objects.create(
        authority=authority, area_name="龙穴岛", address_keyword="进港", priority=5
    )

    enterprise = create(address="广州市南沙区进港大道 1 号")
    assert (enterprise.in_ftz, enterprise.ftz_area, enterprise.ftz_rule) == (True, "龙穴岛", first)

    outside = create(address="广州市南沙区黄阁北路 3 号")
    assert (outside.in_ftz, outside.ftz_area, outside.ftz_rule) == (False, "", None)
    assert later.pk  # the lower-priority rule exists but loses


def test_street_restricted_rule_only_matches_its_street(create, authority, street, other_street):
    FtzAddressRule.objects.create(
        authority=authority, area_name="黄阁", address_keyword="大道", street=other_street
    )
    assert create(address="进港大道 2 号", street=street).in_ftz is False
    assert create(address="黄阁大道 2 号", street=other_street).in_ftz is True


def test_manual_override_wins_and_keeps_the_matched_rule(create, ftz_rule):
    enterprise = create(ftz_override=False, ftz_override_reason="实际经营地在区外")
    assert enterprise.in_ftz is False
    assert enterprise.ftz_rule == ftz_rule
    assert enterprise.ftz_override_reason == "实际经营地在区外"

    forced = create(address="黄阁北路 1 号", ftz_override=True, ftz_override_reason="管委会认定")
    assert forced.in_ftz is True
    assert forced.ftz_rule is None


def test_manual_override_needs_a_reason(create):
    with pytest.raises(ValidationError) as info:
        create(ftz_override=True, ftz_override_reason=" ")
    assert "人工认定自贸区须填写理由" in info.value.message_dict["ftz_override_reason"][0]
    assert not Enterprise.objects.exists()


def test_rename_keeps_the_former_name_and_history_diff(create, clerk, investigator):
    enterprise = create(name="广州旧名贸易有限公司")
    updated = services.enterprise_update(
        enterprise=enterprise, actor=investigator, name="广州新名科技有限公司"
    )
    assert updated.name == "广州新名科技有限公司"
    assert updated.name_initials == "gzxmkjyxgs"
    former = EnterpriseFormerName.objects.get(enterprise=enterprise)
    assert former.name == "广州旧名贸易有限公司"
    assert former.used_until == timezone.localdate()
    latest = updated.history.first()
    assert latest.history_user == investigator
    delta = latest.diff_against(latest.prev_record)
    assert {c.field: (c.old, c.new) for c in delta.changes}["name"] == (
        "广州旧名贸易有限公司",
        "广州新名科技有限公司",
    )


def test_status_change_sets_status_changed_on(create, clerk):
    enterprise = create()
    assert enterprise.status_changed_on is None
    updated = services.enterprise_update(enterprise=enterprise, actor=clerk, status="deregistered")
    assert updated.status == "deregistered"
    assert updated.status_changed_on == timezone.localdate()
    given = services.enterprise_update(
        enterprise=updated, actor=clerk, status="active", status_changed_on=dt.date(2023, 1, 5)
    )
    assert given.status_changed_on == dt.date(2023, 1, 5)


def test_update_without_change_writes_no_history(create, clerk):
    enterprise = create()
    services.enterprise_update(enterprise=enterprise, actor=clerk, name=enterprise.name)
    assert enterprise.history.count() == 1


def test_update_rejects_unknown_fields(create, clerk):
    with pytest.raises(TypeError):
        services.enterprise_update(enterprise=create(), actor=clerk, authority_id=5)


def test_blank_id_number_on_update_keeps_the_recorded_one(create, clerk):
    enterprise = create()
    original = enterprise.legal_rep_id_number
    updated = services.enterprise_update(
        enterprise=enterprise, actor=clerk, legal_rep_id_number="", address="新地址"
    )
    assert updated.legal_rep_id_number == original


def test_update_of_locked_enterprise_only_for_its_case(create, clerk, investigator):
    enterprise = create()
    services.enterprise_lock(
        enterprise=enterprise, actor=investigator, reason="涉嫌冒用身份", case_reference="MY-2023-7"
    )
    with pytest.raises(services.EnterpriseLockedError) as info:
        services.enterprise_update(enterprise=enterprise, actor=clerk, address="别处 1 号")
    assert "涉嫌冒用身份" in str(info.value)
    assert "MY-2023-7" in str(info.value)
    updated = services.enterprise_update(
        enterprise=enterprise, actor=clerk, case_reference="MY-2023-7", status="revoked"
    )
    assert updated.status == "revoked"


def test_lock_unlock_cycle_with_who_when_why(create, investigator, clerk):
    enterprise = create()
    assert services.enterprise_lock_state(enterprise) is None
    lock = services.enterprise_lock(
        enterprise=enterprise, actor=investigator, reason="冒用身份调查", case_reference="C-1"
    )
    assert (lock.locked_by, lock.reason, lock.case_reference) == (investigator, "冒用身份调查", "C-1")
    assert lock.locked_at is not None
    assert services.enterprise_lock_state(enterprise) == lock

    with pytest.raises(services.AlreadyLockedError) as info:
        services.enterprise_lock(enterprise=enterprise, actor=clerk, reason="再次锁定")
    assert "已被" in str(info.value) and "冒用身份调查" in str(info.value)
    assert EnterpriseLock.objects.filter(enterprise=enterprise).count() == 1

    released = services.enterprise_unlock(enterprise=enterprise, actor=clerk, reason="调查结束")
    assert released.released_by == clerk and released.release_reason == "调查结束"
    assert services.enterprise_lock_state(enterprise) is None
    with pytest.raises(services.NotLockedError):
        services.enterprise_unlock(enterprise=enterprise, actor=clerk, reason="再解")
    services.enterprise_lock(enterprise=enterprise, actor=clerk, reason="第二次")
    assert enterprise.locks.count() == 2
    assert released.history.first().history_user == clerk


def test_lock_needs_a_reason(create, clerk):
    with pytest.raises(ValidationError) as info:
        services.enterprise_lock(enterprise=create(), actor=clerk, reason="   ")
    assert info.value.message_dict["reason"] == ["请填写锁定原因。"]


def test_assert_unlocked_lets_only_the_locking_case_through(create, investigator):
    enterprise = create()
    services.enterprise_assert_unlocked(enterprise=enterprise)  # free: nothing raised
    services.enterprise_lock(
        enterprise=enterprise, actor=investigator, reason="冻结", case_reference="CASE-9"
    )
    with pytest.raises(services.EnterpriseLockedError, match="冻结"):
        services.enterprise_assert_unlocked(enterprise=enterprise)
    with pytest.raises(services.EnterpriseLockedError):
        services.enterprise_assert_unlocked(enterprise=enterprise, case_reference="CASE-10")
    services.enterprise_assert_unlocked(enterprise=enterprise, case_reference="CASE-9")


def test_lock_without_case_cannot_be_bypassed_by_an_empty_case(create, investigator):
    enterprise = create()
    services.enterprise_lock(enterprise=enterprise, actor=investigator, reason="冻结")
    with pytest.raises(services.EnterpriseLockedError):
        services.enterprise_assert_unlocked(enterprise=enterprise, case_reference="")


# --- USCC exceptions ------------------------------------------------------------------------------------


def test_check_digit_failure_is_refused_without_recorded_exception(create):
    code = wrong_check_digit(next_uscc())
    with pytest.raises(ValidationError) as info:
        create(uscc=code)
    message = info.value.message_dict["uscc"][0]
    assert "第 18 位校验码错误" in message and "科室负责人" in message
    assert not Enterprise.objects.exists()


def test_manager_records_exception_then_clerk_registers_it_marked(create, manager, authority):
    code = wrong_check_digit(next_uscc())
    record = services.uscc_exception_confirm(
        authority=authority, actor=manager, uscc=code, reason="2015 年试点核发"
    )
    assert (record.confirmed_by, record.failed_check) == (manager, "uscc_check_digit")
    enterprise = create(uscc=code)
    assert enterprise.uscc_is_exception is True


def test_only_managers_confirm_exceptions(clerk, authority):
    with pytest.raises(PermissionDenied):
        services.uscc_exception_confirm(
            authority=authority, actor=clerk, uscc=wrong_check_digit(next_uscc()), reason="x"
        )
    assert not UsccException.objects.exists()


@pytest.mark.parametrize(
    "code, expected",
    [
        (VALID_USCC, "校验通过，无需登记例外"),
        ("91440115I2345678XX", "不得含字母"),
        ("9144011512345", "应为 18 位"),
    ],
)
def test_exception_only_for_check_digit_failures(manager, authority, code, expected):
    with pytest.raises(ValidationError) as info:
        services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="试点")
    assert expected in info.value.message_dict["uscc"][0]


def test_exception_for_wrong_org_code_check_is_refused(manager, authority):
    good = next_uscc()
    body = good[8:16]
    wrong = "0" if good[16] != "0" else "1"
    from stdnum.cn import uscc as stdnum_uscc

    partial = good[:8] + body + wrong
    code = partial + stdnum_uscc.calc_check_digit(partial)
    with pytest.raises(ValidationError) as info:
        services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="试点")
    assert "组织机构代码" in info.value.message_dict["uscc"][0]


def test_exception_needs_reason_and_is_recorded_once(manager, authority):
    code = wrong_check_digit(next_uscc())
    with pytest.raises(ValidationError) as info:
        services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="")
    assert "请填写确认理由" in info.value.message_dict["reason"][0]
    services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="试点")
    with pytest.raises(ValidationError) as info:
        services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="再次")
    assert "已登记校验例外" in info.value.message_dict["uscc"][0]


def test_exception_confirmed_in_the_create_call_by_a_user_holding_both_permissions(
    make_user, authority, entry
):
    from django.contrib.auth.models import Permission

    user = make_user("registration_clerk")
    user.user_permissions.add(Permission.objects.get(codename="confirm_uscc_exception"))
    code = wrong_check_digit(next_uscc())
    enterprise = services.enterprise_create(
        actor=user, authority=authority, uscc_exception_reason="早期试点代码，已核实", **entry(uscc=code)
    )
    assert enterprise.uscc_is_exception
    assert UsccException.objects.get(uscc=code).confirmed_by == user


def test_exception_reason_from_a_clerk_is_refused(create, clerk):
    code = wrong_check_digit(next_uscc())
    with pytest.raises(ValidationError) as info:
        create(uscc=code, uscc_exception_reason="我确认")
    assert "只有科室负责人可以确认校验例外" in info.value.message_dict["uscc"][0]
    assert not UsccException.objects.exists()


# --- duplicates -----------------------------------------------------------------------------------------


def test_duplicate_uscc_is_a_field_error_and_no_second_row(create):
    first = create()
    with pytest.raises(ValidationError) as info:
        create(uscc=first.uscc.lower(), name="另一家公司")
    assert info.value.message_dict["uscc"] == [services.DUPLICATE_USCC_MESSAGE]
    assert Enterprise.objects.count() == 1


def test_duplicate_slipping_past_the_check_hits_the_constraint_and_gives_the_same_error(create, monkeypatch):
    first = create()
    # As if a concurrent request inserted the code between our check and our insert.
    monkeypatch.setattr(services.RegisterLookups, "uscc_taken", lambda self, uscc, exclude_pk=None: False)
    with pytest.raises(ValidationError) as info:
        create(uscc=first.uscc)
    assert info.value.message_dict["uscc"] == [services.DUPLICATE_USCC_MESSAGE]
    assert Enterprise.objects.count() == 1


def test_changing_uscc_to_a_taken_one_is_refused(create, clerk):
    first, second = create(), create()
    with pytest.raises(ValidationError) as info:
        services.enterprise_update(enterprise=second, actor=clerk, uscc=first.uscc)
    assert info.value.message_dict["uscc"] == [services.DUPLICATE_USCC_MESSAGE]


# --- FTZ recompute --------------------------------------------------------------------------------------


def test_recompute_after_rule_change_updates_only_changed_rows_with_history(create, authority, manager):
    inside = create(address="广州市南沙区海滨路 1 号")
    outside = create(address="广州市南沙区黄阁北路 2 号")
    overridden = create(address="海滨路 3 号", ftz_override=False, ftz_override_reason="区外经营")
    assert not inside.in_ftz
    rule = FtzAddressRule.objects.create(authority=authority, area_name="南沙湾", address_keyword="海滨路")

    changed = services.ftz_rules_recompute(authority=authority, actor=manager)

    assert changed == 2  # inside gets the tag; the overridden one only records the matched rule
    inside.refresh_from_db()
    outside.refresh_from_db()
    overridden.refresh_from_db()
    assert (inside.in_ftz, inside.ftz_area, inside.ftz_rule) == (True, "南沙湾", rule)
    assert outside.in_ftz is False
    assert (overridden.in_ftz, overridden.ftz_rule) == (False, rule)
    record = inside.history.first()
    assert record.history_user == manager
    assert "重新判定" in record.history_change_reason
    assert services.ftz_rules_recompute(authority=authority, actor=manager) == 0


def test_rule_save_recomputes_in_a_background_job(
    create, authority, manager, eager, django_capture_on_commit_callbacks
):
    enterprise = create(address="龙穴岛 1 号")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.ftz_rule_save(
            rule=FtzAddressRule(authority=authority, area_name="龙穴岛", address_keyword="龙穴岛"),
            actor=manager,
        )
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.result == {"changed": 1}
    enterprise.refresh_from_db()
    assert enterprise.in_ftz and enterprise.ftz_area == "龙穴岛"


def test_rule_needs_keyword(authority, manager):
    with pytest.raises(ValidationError) as info:
        services.ftz_rule_save(
            rule=FtzAddressRule(authority=authority, area_name="x", address_keyword="  "), actor=manager
        )
    assert "address_keyword" in info.value.message_dict
