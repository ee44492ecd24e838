"""Licence stock: receiving batches, printing the next serial, spoiled and voided sheets, reorder levels."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bizreg.registration.models import CaseState, LicenceBatch, LicenceKind, LicenceSheet, RegistrationCase
from bizreg.registration.selectors import licences as selectors
from bizreg.registration.services import licences
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    case,
    clerk,
    make_case,
    manager,
    post_licence,
    private_media,
    receive,
)

pytestmark = pytest.mark.django_db

ORIGINAL, DUPLICATE = LicenceKind.ORIGINAL, LicenceKind.DUPLICATE


def batch_args(**overrides):
    data = {
        "kind": ORIGINAL,
        "prefix": "NS",
        "serial_start": 1001,
        "serial_end": 1010,
        "unit_cost": "3.50",
        "received_on": dt.date(2023, 1, 5),
        "supplier": "广东省印刷厂",
    }
    data.update(overrides)
    return data


# --- receiving -----------------------------------------------------------------------------------------


def test_a_batch_creates_one_blank_per_serial(authority, manager):
    batch = licences.licence_batch_receive(authority=authority, actor=manager, **batch_args())
    sheets = list(LicenceSheet.objects.filter(batch=batch).order_by("number"))
    assert [s.serial for s in sheets] == [f"NS{n:08d}" for n in range(1001, 1011)]
    assert {s.status for s in sheets} == {LicenceSheet.Status.BLANK}
    assert {s.kind for s in sheets} == {ORIGINAL}
    assert batch.unit_cost == Decimal("3.50")
    assert batch.history.first().history_user == manager


@pytest.mark.parametrize(
    ("start", "end"),
    [(1005, 1020), (990, 1001), (1010, 1010), (1003, 1004), (900, 2000)],
    ids=["tail", "head", "last-serial", "inside", "around"],
)
def test_overlapping_ranges_are_refused_naming_the_batch(authority, manager, start, end):
    licences.licence_batch_receive(authority=authority, actor=manager, **batch_args())
    with pytest.raises(ValidationError) as caught:
        licences.licence_batch_receive(
            authority=authority, actor=manager, **batch_args(serial_start=start, serial_end=end)
        )
    message = caught.value.message_dict["serial_start"][0]
    assert "编号段与已入库的批次重叠" in message
    assert "NS00001001–NS00001010" in message
    assert LicenceBatch.objects.count() == 1
    assert LicenceSheet.objects.count() == 10


def test_serials_are_unique_across_authorities_and_kinds(authority, other_authority, manager, make_user):
    licences.licence_batch_receive(authority=authority, actor=manager, **batch_args())
    other_manager = make_user("manager", authorities=[other_authority])
    with pytest.raises(ValidationError, match="广州市南沙区政务服务和数据管理局"):
        licences.licence_batch_receive(
            authority=other_authority, actor=other_manager, **batch_args(kind=DUPLICATE, serial_start=1010)
        )
    # The same numbers under another prefix are other serials.
    licences.licence_batch_receive(authority=authority, actor=manager, **batch_args(prefix="NF"))
    assert LicenceSheet.objects.count() == 20


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"serial_end": 1000}, "serial_end", "终止编号不能小于起始编号"),
        ({"serial_start": 0}, "serial_start", "起始编号应在 1 至"),
        ({"serial_start": "12a"}, "serial_start", "起始编号应为整数"),
        ({"serial_end": 1001 + 50_000}, "serial_end", "一个批次最多登记 50000 张"),
        ({"unit_cost": "-1"}, "unit_cost", "单价应为不小于 0 的金额"),
        ({"unit_cost": "abc"}, "unit_cost", "单价应为不小于 0 的金额"),
        ({"unit_cost": "NaN"}, "unit_cost", "单价应为不小于 0 的金额"),
        ({"prefix": "N-S"}, "prefix", "编号前缀只能由"),
        ({"kind": "poster"}, "kind", "请选择执照类型"),
        ({"received_on": dt.date.today() + dt.timedelta(days=2)}, "received_on", "入库日期不能晚于今天"),
        ({"supplier": "厂" * 101}, "supplier", "供应商名称不能超过 100 个字"),
    ],
)
def test_bad_batches_are_refused_with_field_errors(authority, manager, overrides, field, message):
    with pytest.raises(ValidationError) as caught:
        licences.licence_batch_receive(authority=authority, actor=manager, **batch_args(**overrides))
    assert message in caught.value.message_dict[field][0]
    assert not LicenceSheet.objects.exists()


# --- printing ------------------------------------------------------------------------------------------


def test_printing_takes_the_lowest_blank_serial_of_the_kind(authority, manager, clerk, case):
    receive(authority, manager, kind=ORIGINAL, count=3, start=500)
    receive(authority, manager, kind=ORIGINAL, count=3, start=20)  # delivered later, lower numbers
    receive(authority, manager, kind=DUPLICATE, count=3, start=700)
    original = licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    duplicate = licences.licence_print(case=case, kind=DUPLICATE, actor=clerk)
    assert original.serial == "NS00000020"
    assert duplicate.serial == "NS00000700"
    assert original.status == LicenceSheet.Status.PRINTED
    assert original.case == case and original.used_by == clerk and original.used_at is not None


def test_twenty_prints_use_twenty_different_serials(authority, manager, clerk):
    receive(authority, manager, kind=DUPLICATE, count=25, start=1)
    serials = [
        licences.licence_print(case=make_case(authority), kind=DUPLICATE, actor=clerk).serial
        for _ in range(20)
    ]
    assert serials == [f"NS{n:08d}" for n in range(1, 21)]


def test_another_authoritys_stock_is_never_used(authority, other_authority, manager, clerk, case, make_user):
    receive(other_authority, make_user("manager", authorities=[other_authority]), kind=ORIGINAL, count=5)
    with pytest.raises(licences.LicenceStockEmpty) as caught:
        licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    assert str(caught.value) == (
        "广州市南沙区政务服务和数据管理局的营业执照正本空白纸已用完，请先登记入库新的执照纸后再打印。"
    )


def test_printing_with_empty_stock_changes_nothing(authority, manager, clerk, case):
    receive(authority, manager, kind=ORIGINAL, count=1)
    licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    with pytest.raises(licences.LicenceStockEmpty):
        licences.licence_print(case=make_case(authority), kind=ORIGINAL, actor=clerk)
    assert LicenceSheet.objects.filter(status=LicenceSheet.Status.PRINTED).count() == 1


def test_one_valid_original_per_case(authority, manager, clerk, case):
    receive(authority, manager, kind=ORIGINAL, count=3)
    receive(authority, manager, kind=DUPLICATE, count=3)
    licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    with pytest.raises(licences.LicenceError, match="已打印营业执照正本"):
        licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    # Several duplicates may be issued.
    licences.licence_print(case=case, kind=DUPLICATE, actor=clerk)
    licences.licence_print(case=case, kind=DUPLICATE, actor=clerk)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"state": CaseState.ACCEPTED}, "只有已核准的业务可以打印营业执照，当前状态为“已受理”"),
        ({"state": CaseState.REJECTED}, "当前状态为“不予登记”"),
        ({"case_type": "deregistration"}, "“注销（普通）”业务不打印营业执照"),
        ({"case_type": "migration_out"}, "“迁出”业务不打印营业执照"),
    ],
)
def test_only_approved_cases_that_need_a_licence_print(authority, manager, clerk, overrides, message):
    receive(authority, manager, kind=ORIGINAL, count=1)
    with pytest.raises(licences.LicenceError, match=message):
        licences.licence_print(case=make_case(authority, **overrides), kind=ORIGINAL, actor=clerk)
    assert LicenceSheet.objects.filter(status=LicenceSheet.Status.BLANK).count() == 1


# --- spoil and void ------------------------------------------------------------------------------------


def test_a_spoiled_print_is_replaced_by_the_next_sheet_for_the_same_case(authority, manager, clerk, case):
    receive(authority, manager, kind=ORIGINAL, count=3, start=1)
    first = licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    replacement = licences.licence_spoil(sheet=first, actor=clerk, reason="卡纸，字迹重叠")
    first.refresh_from_db()
    assert first.status == LicenceSheet.Status.SPOILED
    assert first.reason == "卡纸，字迹重叠" and first.retired_by == clerk
    assert first.replaced_by == replacement
    assert replacement.case == case and replacement.serial == "NS00000002"
    assert replacement.status == LicenceSheet.Status.PRINTED


def test_a_spoil_with_no_blank_left_is_still_recorded(authority, manager, clerk, case):
    receive(authority, manager, kind=ORIGINAL, count=1)
    first = licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    assert licences.licence_spoil(sheet=first, actor=clerk, reason="墨粉不足") is None
    first.refresh_from_db()
    assert first.status == LicenceSheet.Status.SPOILED
    # Once restocked, the case can be printed again.
    receive(authority, manager, kind=ORIGINAL, count=1)
    assert licences.licence_print(case=case, kind=ORIGINAL, actor=clerk).case == case


def test_spoil_and_void_need_a_reason_and_a_valid_status(authority, manager, clerk, case):
    receive(authority, manager, kind=ORIGINAL, count=3)
    blank = LicenceSheet.objects.order_by("number").last()
    printed = licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    with pytest.raises(ValidationError, match="请填写原因"):
        licences.licence_spoil(sheet=printed, actor=clerk, reason="  ")
    with pytest.raises(licences.LicenceError, match="只有已打印的执照纸可以登记为打印损坏"):
        licences.licence_spoil(sheet=blank, actor=clerk, reason="x")
    licences.licence_void(sheet=blank, actor=manager, reason="库存受潮")
    licences.licence_void(sheet=printed, actor=clerk, reason="企业变更后交回")
    with pytest.raises(licences.LicenceError, match="已是“作废”，不能再作废"):
        licences.licence_void(sheet=printed, actor=clerk, reason="again")
    statuses = dict(LicenceSheet.objects.values_list("serial", "status"))
    assert statuses[blank.serial] == statuses[printed.serial] == LicenceSheet.Status.VOIDED
    # A voided blank is never printed.
    licences.licence_print(case=make_case(authority), kind=ORIGINAL, actor=clerk)
    assert LicenceSheet.objects.filter(status=LicenceSheet.Status.BLANK).count() == 0


def _spoilable(sheet: LicenceSheet) -> bool:
    """Whether the ledger offers 打印损坏 on `sheet` (the list's annotation)."""
    return licences.with_spoilable(LicenceSheet.objects.filter(pk=sheet.pk)).get().can_spoil


def _printed_then(authority, manager, clerk, state: str) -> tuple[RegistrationCase, LicenceSheet]:
    """A case's original printed, the case then moved on to `state`."""
    receive(authority, manager, kind=ORIGINAL, count=5)
    case = make_case(authority)
    printed = licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    RegistrationCase.objects.filter(pk=case.pk).update(state=state)
    case.refresh_from_db()
    printed.refresh_from_db()
    return case, printed


def test_a_licence_posted_to_the_applicant_is_voided_not_spoiled(authority, manager, clerk):
    case, printed = _printed_then(authority, manager, clerk, CaseState.LICENSED)
    assert licences.licence_spoil_refusal(printed) is None and _spoilable(printed)
    package = post_licence(case, clerk)
    posted_on = timezone.localtime(package.recorded_at).date().isoformat()
    with pytest.raises(licences.LicenceError) as refused:
        licences.licence_spoil(sheet=printed, actor=clerk, reason="卡纸")
    assert str(refused.value) == (
        f"编号 {printed.serial} 的营业执照已于 {posted_on} 寄出（顺丰速运 SF1234567890123），"
        "不能再登记为打印损坏；如需收回，请作废。"
    )
    assert not _spoilable(printed)
    # Nothing changed: the sheet is still the case's valid licence and no second one was printed.
    assert list(LicenceSheet.objects.filter(case=case).values_list("serial", "status")) == [
        (printed.serial, LicenceSheet.Status.PRINTED)
    ]
    # Returned by the courier and withdrawn: voided, printed again — the new print may still be spoiled.
    licences.licence_void(sheet=printed, actor=clerk, reason="快递退回，收件地址有误")
    reprinted = licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    assert licences.licence_spoil_refusal(reprinted) is None and _spoilable(reprinted)
    assert licences.licence_spoil(sheet=reprinted, actor=clerk, reason="卡纸", reprint=False) is None


def test_a_licence_of_an_archived_case_is_voided_not_spoiled(authority, manager, clerk):
    case, printed = _printed_then(authority, manager, clerk, CaseState.ARCHIVED)
    with pytest.raises(licences.LicenceError) as refused:
        licences.licence_spoil(sheet=printed, actor=clerk, reason="卡纸")
    assert str(refused.value) == (
        f"业务 {case.number} 当前为“已归档”，编号 {printed.serial} 的营业执照已发出，"
        "不能再登记为打印损坏；如需收回，请作废。"
    )
    assert not _spoilable(printed)
    assert LicenceSheet.objects.filter(status=LicenceSheet.Status.PRINTED).count() == 1
    assert (
        licences.licence_void(sheet=printed, actor=clerk, reason="企业交回").status
        == LicenceSheet.Status.VOIDED
    )


# --- stock levels --------------------------------------------------------------------------------------


def test_stock_levels_and_the_reorder_warning(authority, manager, clerk, case, settings):
    settings.LICENCE_REORDER_LEVEL = 5
    receive(authority, manager, kind=ORIGINAL, count=6)
    receive(authority, manager, kind=DUPLICATE, count=10)
    licences.licence_print(case=case, kind=ORIGINAL, actor=clerk)
    levels = {level.kind: level for level in selectors.stock_levels(user=clerk)}
    assert (levels[ORIGINAL].blank, levels[ORIGINAL].printed, levels[ORIGINAL].received) == (5, 1, 6)
    assert not levels[ORIGINAL].below_reorder_level  # 5 left, warning below 5
    licences.licence_print(case=make_case(authority), kind=ORIGINAL, actor=clerk)
    assert [w.kind for w in selectors.stock_warnings(user=clerk)] == [ORIGINAL]
    # A manager's level for the authority replaces the default.
    licences.licence_reorder_level_set(authority=authority, kind=DUPLICATE, reorder_level=50, actor=manager)
    assert {w.kind for w in selectors.stock_warnings(user=clerk)} == {ORIGINAL, DUPLICATE}


@pytest.mark.parametrize("level", [-1, "many", 2_000_000])
def test_bad_reorder_levels_are_refused(authority, manager, level):
    with pytest.raises(ValidationError):
        licences.licence_reorder_level_set(
            authority=authority, kind=ORIGINAL, reorder_level=level, actor=manager
        )


def test_stock_is_scoped_to_the_users_authorities(authority, other_authority, manager, make_user):
    receive(other_authority, make_user("manager", authorities=[other_authority]), count=7)
    levels = selectors.stock_levels(user=manager)
    assert {level.authority for level in levels} == {authority}
    assert sum(level.blank for level in levels) == 0
