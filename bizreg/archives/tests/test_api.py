"""The archives REST API: archive files and items (with the logged, watermarked download), full-text
search, digitization batches (create, upload with per-file refusals, start processing) and borrowing —
each endpoint per role, other authorities' rows, and bad input answered 400/409 with the Chinese reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from bizreg.archives.imaging import samples
from bizreg.archives.models import (
    ArchiveAccessLog,
    ArchiveStatus,
    BatchState,
    BorrowRequest,
    BorrowState,
    DigitizationBatch,
    OpenStatus,
)
from bizreg.archives.services import borrowing, digitization, shelving
from bizreg.archives.services.search_index import search_rebuild
from bizreg.archives.tests.factories import make_borrow, pdf_bytes
from bizreg.core.models import BackgroundJob
from bizreg.testing import factories

pytestmark = pytest.mark.django_db

FILES = "/api/archive-files/"
ITEMS = "/api/archive-items/"
SEARCH = "/api/archive-search/"
BATCHES = "/api/archive-digitization-batches/"
BORROWS = "/api/archive-borrows/"


def messages_of(response) -> str:
    return str(response.json())


@pytest.fixture
def open_only_reader(authority):
    """A user who may read archives and items but not controlled ones (no role has exactly this)."""
    user = factories.UserFactory(role=None, authorities=[authority])
    for codename in ("view_archivefile", "view_archiveitem"):
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="archives")
        )
    return user


# --- archive files and items -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("archivist", 200), ("manager", 200), ("department_viewer", 200), ("digitizer", 403), ("clerk", 403)],
)
def test_archive_list_per_role(archive, client_for, request, role, expected):
    response = client_for(request.getfixturevalue(role)).get(FILES)
    assert response.status_code == expected
    if expected == 200:
        assert [row["id"] for row in response.json()["results"]] == [archive.pk]
        assert response.json()["results"][0]["item_count"] == 3


def test_anonymous_is_refused_everywhere(client, archive):
    item = archive.items.first()
    for url in (
        FILES,
        f"{FILES}{archive.pk}/",
        f"{FILES}{archive.pk}/items/",
        f"{ITEMS}{item.pk}/",
        f"{ITEMS}{item.pk}/download/",
        SEARCH,
        BATCHES,
        BORROWS,
    ):
        assert client.get(url).status_code in (401, 403), url
    assert client.post(BATCHES, {}, content_type="application/json").status_code in (401, 403)
    assert client.post(BORROWS, {}, content_type="application/json").status_code in (401, 403)


def test_archive_list_filters(archive, other_archive, client_for, archivist):
    client = client_for(archivist)
    assert client.get(FILES, {"q": "海港"}).json()["count"] == 1
    assert client.get(FILES, {"q": archive.uscc}).json()["count"] == 1
    assert client.get(FILES, {"q": archive.archival_code[:8]}).json()["count"] == 1
    assert client.get(FILES, {"q": "天河"}).json()["count"] == 0  # another authority's archive
    assert client.get(FILES, {"status": ArchiveStatus.PENDING}).json()["count"] == 1
    assert client.get(FILES, {"status": ArchiveStatus.SHELVED}).json()["count"] == 0
    assert client.get(FILES, {"year": archive.year}).json()["count"] == 1
    assert client.get(FILES, {"year": archive.year - 1}).json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"year": "abc"}, "year"),
        ({"year": "1800"}, "year"),
        ({"moved": "x"}, "moved"),
    ],
)
def test_bad_archive_filter_is_400(archive, client_for, archivist, params, field):
    response = client_for(archivist).get(FILES, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body
    # The form's own message, in Chinese (an unknown choice or a number out of range).
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body[field][0]), body


def test_archive_detail_items_and_log(archive, client_for, archivist):
    response = client_for(archivist).get(f"{FILES}{archive.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert sum(len(group["items"]) for group in body["item_groups"]) == 3
    assert body["hidden_item_count"] == 0
    assert "shelve" in body["available_actions"]
    assert any(event["action"] == "open" for event in body["events"])
    log = ArchiveAccessLog.objects.get()
    assert log.action == "view" and log.archive_id == archive.pk and log.user == archivist


def test_controlled_items_hidden_without_the_permission(archive, client_for, open_only_reader):
    client = client_for(open_only_reader)
    body = client.get(f"{FILES}{archive.pk}/").json()
    shown = [item for group in body["item_groups"] for item in group["items"]]
    assert len(shown) == 2 and all(item["open_status"] == OpenStatus.OPEN for item in shown)
    assert body["hidden_item_count"] == 1
    assert client.get(f"{FILES}{archive.pk}/items/").json()["count"] == 2
    controlled = archive.items.get(open_status=OpenStatus.CONTROLLED)
    assert client.get(f"{ITEMS}{controlled.pk}/").status_code == 404


def test_items_of_an_archive_and_item_detail(archive, client_for, department_viewer):
    client = client_for(department_viewer)
    listed = client.get(f"{FILES}{archive.pk}/items/").json()
    assert [row["item_number"] for row in listed["results"]] == [1, 2, 3]
    item = archive.items.get(item_number=1)
    response = client.get(f"{ITEMS}{item.pk}/")
    assert response.status_code == 200
    assert response.json()["archival_code"] == item.archival_code
    assert response.json()["enterprise_name"] == archive.enterprise_name
    assert ArchiveAccessLog.objects.filter(item=item, action="view", user=department_viewer).exists()


def test_another_authoritys_archive_and_item_are_404(other_archive, client_for, archivist):
    client = client_for(archivist)
    assert client.get(f"{FILES}{other_archive.pk}/").status_code == 404
    assert client.get(f"{FILES}{other_archive.pk}/items/").status_code == 404
    assert client.get(f"{ITEMS}{other_archive.items.first().pk}/").status_code == 404
    assert client.get(f"{FILES}abc/").status_code == 404


def test_item_download_is_watermarked_and_logged(archive, client_for, archivist, department_viewer):
    item = archive.items.get(item_number=2)
    digitization.born_digital_ingest(
        item=item, actor=archivist, filename="章程.pdf", data=pdf_bytes("第一条")
    )
    response = client_for(department_viewer).get(f"{ITEMS}{item.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert response["Cache-Control"] == "private, no-store"
    log = ArchiveAccessLog.objects.get(action="download")
    assert (
        log.item_id == item.pk
        and log.user == department_viewer
        and department_viewer.display_name in log.watermark
    )


def test_item_download_refusals_are_logged(archive, other_archive, client_for, clerk, archivist):
    item = archive.items.get(item_number=1)
    assert client_for(clerk).get(f"{ITEMS}{item.pk}/download/").status_code == 403
    assert client_for(archivist).get(f"{ITEMS}{other_archive.items.first().pk}/download/").status_code == 403
    assert ArchiveAccessLog.objects.filter(action="denied").count() == 2
    # An item without its electronic file yet: nothing to download.
    response = client_for(archivist).get(f"{ITEMS}{item.pk}/download/")
    assert response.status_code == 404 and "电子文件" in messages_of(response)


def test_controlled_item_download_refused_without_the_permission(archive, client_for, open_only_reader):
    controlled = archive.items.get(open_status=OpenStatus.CONTROLLED)
    response = client_for(open_only_reader).get(f"{ITEMS}{controlled.pk}/download/")
    assert response.status_code == 403 and "控制使用" in messages_of(response)
    assert ArchiveAccessLog.objects.filter(action="denied", item=controlled).exists()


# --- full-text search --------------------------------------------------------------------------------------


@pytest.fixture
def indexed(archive):
    for item in archive.items.all():
        item.text = f"{item.title}：股东张伟，住所广州市南沙区进港大道8号。"
        item.save()
    search_rebuild()
    return archive


@pytest.mark.parametrize(
    ("role", "hits"), [("archivist", 3), ("manager", 3), ("department_viewer", 3), ("open_only_reader", 2)]
)
def test_search_per_role(indexed, client_for, request, role, hits):
    response = client_for(request.getfixturevalue(role)).get(SEARCH, {"q": "张伟"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == hits and len(body["results"]) == hits
    hit = body["results"][0]
    assert "<mark>" in hit["snippet_html"] and "张伟" in hit["snippet"] and "<" not in hit["snippet"]
    assert hit["enterprise_name"] == indexed.enterprise_name and hit["url"].startswith("/archives/items/")


@pytest.mark.parametrize("role", ["digitizer", "clerk"])
def test_search_other_roles_403(indexed, client_for, request, role):
    assert client_for(request.getfixturevalue(role)).get(SEARCH, {"q": "张伟"}).status_code == 403


def test_search_filters_and_log(indexed, client_for, archivist):
    client = client_for(archivist)
    body = client.get(SEARCH, {"q": "张伟", "doc_type": "articles"}).json()
    assert [hit["doc_type"] for hit in body["results"]] == ["articles"]
    assert client.get(SEARCH, {"q": "张伟", "status": "shelved"}).json()["count"] == 0
    assert client.get(SEARCH, {"q": "张伟", "uscc": indexed.uscc}).json()["count"] == 3
    logs = ArchiveAccessLog.objects.filter(action="search")
    assert logs.count() == 3 and "张伟" in logs.first().detail
    client.get(SEARCH, {"q": "张伟", "page": "2"})  # a further page of the same query is not logged again
    assert logs.count() == 3


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "q", "请输入检索词"),
        ({"q": "  "}, "q", "请输入检索词"),
        ({"q": "张伟", "doc_type": "poem"}, "doc_type", "选项无效"),
        ({"q": "张伟", "year_from": "20x"}, "year_from", "四位数字"),
        ({"q": "张伟", "year_from": "2024", "year_to": "2020"}, "year_to", "不能早于"),
        ({"q": "张伟", "uscc": "123"}, "uscc", "18 位"),
        ({"q": "张伟", "page": "0"}, "page", "正整数"),
    ],
)
def test_search_bad_input_is_400(indexed, client_for, archivist, params, field, message):
    response = client_for(archivist).get(SEARCH, params)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not ArchiveAccessLog.objects.exists()


# --- digitization batches ----------------------------------------------------------------------------------


@pytest.fixture
def batch(authority, digitizer):
    return digitization.batch_create(authority=authority, actor=digitizer)


def _jpeg(archive) -> bytes:
    page = samples.generate_page(7, "clean", enterprise_name=archive.enterprise_name, uscc=archive.uscc)
    return samples.sample_file(page, "jpeg")


@pytest.mark.parametrize(
    ("role", "read", "create"),
    [
        ("digitizer", 200, 201),
        ("archivist", 200, 403),
        ("manager", 200, 403),
        ("department_viewer", 403, 403),
        ("clerk", 403, 403),
    ],
)
def test_batches_per_role(batch, client_for, request, role, read, create):
    client = client_for(request.getfixturevalue(role))
    assert client.get(BATCHES).status_code == read
    assert client.get(f"{BATCHES}{batch.pk}/").status_code == read
    response = client.post(
        BATCHES, {"sample_percent": "5", "pass_mark_percent": "95"}, content_type="application/json"
    )
    assert response.status_code == create
    if role != "digitizer":
        assert client.post(f"{BATCHES}{batch.pk}/process/").status_code == 403
        upload = SimpleUploadedFile("a.jpg", b"x", content_type="image/jpeg")
        assert client.post(f"{BATCHES}{batch.pk}/upload/", {"files": [upload]}).status_code == 403
    assert DigitizationBatch.objects.count() == (2 if create == 201 else 1)


def test_batch_create_and_bad_input(client_for, digitizer):
    client = client_for(digitizer)
    response = client.post(
        BATCHES, {"sample_percent": "0", "pass_mark_percent": "95"}, content_type="application/json"
    )
    assert response.status_code == 400 and "sample_percent" in response.json()
    response = client.post(
        BATCHES, {"sample_percent": "5", "pass_mark_percent": "abc"}, content_type="application/json"
    )
    assert response.status_code == 400 and "pass_mark_percent" in response.json()
    response = client.post(BATCHES, {"transfer": 999999}, content_type="application/json")
    assert response.status_code == 400 and "transfer" in response.json()
    assert not DigitizationBatch.objects.exists()
    response = client.post(
        BATCHES, {"sample_percent": "10", "pass_mark_percent": "90"}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("SM-") and body["state"] == BatchState.INTAKE and body["job"] is None
    assert body["sample_percent"] == "10.00" and body["page_counts"]["total"] == 0


def test_batch_list_filters(batch, client_for, archivist):
    client = client_for(archivist)
    assert client.get(BATCHES, {"state": "intake"}).json()["count"] == 1
    assert client.get(BATCHES, {"state": "done"}).json()["count"] == 0
    assert client.get(BATCHES, {"q": batch.number}).json()["count"] == 1
    response = client.get(BATCHES, {"state": "asleep"})
    assert response.status_code == 400 and "state" in response.json()
    response = client.get(BATCHES, {"created_from": "yesterday"})
    assert response.status_code == 400 and "created_from" in response.json()


def test_upload_reports_each_rejected_file_and_keeps_the_good_ones(batch, archive, client_for, digitizer):
    item = archive.items.get(item_number=1)
    files = [
        SimpleUploadedFile(f"{item.archival_code}-001.jpg", _jpeg(archive), content_type="image/jpeg"),
        SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"),
        SimpleUploadedFile("letter.pdf", b"%PDF-1.4 not really", content_type="application/pdf"),
        SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff\xe0 truncated", content_type="image/jpeg"),
    ]
    response = client_for(digitizer).post(f"{BATCHES}{batch.pk}/upload/", {"files": files})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["files_accepted"] == 1 and body["pages_added"] == 1
    rejected = {row["file"]: row for row in body["rejected"]}
    assert set(rejected) == {"empty.jpg", "letter.pdf", "broken.jpg"}
    assert all(row["message"] and row["code"] for row in rejected.values())
    detail = client_for(digitizer).get(f"{BATCHES}{batch.pk}/").json()
    assert detail["pages_total"] == 1 and detail["page_counts"]["total"] == 1
    assert detail["page_counts"]["bound"] == 1 and detail["page_counts"]["ocr_done"] == 0


def test_upload_without_files_is_400(batch, client_for, digitizer):
    response = client_for(digitizer).post(f"{BATCHES}{batch.pk}/upload/", {})
    assert response.status_code == 400 and "请选择" in " ".join(response.json()["files"])


def test_start_processing_and_refusals(batch, archive, client_for, digitizer):
    client = client_for(digitizer)
    response = client.post(f"{BATCHES}{batch.pk}/process/")
    assert response.status_code == 409 and "还没有扫描页" in response.json()["detail"]
    upload = SimpleUploadedFile("p-1.jpg", _jpeg(archive), content_type="image/jpeg")
    assert client.post(f"{BATCHES}{batch.pk}/upload/", {"files": [upload]}).json()["pages_added"] == 1
    response = client.post(f"{BATCHES}{batch.pk}/process/")
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == BatchState.PROCESSING
    assert body["job"]["kind"] == digitization.DIGITIZE_JOB_KIND
    assert body["job"]["status"] == BackgroundJob.Status.PENDING and body["job"]["percent"] == 0
    # Processing: the batch takes no more scans and cannot be started twice.
    response = client.post(f"{BATCHES}{batch.pk}/process/")
    assert response.status_code == 409 and response.json()["detail"]
    upload = SimpleUploadedFile("p-2.jpg", _jpeg(archive), content_type="image/jpeg")
    response = client.post(f"{BATCHES}{batch.pk}/upload/", {"files": [upload]})
    assert response.status_code == 409 and "不能再上传" in response.json()["detail"]


def test_job_progress_is_shown(batch, client_for, archivist):
    job = BackgroundJob.objects.create(
        authority=batch.authority, kind=digitization.DIGITIZE_JOB_KIND, status="running", total=8, done=2
    )
    DigitizationBatch.objects.filter(pk=batch.pk).update(job=job, state=BatchState.PROCESSING)
    body = client_for(archivist).get(f"{BATCHES}{batch.pk}/").json()
    assert body["job"]["status"] == "running" and body["job"]["percent"] == 25
    assert body["job"]["done"] == 2 and body["job"]["total"] == 8


def test_another_authoritys_batch_is_404(client_for, other_authority, make_user, digitizer):
    other = make_user("digitization_operator", authorities=[other_authority])
    theirs = digitization.batch_create(authority=other_authority, actor=other)
    client = client_for(digitizer)
    assert client.get(f"{BATCHES}{theirs.pk}/").status_code == 404
    assert client.post(f"{BATCHES}{theirs.pk}/process/").status_code == 404
    assert client.get(BATCHES).json()["count"] == 0


# --- borrowing ---------------------------------------------------------------------------------------------


@pytest.fixture
def shelved(archive, shelf, archivist):
    shelving.archive_shelve(archive=archive, location=shelf, actor=archivist)
    archive.refresh_from_db()
    return archive


def _request(client, target, **overrides):
    payload = {
        "archive": target.pk,
        "kind": "paper",
        "department": "登记科",
        "purpose": "核对章程",
        "requested_days": 7,
    }
    payload.update(overrides)
    return client.post(BORROWS, payload, content_type="application/json")


def test_borrow_request_approve_lend_return(shelved, client_for, department_viewer, manager, archivist):
    viewer = client_for(department_viewer)
    response = _request(viewer, shelved)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert (
        response.json()["state"] == BorrowState.REQUESTED and "cancel" in response.json()["available_actions"]
    )
    # The department viewer may ask, never decide nor lend.
    assert viewer.post(f"{BORROWS}{pk}/approve/").status_code == 403
    response = client_for(manager).post(
        f"{BORROWS}{pk}/approve/", {"reason": "同意"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["state"] == BorrowState.APPROVED
    assert client_for(manager).post(f"{BORROWS}{pk}/lend/").status_code == 403  # the desk lends
    response = client_for(archivist).post(f"{BORROWS}{pk}/lend/")
    assert response.status_code == 200 and response.json()["state"] == BorrowState.LENT
    assert response.json()["due_at"]
    shelved.refresh_from_db()
    assert shelved.status == ArchiveStatus.LENT
    response = client_for(archivist).post(f"{BORROWS}{pk}/return/", {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == BorrowState.RETURNED
    shelved.refresh_from_db()
    assert shelved.status == ArchiveStatus.SHELVED
    assert [e["action"] for e in response.json()["events"]] == ["request", "approve", "lend", "return"]


def test_second_borrower_of_a_lent_folder_is_409_with_the_reason(
    shelved, client_for, department_viewer, manager, archivist
):
    first = make_borrow(shelved, department_viewer)
    second = make_borrow(shelved, archivist, purpose="复核", department="档案室")
    for borrow in (first, second):
        borrowing.borrow_approve(borrow=borrow, actor=manager)
    borrowing.borrow_lend(borrow=first, actor=archivist)
    response = client_for(archivist).post(f"{BORROWS}{second.pk}/lend/")
    assert response.status_code == 409
    assert "已借出" in response.json()["detail"] and "登记科" in response.json()["detail"]
    second.refresh_from_db()
    assert second.state == BorrowState.APPROVED


def test_step_refused_by_state_is_409(shelved, client_for, department_viewer, manager):
    borrow = make_borrow(shelved, department_viewer, kind="electronic", days=3, purpose="查询")
    borrowing.borrow_approve(borrow=borrow, actor=manager)
    response = client_for(manager).post(f"{BORROWS}{borrow.pk}/approve/")
    assert response.status_code == 409 and response.json()["detail"]


def test_reject_needs_a_reason(shelved, client_for, department_viewer, manager):
    borrow = make_borrow(shelved, department_viewer, days=3, purpose="查询")
    response = client_for(manager).post(
        f"{BORROWS}{borrow.pk}/reject/", {"reason": ""}, content_type="application/json"
    )
    assert response.status_code == 400 and "理由" in " ".join(response.json()["reason"])
    response = client_for(manager).post(
        f"{BORROWS}{borrow.pk}/reject/", {"reason": "x" * 301}, content_type="application/json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    borrow.refresh_from_db()
    assert borrow.state == BorrowState.REQUESTED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"requested_days": 99}, "requested_days"),
        ({"requested_days": "seven"}, "requested_days"),
        ({"kind": "carrier_pigeon"}, "kind"),
        ({"purpose": ""}, "purpose"),
        ({"department": ""}, "department"),
        ({"archive": 999999}, "archive"),
        ({"archive": "abc"}, "archive"),
    ],
)
def test_borrow_request_bad_input_is_400(shelved, client_for, department_viewer, overrides, field):
    response = _request(client_for(department_viewer), shelved, **overrides)
    assert response.status_code == 400
    assert field in response.json()
    assert not BorrowRequest.objects.exists()


def test_borrow_request_of_another_authoritys_archive_is_400(other_archive, client_for, department_viewer):
    response = _request(client_for(department_viewer), other_archive)
    assert response.status_code == 400 and "没有找到该档案" in " ".join(response.json()["archive"])


def test_borrow_lists_per_role(
    shelved, client_for, department_viewer, archivist, manager, digitizer, clerk, make_user
):
    mine = make_borrow(shelved, department_viewer)
    theirs = make_borrow(shelved, archivist, kind="electronic", purpose="复核", department="档案室")
    colleague = make_user("department_viewer")
    assert [r["id"] for r in client_for(department_viewer).get(BORROWS).json()["results"]] == [mine.pk]
    assert client_for(department_viewer).get(f"{BORROWS}{theirs.pk}/").status_code == 404
    assert client_for(colleague).get(BORROWS).json()["count"] == 0
    assert client_for(colleague).post(f"{BORROWS}{mine.pk}/cancel/").status_code == 404
    assert {r["id"] for r in client_for(manager).get(BORROWS).json()["results"]} == {mine.pk, theirs.pk}
    assert [r["id"] for r in client_for(archivist).get(BORROWS, {"mine": "1"}).json()["results"]] == [
        theirs.pk
    ]
    assert [r["id"] for r in client_for(manager).get(BORROWS, {"kind": "paper"}).json()["results"]] == [
        mine.pk
    ]
    assert client_for(manager).get(BORROWS, {"state": "lent"}).json()["count"] == 0
    for user in (digitizer, clerk):
        assert client_for(user).get(BORROWS).status_code == 403
        assert _request(client_for(user), shelved).status_code == 403
    response = client_for(department_viewer).post(
        f"{BORROWS}{mine.pk}/cancel/", {"reason": "不需要了"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["state"] == BorrowState.CANCELLED


@pytest.mark.parametrize(
    ("params", "field"), [({"state": "gone"}, "state"), ({"kind": "x"}, "kind"), ({"mine": "maybe"}, "mine")]
)
def test_bad_borrow_filter_is_400(client_for, manager, params, field):
    response = client_for(manager).get(BORROWS, params)
    assert response.status_code == 400 and field in response.json()


def test_another_authoritys_borrow_is_404(
    other_archive, other_archivist, client_for, manager, make_user, other_authority
):
    theirs = make_borrow(other_archive, other_archivist, department="档案室")
    client = client_for(manager)
    assert client.get(f"{BORROWS}{theirs.pk}/").status_code == 404
    assert client.post(f"{BORROWS}{theirs.pk}/approve/").status_code == 404
    assert client.get(BORROWS).json()["count"] == 0


# --- query counts ------------------------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_rows(
    archive, authority, archivist, manager, department_viewer, client_for
):
    from bizreg.archives.tests.factories import make_archive, make_enterprise

    def counts() -> tuple[int, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        result = []
        for client, url in ((client_for(archivist), FILES), (client_for(manager), BORROWS)):
            client.get(url)  # the session and permission caches are warm from here on
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            result.append(len(captured))
        return result[0], result[1]

    def borrow(target):
        make_borrow(target, department_viewer)

    borrow(archive)
    before = counts()
    for index in range(4):
        extra = make_archive(
            enterprise=make_enterprise(authority, name=f"南沙测试{index}有限公司"), actor=archivist, items=1
        )
        borrow(extra)
    assert counts() == before
