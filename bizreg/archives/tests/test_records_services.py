"""Services of the archive records: shelving, moving out and in, merging, describing items, the use log."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from bizreg.archives.models import (
    ArchiveAccessLog,
    ArchiveEvent,
    ArchiveFile,
    ArchiveStatus,
    DocType,
    ItemSource,
)
from bizreg.archives.services import items as item_services
from bizreg.archives.services import moves, shelving
from bizreg.archives.services.access_log import log_access
from bizreg.archives.services.records import archive_open
from bizreg.archives.tests.factories import make_archive, make_enterprise, make_shelf
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.testing.factories import valid_uscc


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def events(archive, action):
    return ArchiveEvent.objects.filter(object_type="archivefile", object_id=archive.pk, action=action)


def set_status(archive, status):
    ArchiveFile.objects.filter(pk=archive.pk).update(status=status)
    archive.refresh_from_db()


# --- shelf locations ------------------------------------------


def shelf_kwargs(**overrides):
    data = {"repository": "二号库房", "zone": "b", "column": 3, "section": 2, "layer": 4, "capacity": 2}
    data.update(overrides)
    return data


def test_shelf_create_normalizes_and_records(authority, archivist):
    shelf = shelving.shelf_create(authority=authority, actor=archivist, **shelf_kwargs())
    assert shelf.label == "二号库房-B区-03列-2节-4层"
    assert ArchiveEvent.objects.filter(
        object_type="shelflocation", object_id=shelf.pk, action="create"
    ).exists()


def test_shelf_duplicate_refused_with_label(authority, archivist):
    shelving.shelf_create(authority=authority, actor=archivist, **shelf_kwargs())
    with pytest.raises(ValidationError) as exc:
        shelving.shelf_create(authority=authority, actor=archivist, **shelf_kwargs(zone="B"))
    assert "二号库房-B区-03列-2节-4层 已存在" in str(exc.value)


def test_shelf_same_position_in_another_authority_is_fine(authority, other_authority, archivist):
    shelving.shelf_create(authority=authority, actor=archivist, **shelf_kwargs())
    shelving.shelf_create(authority=other_authority, actor=archivist, **shelf_kwargs())


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"repository": " "}, "repository"),
        ({"zone": ""}, "zone"),
        ({"column": 0}, "column"),
        ({"layer": -1}, "layer"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 10_001}, "capacity"),
    ],
)
def test_shelf_bad_input_refused(authority, archivist, bad, field):
    with pytest.raises(ValidationError) as exc:
        shelving.shelf_create(authority=authority, actor=archivist, **shelf_kwargs(**bad))
    assert field in exc.value.error_dict


def test_shelf_create_needs_permission(authority, manager):
    with pytest.raises(PermissionDenied):
        shelving.shelf_create(authority=authority, actor=manager, **shelf_kwargs())


def test_shelf_update_to_existing_position_refused(authority, archivist, shelf):
    other = make_shelf(authority, layer=2)
    with pytest.raises(ValidationError) as exc:
        shelving.shelf_update(
            shelf=other,
            actor=archivist,
            **shelf_kwargs(repository="一号库房", zone="A", column=1, section=1, layer=1, capacity=60),
        )
    assert "已存在" in str(exc.value)


def test_shelf_capacity_below_occupancy_refused(archive, archivist, authority):
    layer = make_shelf(authority, layer=7, capacity=2)
    second = make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0)
    shelving.archive_shelve(archive=archive, location=layer, actor=archivist)
    shelving.archive_shelve(archive=second, location=layer, actor=archivist)
    position = {"repository": "一号库房", "zone": "A", "column": 1, "section": 1, "layer": 7}
    with pytest.raises(ValidationError) as exc:
        shelving.shelf_update(shelf=layer, actor=archivist, capacity=1, **position)
    assert "现有 2 卷" in str(exc.value)
    assert shelving.shelf_update(shelf=layer, actor=archivist, capacity=2, **position).capacity == 2


def test_shelf_deactivate_refused_while_occupied(archive, archivist, shelf):
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    with pytest.raises(ValidationError) as exc:
        shelving.shelf_set_active(shelf=shelf, actor=archivist, active=False)
    assert "还有 1 卷" in str(exc.value)


def test_shelf_deactivate_and_reactivate(archivist, shelf):
    assert not shelving.shelf_set_active(shelf=shelf, actor=archivist, active=False).is_active
    assert shelving.shelf_set_active(shelf=shelf, actor=archivist, active=True).is_active


# --- shelving ------------------------------------------


def test_shelve_then_relocate(archive, archivist, shelf, authority):
    archive = shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    assert archive.status == ArchiveStatus.SHELVED
    assert archive.location == shelf and archive.shelved_at is not None
    assert events(archive, "shelve").get().to_state == ArchiveStatus.SHELVED
    other = make_shelf(authority, layer=2)
    archive = shelving.archive_shelve(archive=archive, location=other, actor=archivist, reason="整库")
    assert archive.location == other
    assert "→" in events(archive, "relocate").get().reason


def test_shelve_on_a_full_layer_refused(archive, archivist, authority):
    full = make_shelf(authority, layer=5, capacity=1)
    shelving.archive_shelve(
        archive=make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0),
        location=full,
        actor=archivist,
    )
    with pytest.raises(ValidationError) as exc:
        shelving.archive_shelve(archive=archive, location=full, actor=archivist)
    assert "已满（1/1 卷）" in str(exc.value)
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.PENDING and not events(archive, "shelve").exists()


def test_shelve_on_an_inactive_layer_refused(archive, archivist, authority):
    closed = make_shelf(authority, layer=6, is_active=False)
    with pytest.raises(ValidationError, match="已停用"):
        shelving.archive_shelve(archive=archive, location=closed, actor=archivist)


def test_shelve_on_another_authoritys_layer_refused(archive, archivist, other_authority):
    foreign = make_shelf(other_authority)
    with pytest.raises(ValidationError, match="其他登记机关"):
        shelving.archive_shelve(archive=archive, location=foreign, actor=archivist)


def test_shelve_on_the_same_layer_refused(archive, archivist, shelf):
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    with pytest.raises(ValidationError, match="已在库位"):
        shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)


def test_shelve_lent_archive_refused(archive, archivist, shelf, authority):
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    set_status(archive, ArchiveStatus.LENT)
    with pytest.raises(TransitionNotAllowed):
        shelving.archive_shelve(archive=archive, location=make_shelf(authority, layer=3), actor=archivist)


@pytest.mark.parametrize("role", ["manager", "department_viewer"])
def test_shelve_needs_permission(request, archive, shelf, role):
    with pytest.raises(PermissionDenied):
        shelving.archive_shelve(archive=archive, location=shelf, actor=request.getfixturevalue(role))


# --- moving out ------------------------------------------


def test_move_out_letter_lists_items_and_code(archive, archivist, shelf):
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    archive, letter = moves.archive_move_out(
        archive=archive,
        actor=archivist,
        destination="广州市天河区市场监督管理局",
        reason="穗天调档〔2024〕12号",
    )
    assert archive.status == ArchiveStatus.MOVED_OUT
    assert archive.moved_out_to == "广州市天河区市场监督管理局" and archive.location is None
    assert letter.startswith(b"%PDF")
    text = pdf_text(letter)
    assert "档案移交函" in text and archive.archival_code in text
    for item in archive.items.all():
        assert item.archival_code in text
    assert moves.move_out_letter_pdf(archive) == letter  # re-rendered identically
    assert "穗天调档" in events(archive, "move_out").get().reason


def test_move_out_refused_while_lent(archive, archivist, shelf):
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    set_status(archive, ArchiveStatus.LENT)
    with pytest.raises(TransitionNotAllowed, match="借出"):
        moves.archive_move_out(archive=archive, actor=archivist, destination="天河区", reason="调档函")
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.LENT and archive.moved_out_to == ""


def test_move_out_twice_refused(archive, archivist):
    moves.archive_move_out(archive=archive, actor=archivist, destination="天河区", reason="调档函")
    with pytest.raises(TransitionNotAllowed):
        moves.archive_move_out(archive=archive, actor=archivist, destination="越秀区", reason="调档函")


@pytest.mark.parametrize(
    "destination, reason, field", [("", "调档函", "destination"), ("天河区", " ", "reason")]
)
def test_move_out_needs_destination_and_reason(archive, archivist, destination, reason, field):
    with pytest.raises(ValidationError) as exc:
        moves.archive_move_out(archive=archive, actor=archivist, destination=destination, reason=reason)
    assert field in exc.value.error_dict


def test_move_out_needs_permission(archive, manager):
    with pytest.raises(PermissionDenied):
        moves.archive_move_out(archive=archive, actor=manager, destination="天河区", reason="调档函")


def test_letter_of_an_archive_not_moved_out_refused(archive):
    with pytest.raises(ValidationError, match="未迁出"):
        moves.move_out_letter_pdf(archive)


# --- moving in ------------------------------------------


def move_in(authority, actor, **overrides):
    data = {
        "authority": authority,
        "actor": actor,
        "enterprise_name": "广州迁入贸易有限公司",
        "uscc": valid_uscc("440106"),
        "moved_in_from": "广州市天河区市场监督管理局",
        "year": 2019,
        "items": [
            {
                "doc_type": DocType.APPLICATION,
                "title": "设立登记申请书",
                "doc_date": "2019-03-02",
                "pages": 4,
            },
            {"doc_type": DocType.ARTICLES, "title": "公司章程", "pages": "8"},
        ],
    }
    data.update(overrides)
    return moves.archive_move_in(**data)


def test_move_in_opens_archive_with_items(authority, archivist):
    archive = move_in(authority, archivist)
    assert archive.moved_in_from == "广州市天河区市场监督管理局" and archive.status == ArchiveStatus.PENDING
    items = list(archive.items.order_by("item_number"))
    assert [i.title for i in items] == ["设立登记申请书", "公司章程"]
    assert {i.source for i in items} == {ItemSource.MOVED_IN}
    assert items[0].doc_date.isoformat() == "2019-03-02" and items[1].pages == 8


def test_move_in_links_enterprise_on_the_register(authority, archivist):
    enterprise = make_enterprise(authority)
    archive = move_in(authority, archivist, uscc=enterprise.uscc)
    assert archive.enterprise == enterprise


def test_move_in_beside_an_existing_archive_stays_unlinked(archive, enterprise, archivist, authority):
    moved = move_in(authority, archivist, uscc=enterprise.uscc)
    assert moved.enterprise is None and moved.pk != archive.pk


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"uscc": "91440101MA5XXXXXX0"}, "uscc"),
        ({"uscc": ""}, "uscc"),
        ({"moved_in_from": ""}, "moved_in_from"),
        ({"items": []}, "items"),
        ({"items": [{"title": ""}]}, "items"),
        ({"items": [{"title": "章程", "doc_type": "nonsense"}]}, "items"),
        ({"items": [{"title": "章程", "doc_date": "2019-13-40"}]}, "items"),
        ({"items": [{"title": "章程", "pages": "many"}]}, "items"),
        ({"items": [{"title": "章程", "pages": -2}]}, "items"),
        ({"enterprise_name": " "}, "enterprise_name"),
        ({"year": 1800}, "year"),
    ],
)
def test_move_in_bad_input_refused(authority, archivist, overrides, field):
    with pytest.raises(ValidationError) as exc:
        move_in(authority, archivist, **overrides)
    assert field in exc.value.error_dict
    assert not ArchiveFile.objects.exclude(moved_in_from="").exists()


def test_move_in_needs_permission(authority, department_viewer):
    with pytest.raises(PermissionDenied):
        move_in(authority, department_viewer)


# --- merging ------------------------------------------


def test_merge_moves_items_renumbered_with_history(archive, enterprise, archivist, authority):
    source = move_in(authority, archivist, uscc=enterprise.uscc)
    moved_ids = list(source.items.order_by("item_number").values_list("pk", flat=True))
    target = moves.archive_merge(source=source, target=archive, actor=archivist, reason="迁入档案并入本档案")
    numbers = list(target.items.order_by("item_number").values_list("pk", "item_number", "archival_code"))
    assert [n for _pk, n, _c in numbers] == [1, 2, 3, 4, 5]
    assert [pk for pk, _n, _c in numbers][3:] == moved_ids
    assert numbers[3][2] == f"{archive.archival_code}-0004"
    source.refresh_from_db()
    assert source.merged_into == target and source.status == ArchiveStatus.MOVED_OUT
    assert source.items.count() == 0
    first = target.items.get(pk=moved_ids[0])
    old_codes = set(first.history.values_list("archival_code", flat=True))
    assert f"{source.archival_code}-0001" in old_codes  # where it came from stays in its history
    assert events(source, "merge").get().to_state == ArchiveStatus.MOVED_OUT
    assert "并入" in events(target, "merge_in").get().reason


def test_merge_into_target_without_uscc_fills_it(archive, archivist, authority):
    target = archive_open(authority=authority, actor=archivist, enterprise_name="某公司", uscc="", year=2020)
    moves.archive_merge(source=archive, target=target, actor=archivist, reason="补全")
    target.refresh_from_db()
    assert target.uscc == archive.uscc and target.enterprise_id == archive.enterprise_id


def test_merge_into_itself_refused(archive, archivist):
    with pytest.raises(ValidationError, match="它自己"):
        moves.archive_merge(source=archive, target=archive, actor=archivist, reason="x")


def test_merge_across_authorities_refused(archive, other_archive, archivist):
    with pytest.raises(ValidationError, match="其他登记机关"):
        moves.archive_merge(source=other_archive, target=archive, actor=archivist, reason="x")


def test_merge_into_moved_out_archive_refused(archive, enterprise, archivist, authority):
    source = move_in(authority, archivist, uscc=enterprise.uscc)
    moves.archive_move_out(archive=archive, actor=archivist, destination="天河区", reason="调档函")
    with pytest.raises(ValidationError, match="已迁出或已合并"):
        moves.archive_merge(source=source, target=archive, actor=archivist, reason="x")


def test_merge_with_different_usccs_refused(archive, archivist, authority):
    source = move_in(authority, archivist)
    with pytest.raises(ValidationError, match="统一社会信用代码不一致"):
        moves.archive_merge(source=source, target=archive, actor=archivist, reason="x")
    assert source.items.count() == 2


def test_merge_of_a_lent_archive_refused(archive, enterprise, archivist, authority):
    source = move_in(authority, archivist, uscc=enterprise.uscc)
    set_status(source, ArchiveStatus.LENT)
    with pytest.raises(TransitionNotAllowed):
        moves.archive_merge(source=source, target=archive, actor=archivist, reason="x")


def test_merge_needs_reason_and_permission(archive, enterprise, archivist, manager, authority):
    source = move_in(authority, archivist, uscc=enterprise.uscc)
    with pytest.raises(ValidationError, match="合并理由"):
        moves.archive_merge(source=source, target=archive, actor=archivist, reason="")
    with pytest.raises(PermissionDenied):
        moves.archive_merge(source=source, target=archive, actor=manager, reason="x")


# --- describing items ------------------------------------------


def test_item_describe_records_history_and_event(archive, archivist):
    item = archive.items.get(item_number=1)
    item = item_services.item_describe(
        item=item,
        actor=archivist,
        title="公司设立登记申请书",
        pages=5,
        keywords="设立 登记",
        reason="核对原件",
    )
    assert item.title == "公司设立登记申请书" and item.pages == 5
    latest = item.history.first()
    assert latest.history_user == archivist and latest.history_change_reason == "核对原件"
    assert "题名" in events(archive, "describe_item").get().reason


def test_item_describe_without_changes_writes_nothing(archive, archivist):
    item = archive.items.get(item_number=1)
    before = item.history.count()
    item_services.item_describe(item=item, actor=archivist, title=item.title)
    assert item.history.count() == before and not events(archive, "describe_item").exists()


@pytest.mark.parametrize(
    "fields, name",
    [
        ({"title": "  "}, "title"),
        ({"pages": -1}, "pages"),
        ({"classification": "secret"}, "classification"),
        ({"open_status": "maybe"}, "open_status"),
        ({"doc_number": "x" * 61}, "doc_number"),
    ],
)
def test_item_describe_bad_input_refused(archive, archivist, fields, name):
    with pytest.raises(ValidationError) as exc:
        item_services.item_describe(item=archive.items.first(), actor=archivist, **fields)
    assert name in exc.value.error_dict


def test_item_describe_future_date_refused(archive, archivist):
    import datetime as dt

    with pytest.raises(ValidationError, match="晚于今天"):
        item_services.item_describe(
            item=archive.items.first(), actor=archivist, doc_date=dt.date.today() + dt.timedelta(days=3)
        )


def test_item_describe_needs_permission(archive, manager):
    with pytest.raises(PermissionDenied):
        item_services.item_describe(item=archive.items.first(), actor=manager, title="x")


def flagged(archive):
    item = archive.items.first()
    item.flags = [{"code": "other_enterprise", "message": "载有其他企业的统一社会信用代码"}]
    item.save()
    return item


def test_flag_cleared_by_archivist_with_reason(archive, archivist):
    item = item_services.item_flag_clear(
        item=flagged(archive), actor=archivist, code="other_enterprise", reason="系股东企业的代码，无误"
    )
    assert item.flags == []
    assert "股东企业" in events(archive, "clear_flag").get().reason


def test_flag_clear_refusals(archive, archivist, digitizer):
    item = flagged(archive)
    with pytest.raises(ValidationError, match="理由"):
        item_services.item_flag_clear(item=item, actor=archivist, code="other_enterprise", reason="")
    with pytest.raises(ValidationError, match="没有这个问题标记"):
        item_services.item_flag_clear(item=item, actor=archivist, code="blank_page", reason="x")
    with pytest.raises(PermissionDenied):
        item_services.item_flag_clear(item=item, actor=digitizer, code="other_enterprise", reason="x")


# --- the use log ------------------------------------------


def test_log_access_takes_the_archives_authority(archive, archivist):
    item = archive.items.first()
    row = log_access(user=archivist, who="张三", item=item, action="view", detail="d" * 400)
    assert row.archive == archive and row.authority_id == archive.authority_id and len(row.detail) == 300


def test_log_access_refuses_unknown_action(archive):
    with pytest.raises(ValueError):
        log_access(who="x", archive=archive, action="delete")
    assert not ArchiveAccessLog.objects.exists()
