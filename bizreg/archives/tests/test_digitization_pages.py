"""Digitization pages per role, and a batch taken from creation to QA through the pages (the OCR-heavy
steps run once, in the worker job the page submits)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.archives.imaging import samples
from bizreg.archives.models import BatchState, DigitizationBatch
from bizreg.archives.selectors import digitization as digitization_selectors
from bizreg.archives.services import digitization

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def batch(authority, digitizer):
    return digitization.batch_create(authority=authority, actor=digitizer)


def _jpeg(archive, seed: int = 7) -> bytes:
    page = samples.generate_page(seed, "clean", enterprise_name=archive.enterprise_name, uscc=archive.uscc)
    return samples.sample_file(page, "jpeg")


def test_pages_per_role(client_for, batch, archivist, manager, digitizer, department_viewer, clerk, client):
    pages = [
        reverse("archives:batches"),
        reverse("archives:batch_export"),
        reverse("archives:batch_detail", args=[batch.pk]),
        reverse("archives:batch_qa", args=[batch.pk]),
    ]
    for user in (digitizer, archivist, manager):
        for url in pages:
            assert client_for(user).get(url).status_code == 200, (user, url)
    for user in (department_viewer, clerk):
        for url in pages:
            assert client_for(user).get(url).status_code == 403, (user, url)
    assert client.get(pages[0]).status_code == 302  # anonymous: to the login page
    assert client_for(digitizer).get(reverse("archives:batch_new")).status_code == 200
    for user in (archivist, manager):  # the bureau checks the contractor's work; it does not scan
        assert client_for(user).get(reverse("archives:batch_new")).status_code == 403
        assert client_for(user).post(reverse("archives:batch_process", args=[batch.pk])).status_code == 403
    assert client_for(digitizer).post(reverse("archives:batch_decide", args=[batch.pk])).status_code == 403


def test_another_authoritys_batch_is_404(client_for, other_authority, make_user, archivist):
    other = make_user("digitization_operator", authorities=[other_authority])
    theirs = digitization.batch_create(authority=other_authority, actor=other)
    assert client_for(archivist).get(reverse("archives:batch_detail", args=[theirs.pk])).status_code == 404


def test_create_upload_and_refusals_through_the_pages(client_for, digitizer, archive):
    c = client_for(digitizer)
    response = c.post(reverse("archives:batch_new"), {"sample_percent": "0", "pass_mark_percent": "95"})
    assert response.status_code == 400 and "抽检比例" in body(response)
    response = c.post(reverse("archives:batch_new"), {"sample_percent": "5", "pass_mark_percent": "95"})
    batch = DigitizationBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "archives:batch_detail", args=[batch.pk]
    )
    item = archive.items.order_by("item_number").first()
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile(f"{item.archival_code}-001.jpg", _jpeg(archive), content_type="image/jpeg"),
        SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"),
        SimpleUploadedFile("letter.pdf", b"%PDF-1.4 not really", content_type="application/pdf"),
    ]
    response = c.post(reverse("archives:batch_upload", args=[batch.pk]), {"files": files}, follow=True)
    text = body(response)
    assert "已接收 1 个文件，共 1 页" in text
    assert "未接收 empty.jpg" in text and "未接收 letter.pdf" in text
    assert batch.pages.count() == 1 and batch.pages.get().item == item
    assert item.archival_code in text  # the page row names the item it was filed under
    # Nothing to QA before processing: the step is refused with the reason, nothing changes.
    response = c.post(reverse("archives:batch_submit_qa", args=[batch.pk]))
    assert response.status_code == 409 and "不能执行“提交质检”" in body(response)
    export = c.get(reverse("archives:batch_export"))
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [batch.number]


def test_processing_progress_qa_and_import_through_the_pages(
    client_for, digitizer, archivist, archive, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    batch = digitization.batch_create(authority=archive.authority, actor=digitizer)
    item = archive.items.order_by("item_number").first()
    digitization.batch_add_scans(
        batch=batch, actor=digitizer, files=[(f"{item.archival_code}-001.jpg", _jpeg(archive, 9))]
    )
    operator = client_for(digitizer)
    # The worker runs the job inline here (eager Celery, once the request's transaction commits, that is
    # after the followed redirect has been rendered).
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(reverse("archives:batch_process", args=[batch.pk]), follow=True)
    assert "已提交后台处理" in body(response)
    batch.refresh_from_db()
    assert batch.state == BatchState.INDEXING
    detail = operator.get(reverse("archives:batch_detail", args=[batch.pk]))
    assert 'data-testid="ready-for-qa"' in body(detail)
    operator.post(reverse("archives:batch_submit_qa", args=[batch.pk]))
    checker = client_for(archivist)
    qa = checker.get(reverse("archives:batch_qa", args=[batch.pk]))
    page = batch.pages.get()
    assert archive.enterprise_name in body(qa).replace(" ", "")  # the OCR text beside the image
    image = checker.get(reverse("archives:scan_page_image", args=[page.pk, "processed"]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert checker.get(reverse("archives:scan_page_image", args=[page.pk, "other"])).status_code == 404
    response = checker.post(
        reverse("archives:scan_page_qa", args=[page.pk]), {"decision": "pass"}, follow=True
    )
    assert "质检结论已保存" in body(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = checker.post(reverse("archives:batch_decide", args=[batch.pk]), follow=True)
    batch.refresh_from_db()
    item.refresh_from_db()
    assert batch.state == BatchState.DONE and item.e_file
    assert "质检通过，正在生成可检索 PDF 入库" in body(response)
    done = checker.get(reverse("archives:batch_detail", args=[batch.pk]))
    assert 'data-testid="batch-done"' in body(done)
    trail = body(done)
    for step in (
        "创建批次",
        "接收扫描件",
        "图像处理（收图 → 图像处理）",
        "单页质检合格（待检 → 合格）",
        "入库完成（入库 → 已入库）",
    ):
        assert step in trail, step
    assert "page_pass" not in trail
    # A long trail shows its latest events.
    monkeypatch.setattr(digitization_selectors, "BATCH_EVENTS_SHOWN", 2)
    latest = body(checker.get(reverse("archives:batch_detail", args=[batch.pk])))
    assert "入库完成（入库 → 已入库）" in latest and "创建批次" not in latest


def test_batch_page_filters_list_the_pages_they_name(client_for, digitizer, archive):
    batch = digitization.batch_create(authority=archive.authority, actor=digitizer)
    names = ["error", "warning", "blank", "sampled-rejected", "bound"]
    digitization.batch_add_scans(
        batch=batch,
        actor=digitizer,
        files=[(f"{name}.jpg", _jpeg(archive, seed)) for seed, name in enumerate(names, start=11)],
    )
    pages = {p.original_name.removesuffix(".jpg"): p for p in batch.pages.all()}
    item = archive.items.order_by("item_number").first()
    # What the processing job and QA would have stored for each page.
    error = {"code": "dpi_low", "message": "扫描分辨率低于 200 dpi 的最低要求。", "severity": "error"}
    warning = {"code": "skew", "message": "残余倾斜较大。", "severity": "warning"}
    batch.pages.filter(pk=pages["error"].pk).update(auto_checks=[warning, error])
    batch.pages.filter(pk=pages["warning"].pk).update(auto_checks=[warning])
    batch.pages.filter(pk=pages["blank"].pk).update(is_blank=True)
    batch.pages.filter(pk=pages["sampled-rejected"].pk).update(qa_sampled=True, qa_status="rejected")
    batch.pages.exclude(pk=pages["bound"].pk).update(item=None)
    batch.pages.filter(pk=pages["bound"].pk).update(item=item)
    expected = {
        "": set(names),
        "errors": {"error"},
        "sampled": {"sampled-rejected"},
        "rejected": {"sampled-rejected"},
        "blank": {"blank"},
        "unbound": set(names) - {"bound"},
    }
    operator = client_for(digitizer)
    for show, wanted in expected.items():
        response = operator.get(reverse("archives:batch_detail", args=[batch.pk]), {"show": show})
        assert response.status_code == 200, show
        listed = {p.original_name.removesuffix(".jpg") for p in response.context["pages"]}
        assert listed == wanted, show
