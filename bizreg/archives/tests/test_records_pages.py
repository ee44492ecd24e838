"""The archive record pages per role: who may read, who may act, tenancy, search, export, the use log."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.archives.models import ArchiveAccessLog, ArchiveFile, ArchiveStatus, OpenStatus, ShelfLocation
from bizreg.archives.services import moves, shelving
from bizreg.archives.tests.factories import make_archive, make_enterprise, make_shelf
from bizreg.core.models import BackgroundJob
from bizreg.testing.factories import valid_uscc

READ_PAGES = [
    ("archives:archive_list", False),
    ("archives:archive_export", False),
    ("archives:moved_list", False),
    ("archives:shelf_list", False),
    ("archives:archive_detail", True),
]


def url_for(name, archive, with_pk):
    return reverse(name, args=[archive.pk]) if with_pk else reverse(name)


@pytest.mark.parametrize("role", ["archivist", "manager", "department_viewer"])
@pytest.mark.parametrize("name, with_pk", READ_PAGES)
def test_readers_see_archive_pages(request, client_for, archive, role, name, with_pk):
    response = client_for(request.getfixturevalue(role)).get(url_for(name, archive, with_pk))
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["digitizer", "clerk"])
@pytest.mark.parametrize("name, with_pk", READ_PAGES)
def test_other_roles_get_403(request, client_for, archive, role, name, with_pk):
    response = client_for(request.getfixturevalue(role)).get(url_for(name, archive, with_pk))
    assert response.status_code == 403


def test_anonymous_is_sent_to_login(client, archive):
    response = client.get(reverse("archives:archive_detail", args=[archive.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


ACT_PAGES = [
    ("archives:archive_shelve", True),
    ("archives:archive_move_out", True),
    ("archives:archive_merge", True),
    ("archives:archive_move_in", False),
    ("archives:shelf_new", False),
]


@pytest.mark.parametrize("role", ["manager", "department_viewer"])
@pytest.mark.parametrize("name, with_pk", ACT_PAGES)
def test_readers_cannot_shelve_or_move(request, client_for, archive, role, name, with_pk):
    client = client_for(request.getfixturevalue(role))
    url = url_for(name, archive, with_pk)
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize("name, with_pk", ACT_PAGES)
def test_archivist_opens_action_forms(client_for, archivist, archive, name, with_pk):
    assert client_for(archivist).get(url_for(name, archive, with_pk)).status_code == 200


def test_other_authoritys_archive_is_404(client_for, archivist, other_archive):
    response = client_for(archivist).get(reverse("archives:archive_detail", args=[other_archive.pk]))
    assert response.status_code == 404
    item = other_archive.items.first()
    assert client_for(archivist).get(reverse("archives:item_detail", args=[item.pk])).status_code == 404


def test_detail_view_is_logged(client_for, manager, archive):
    client_for(manager).get(reverse("archives:archive_detail", args=[archive.pk]))
    log = ArchiveAccessLog.objects.get(archive=archive)
    assert log.user == manager and log.action == "view" and log.authority_id == archive.authority_id


def test_detail_shows_header_groups_events_and_actions(client_for, archivist, archive, enterprise):
    type(enterprise).objects.filter(pk=enterprise.pk).update(in_ftz=True, ftz_area="南沙片区")
    html = client_for(archivist).get(reverse("archives:archive_detail", args=[archive.pk])).content.decode()
    assert archive.archival_code in html and 'data-testid="ftz-tag"' in html
    assert html.count('data-testid="item-group"') == 1
    assert reverse("archives:archive_shelve", args=[archive.pk]) in html
    assert reverse("archives:archive_move_out", args=[archive.pk]) in html
    assert "添加档案件" in html  # the event trail


def test_department_viewer_sees_no_action_buttons(client_for, department_viewer, archive):
    html = (
        client_for(department_viewer)
        .get(reverse("archives:archive_detail", args=[archive.pk]))
        .content.decode()
    )
    assert reverse("archives:archive_shelve", args=[archive.pk]) not in html
    assert reverse("archives:archive_move_out", args=[archive.pk]) not in html


def test_controlled_items_hidden_without_permission(client_for, make_user, archivist, archive):
    from django.contrib.auth.models import Permission

    reader = make_user()
    reader.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="archives", codename__in=["view_archivefile", "view_archiveitem"]
        )
    )
    controlled = archive.items.get(open_status=OpenStatus.CONTROLLED)
    html = client_for(reader).get(reverse("archives:archive_detail", args=[archive.pk])).content.decode()
    assert controlled.archival_code not in html and 'data-testid="hidden-items"' in html
    assert client_for(reader).get(reverse("archives:item_detail", args=[controlled.pk])).status_code == 404
    full = client_for(archivist).get(reverse("archives:archive_detail", args=[archive.pk])).content.decode()
    assert controlled.archival_code in full


def test_list_search_and_filters(client_for, archivist, archive, authority, shelf):
    other = make_archive(
        enterprise=make_enterprise(authority, name="黄阁物流有限公司"), actor=archivist, items=0
    )
    shelving.archive_shelve(archive=other, location=shelf, actor=archivist)
    client = client_for(archivist)
    url = reverse("archives:archive_list")

    def codes(params):
        return [a.archival_code for a in client.get(url, params).context["page"]]

    assert codes({"q": "海港"}) == [archive.archival_code]
    assert codes({"q": archive.uscc[:10].lower()}) == [archive.archival_code]
    assert codes({"q": other.archival_code}) == [other.archival_code]
    assert codes({"status": ArchiveStatus.SHELVED}) == [other.archival_code]
    assert codes({"location": shelf.pk}) == [other.archival_code]
    type(archive.enterprise).objects.filter(pk=archive.enterprise_id).update(in_ftz=True)
    assert codes({"in_ftz": "1"}) == [archive.archival_code]
    assert codes({"in_ftz": "0"}) == [other.archival_code]
    bad = client.get(url, {"year": "abc"})
    assert bad.status_code == 200 and 'data-testid="filter-errors"' in bad.content.decode()


def test_list_filters_down_the_shelving_hierarchy(client_for, archivist, authority, other_authority):
    """库房 → 区 → 列 instead of one drop-down of every shelf layer; one layer still by id (as the shelf
    list links to it)."""
    layers = {
        "a1": make_shelf(authority, repository="一号库房", zone="A", column=1),
        "a1_upper": make_shelf(authority, repository="一号库房", zone="A", column=1, layer=2),
        "a2": make_shelf(authority, repository="一号库房", zone="A", column=2),
        "b1": make_shelf(authority, repository="一号库房", zone="B", column=1),
        "other_repository": make_shelf(authority, repository="二号库房", zone="A", column=1),
    }
    make_shelf(other_authority, repository="外区库房", zone="Z", column=7)
    codes_on = {}
    for key, layer in layers.items():
        archive = make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0)
        shelving.archive_shelve(archive=archive, location=layer, actor=archivist)
        codes_on[key] = archive.archival_code
    unshelved = make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0)
    client = client_for(archivist)
    url = reverse("archives:archive_list")

    def codes(params):
        return sorted(a.archival_code for a in client.get(url, params).context["page"])

    def expected(*keys):
        return sorted(codes_on[key] for key in keys)

    assert codes({"repository": "一号库房"}) == expected("a1", "a1_upper", "a2", "b1")
    assert codes({"repository": "一号库房", "zone": "A"}) == expected("a1", "a1_upper", "a2")
    assert codes({"repository": "一号库房", "zone": "A", "column": 1}) == expected("a1", "a1_upper")
    assert codes({"zone": "A", "column": 1}) == expected("a1", "a1_upper", "other_repository")
    assert codes({}) == sorted([*codes_on.values(), unshelved.archival_code])  # no filter: every file

    page = client.get(url, {"location": layers["a1"].pk, "year": ""})
    html = page.content.decode()
    assert [a.archival_code for a in page.context["page"]] == [codes_on["a1"]]
    assert f'type="hidden" name="location" value="{layers["a1"].pk}"' in html
    assert layers["a1"].label in html and f'href="{url}?year="' in html  # the way back to every layer
    # One drop-down per level, with the user's own repositories only: no option per shelf layer.
    assert html.count("<option") < 20 and "外区库房" not in html
    assert html.count('value="一号库房"') == 1 and html.count('value="二号库房"') == 1

    for bad in ({"repository": "外区库房"}, {"zone": "Z"}, {"column": "abc"}, {"column": 0}):
        response = client.get(url, bad)
        assert response.status_code == 200 and 'data-testid="filter-errors"' in response.content.decode()
    api = client.get("/api/archive-files/", {"repository": "外区库房"})
    assert api.status_code == 400 and "repository" in api.json()
    listed = client.get("/api/archive-files/", {"repository": "一号库房", "zone": "B"}).json()
    assert [row["archival_code"] for row in listed["results"]] == [codes_on["b1"]]


def test_list_is_paginated(client_for, archivist, authority):
    for _ in range(31):
        make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0)
    page = client_for(archivist).get(reverse("archives:archive_list"), {"page": 2}).context["page"]
    assert page.number == 2 and len(page.object_list) == 1


def test_export_is_filtered_and_scoped(client_for, archivist, archive, other_archive, authority):
    make_archive(enterprise=make_enterprise(authority, name="黄阁物流有限公司"), actor=archivist, items=0)
    response = client_for(archivist).get(reverse("archives:archive_export"), {"q": "海港"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "档号" and len(rows) == 2
    assert rows[1][0] == archive.archival_code and rows[1][7] == 3


def test_a_large_export_is_made_in_the_background_scoped_alike(
    client_for,
    archivist,
    archive,
    other_archive,
    authority,
    settings,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    make_archive(enterprise=make_enterprise(authority, name="黄阁物流有限公司"), actor=archivist, items=0)
    settings.EXPORT_INLINE_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        queued = client_for(archivist).get(reverse("archives:archive_export"), {"status": archive.status})
    job = BackgroundJob.objects.get(kind="core.export")
    assert queued["Location"] == f"/jobs/{job.pk}/"
    download = client_for(archivist).get(f"/jobs/{job.pk}/download/")
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values)
    codes = {r[0] for r in rows[1:]}
    assert archive.archival_code in codes and other_archive.archival_code not in codes  # another authority's


def test_moved_list_shows_moved_out_and_in(client_for, archivist, archive, authority):
    moves.archive_move_out(archive=archive, actor=archivist, destination="天河区", reason="调档函")
    moved_in = moves.archive_move_in(
        authority=authority,
        actor=archivist,
        enterprise_name="迁入公司",
        uscc=valid_uscc("440106"),
        moved_in_from="越秀区",
        year=2018,
        items=[{"title": "章程"}],
    )
    make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0)
    client = client_for(archivist)
    url = reverse("archives:moved_list")
    both = {a.pk for a in client.get(url).context["page"]}
    assert both == {archive.pk, moved_in.pk}
    assert [a.pk for a in client.get(url, {"moved": "out"}).context["page"]] == [archive.pk]
    assert [a.pk for a in client.get(url, {"moved": "in"}).context["page"]] == [moved_in.pk]


def test_shelve_page_flow(client_for, archivist, archive, shelf):
    client = client_for(archivist)
    url = reverse("archives:archive_shelve", args=[archive.pk])
    assert client.post(url, {"location": ""}).status_code == 400
    response = client.post(url, {"location": shelf.pk})
    assert response.status_code == 302
    archive.refresh_from_db()
    assert archive.location == shelf and archive.status == ArchiveStatus.SHELVED


def test_shelve_page_groups_layers_and_suggests_the_next_free_one(client_for, archivist, archive, authority):
    full = make_shelf(authority, repository="一号库房", zone="A", column=1, capacity=1)
    shelving.archive_shelve(
        archive=make_archive(enterprise=make_enterprise(authority), actor=archivist, items=0),
        location=full,
        actor=archivist,
    )
    next_free = make_shelf(authority, repository="一号库房", zone="A", column=1, layer=2)
    later = make_shelf(authority, repository="一号库房", zone="B", column=1)
    url = reverse("archives:archive_shelve", args=[archive.pk])
    html = client_for(archivist).get(url).content.decode()
    assert html.index('<optgroup label="一号库房 A区">') < html.index('<optgroup label="一号库房 B区">')
    assert f'value="{full.pk}"' not in html  # no room left
    assert f'<option value="{next_free.pk}" selected>{next_free.label}（0/60）</option>' in html
    assert f'<option value="{later.pk}">' in html
    assert client_for(archivist).post(url, {"location": later.pk}).status_code == 302
    archive.refresh_from_db()
    assert archive.location == later
    # Moving a shelved file: nothing is preselected, the current layer is not offered.
    html = client_for(archivist).get(url).content.decode()
    select = html.split('name="location"')[1].split("</select>")[0]
    assert select.count(" selected>") == 1 and '<option value="" selected>' in select
    assert f'value="{later.pk}"' not in html and f'value="{next_free.pk}"' in html


def test_shelve_page_refuses_lent_archive_with_409(client_for, archivist, archive, shelf):
    ArchiveFile.objects.filter(pk=archive.pk).update(status=ArchiveStatus.LENT)
    response = client_for(archivist).post(
        reverse("archives:archive_shelve", args=[archive.pk]), {"location": shelf.pk}
    )
    assert response.status_code == 409 and "借出" in response.content.decode()


def test_move_out_page_and_letter(client_for, archivist, manager, archive):
    client = client_for(archivist)
    url = reverse("archives:archive_move_out", args=[archive.pk])
    assert client.post(url, {"destination": "", "reason": ""}).status_code == 400
    response = client.post(url, {"destination": "广州市天河区市场监督管理局", "reason": "调档函"})
    assert response.status_code == 302
    letter = client_for(manager).get(reverse("archives:archive_move_out_letter", args=[archive.pk]))
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")


def test_move_out_page_refuses_lent_archive_with_409(client_for, archivist, archive):
    ArchiveFile.objects.filter(pk=archive.pk).update(status=ArchiveStatus.LENT)
    response = client_for(archivist).post(
        reverse("archives:archive_move_out", args=[archive.pk]), {"destination": "天河区", "reason": "调档函"}
    )
    assert response.status_code == 409


def test_letter_of_archive_not_moved_out_is_409(client_for, archivist, archive):
    response = client_for(archivist).get(reverse("archives:archive_move_out_letter", args=[archive.pk]))
    assert response.status_code == 409


def test_move_in_page(client_for, archivist):
    client = client_for(archivist)
    url = reverse("archives:archive_move_in")
    data = {
        "enterprise_name": "迁入公司",
        "uscc": valid_uscc("440106"),
        "moved_in_from": "越秀区",
        "year": 2018,
        "items": "公司章程 | 公司章程 | 2018-05-06 | 8\n | 设立登记申请书 | | 3\n",
    }
    bad = client.post(url, {**data, "items": "不存在的类型 | 章程\n"})
    assert bad.status_code == 400 and "不在可选范围内" in bad.content.decode()
    bad_uscc = client.post(url, {**data, "uscc": "123"})
    assert bad_uscc.status_code == 400
    response = client.post(url, data)
    assert response.status_code == 302
    archive = ArchiveFile.objects.get(moved_in_from="越秀区")
    assert [i.title for i in archive.items.order_by("item_number")] == ["公司章程", "设立登记申请书"]


def test_merge_page(client_for, archivist, archive, enterprise, authority):
    source = moves.archive_move_in(
        authority=authority,
        actor=archivist,
        enterprise_name=enterprise.name,
        uscc=enterprise.uscc,
        moved_in_from="越秀区",
        year=2018,
        items=[{"title": "章程"}],
    )
    client = client_for(archivist)
    url = reverse("archives:archive_merge", args=[source.pk])
    form = client.get(url).context["form"]
    assert list(form.fields["target"].queryset) == [archive]
    assert client.post(url, {"target": archive.pk, "reason": ""}).status_code == 400
    response = client.post(url, {"target": archive.pk, "reason": "迁入档案并入"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "archives:archive_detail", args=[archive.pk]
    )
    assert archive.items.count() == 4


def test_item_edit_page(client_for, archivist, manager, archive):
    item = archive.items.get(item_number=1)
    url = reverse("archives:item_edit", args=[item.pk])
    assert client_for(manager).get(url).status_code == 403
    client = client_for(archivist)
    form = client.get(url).context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"title": "", "pages": 2, "classification": "none", "open_status": "open"})
    assert client.post(url, data).status_code == 400
    data.update({"title": "设立登记申请书（原件）", "keywords": "设立", "reason": "核对"})
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.title == "设立登记申请书（原件）"
    html = client.get(reverse("archives:item_detail", args=[item.pk])).content.decode()
    assert "核对" in html  # the history shows the change reason


def test_item_flag_clear_page(client_for, archivist, department_viewer, archive):
    item = archive.items.first()
    item.flags = [{"code": "other_enterprise", "message": "载有其他企业代码"}]
    item.save()
    url = reverse("archives:item_flag_clear", args=[item.pk])
    assert (
        client_for(department_viewer).post(url, {"code": "other_enterprise", "reason": "x"}).status_code
        == 403
    )
    client = client_for(archivist)
    client.post(url, {"code": "other_enterprise", "reason": ""})
    item.refresh_from_db()
    assert item.flags
    client.post(url, {"code": "other_enterprise", "reason": "核对无误"})
    item.refresh_from_db()
    assert item.flags == []


def test_shelf_pages(client_for, archivist, archive, shelf, authority):
    client = client_for(archivist)
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    html = client.get(reverse("archives:shelf_list")).content.decode()
    assert "1/60" in html
    data = {"repository": "一号库房", "zone": "a", "column": 1, "section": 1, "layer": 1, "capacity": 60}
    duplicate = client.post(reverse("archives:shelf_new"), data)
    assert duplicate.status_code == 400 and "已存在" in duplicate.content.decode()
    assert client.post(reverse("archives:shelf_new"), {**data, "layer": 2}).status_code == 302
    new = ShelfLocation.objects.get(layer=2)
    assert client.post(reverse("archives:shelf_edit", args=[new.pk]), {**data, "layer": 3}).status_code == 302
    refused = client.post(reverse("archives:shelf_toggle", args=[shelf.pk]))
    assert refused.status_code == 409
    assert client.post(reverse("archives:shelf_toggle", args=[new.pk])).status_code == 302
    new.refresh_from_db()
    assert not new.is_active


def test_shelf_of_another_authority_is_404(client_for, archivist, other_authority):
    foreign = make_shelf(other_authority)
    response = client_for(archivist).get(reverse("archives:shelf_edit", args=[foreign.pk]))
    assert response.status_code == 404


def test_list_query_count_does_not_grow_with_rows(
    client_for, archivist, authority, django_assert_max_num_queries
):
    client = client_for(archivist)
    url = reverse("archives:archive_list")
    for _ in range(3):
        make_archive(enterprise=make_enterprise(authority), actor=archivist, items=1)
    client.get(url)  # warm the session and permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        make_archive(enterprise=make_enterprise(authority), actor=archivist, items=1)
    with django_assert_max_num_queries(len(few)):
        client.get(url)
