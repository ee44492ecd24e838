"""Acceptance test in a real browser (issue 6): an archivist uploads a small batch of scans, watches the
processing progress, passes QA, finds a phrase printed on one of the pages, opens the page image at the hit
and downloads the searchable PDF, whose text layer is read back. Screenshots go to artifacts/browser/.

The archivist also holds the digitization-operator role: in the role model uploading scans and starting
the processing belong to that role (a contractor's operator, usually), QA and search to the archivist.
The background jobs run on a real Celery worker in a thread of this process, through the configured broker
(kombu's filesystem transport on the SQLite pass, Redis on the PostgreSQL pass), on a queue of this test's
own so a worker of `make run` sharing the broker never takes its messages.
"""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.archives.imaging import samples
from bizreg.archives.models import ArchiveAccessLog, BatchState, DigitizationBatch
from bizreg.archives.services.digitization import DIGITIZE_JOB_KIND, IMPORT_JOB_KIND
from bizreg.archives.tests.factories import make_archive, make_enterprise
from bizreg.core import jobs
from bizreg.testing.browser import ARTIFACTS, new_page, sign_in
from bizreg.testing.celery import own_queue_name, worker_on
from bizreg.testing.factories import UserFactory

# serialized_rollback: the roles (groups) come from a data migration that a transactional flush removes.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(420),
]

ENTERPRISE = "广州南沙海港科技有限公司"
USCC = "91440115MA59C3XK2D"
# Printed on the approval notice the seed below draws (samples._content), on one line of the page.
PHRASE = "依法开展经营活动"
NOTICE_SEED = 2  # a 准予设立登记通知书 for ENTERPRISE
SECOND_SEED = 5
OCR_WAIT_MS = 300_000  # two pages of OCR on a loaded 2-core machine


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def ocr_worker(monkeypatch):
    """A real Celery worker for the archives jobs, on a queue of this test's own."""
    queue = own_queue_name()
    runners = dict(jobs._RUNNERS)
    for kind in (DIGITIZE_JOB_KIND, IMPORT_JOB_KIND):
        runners[kind] = dataclasses.replace(runners[kind], queue=queue)
    monkeypatch.setattr(jobs, "_RUNNERS", runners)
    with worker_on(queue) as worker:
        yield worker


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"archives_{name}.png"), full_page=True)


def test_archivist_digitizes_a_batch_and_finds_a_phrase_in_the_searchable_pdf(
    live_server, browser, authority, ocr_worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    archivist = UserFactory(
        username="browser_archivist", display_name="林档案", role="archivist", authorities=[authority]
    )
    archivist.groups.add(Group.objects.get(name=ROLE_BY_CODE["digitization_operator"].name))
    archive = make_archive(
        enterprise=make_enterprise(authority, name=ENTERPRISE, uscc=USCC), actor=archivist, items=2
    )
    notice_item, second_item = archive.items.order_by("item_number")
    notice = samples.generate_page(NOTICE_SEED, "scanned", enterprise_name=ENTERPRISE, uscc=USCC)
    assert PHRASE in notice.text.replace("\n", "")  # the page really prints it; OCR must find it
    second = samples.generate_page(SECOND_SEED, "clean", enterprise_name=ENTERPRISE, uscc=USCC)
    # DA/T 31 file names (<item code>-<page>) file each scan under its item; "·" is written as ".".
    uploads = [
        {
            "name": f"{notice_item.archival_code.replace('·', '.')}-001.jpg",
            "mimeType": "image/jpeg",
            "buffer": samples.sample_file(notice, "jpeg"),
        },
        {
            "name": f"{second_item.archival_code.replace('·', '.')}-001.tif",
            "mimeType": "image/tiff",
            "buffer": samples.sample_file(second, "tiff"),
        },
    ]
    base = live_server.url
    page = new_page(browser)
    sign_in(page, base, archivist, reverse("archives:batch_new"))

    # 1. A new batch, two scans uploaded.
    page.get_by_test_id("create-batch").click()
    expect(page.get_by_test_id("batch-state")).to_have_text("收图")
    batch = DigitizationBatch.objects.get()
    page.get_by_test_id("upload-form").locator("input[type=file]").set_input_files(uploads)
    page.get_by_test_id("upload").click()
    expect(page.get_by_text("已接收 2 个文件，共 2 页")).to_be_visible()
    expect(page.get_by_test_id("pages-total")).to_have_text("2")
    _shot(page, "1_uploaded")

    # 2. Processing in the worker; the page polls and shows the progress, then the result.
    page.get_by_test_id("start-processing").click()
    expect(page.get_by_test_id("progress")).to_be_visible()
    _shot(page, "2_progress")
    expect(page.get_by_test_id("ready-for-qa")).to_be_visible(timeout=OCR_WAIT_MS)
    page.reload()  # the polled fragment holds the status; the page table fills on a full load
    table = page.get_by_test_id("page-table")
    expect(table).to_contain_text(notice_item.archival_code)
    expect(table).to_contain_text(second_item.archival_code)
    _shot(page, "3_processed")

    # 3. QA: every page in the queue looked at and passed; the batch passes and is imported.
    page.get_by_test_id("submit-qa").click()
    page.get_by_test_id("open-qa").click()
    cards = page.get_by_test_id("qa-queue").locator("[data-testid^=qa-page-]")
    expect(cards.first).to_be_visible()
    assert ENTERPRISE in squeeze(page.get_by_test_id("qa-queue").inner_text())  # OCR text beside the image
    _shot(page, "4_qa")
    for index in range(cards.count()):
        card = page.get_by_test_id("qa-queue").locator("[data-testid^=qa-page-]").nth(index)
        card.get_by_test_id("pass").click()
        expect(
            page.get_by_test_id("qa-queue")
            .locator("[data-testid^=qa-page-]")
            .nth(index)
            .get_by_test_id("qa-status")
        ).to_have_text("合格")
    expect(page.get_by_test_id("qa-verdict")).to_contain_text("合格")
    page.get_by_test_id("decide").click()
    expect(page.get_by_test_id("batch-done")).to_be_visible(timeout=OCR_WAIT_MS)
    _shot(page, "5_imported")
    batch.refresh_from_db()
    assert batch.state == BatchState.DONE

    # 4. Full-text search finds the phrase printed on the notice; the hit opens the page image.
    page.goto(base + reverse("archives:search"))
    page.get_by_test_id("search-form").locator("input[name=q]").fill(f'"{PHRASE}"')
    page.get_by_test_id("search-form").locator("button[type=submit]").click()
    hit = page.get_by_test_id("hit").filter(has_text=notice_item.archival_code)
    expect(hit).to_have_count(1)
    expect(hit.get_by_test_id("snippet").locator("mark").first).to_be_visible()
    assert PHRASE in squeeze(hit.get_by_test_id("snippet").inner_text())
    _shot(page, "6_search_hit")
    hit.get_by_test_id("hit-page").click()
    expect(page.get_by_test_id("page-viewer")).to_contain_text("第 1 / 1 页")
    # The line of the page image that holds the phrase is marked where OCR found it.
    hit_box = page.get_by_test_id("hit-box").first
    expect(hit_box).to_be_visible()
    assert PHRASE in squeeze(hit_box.get_attribute("title"))
    image = page.get_by_test_id("page-image")
    expect(image).to_be_visible()
    # The scan itself, not a broken-image icon (the watermark is drawn per request: allow it the time).
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=page-image]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert image.evaluate("img => img.naturalWidth") > 1000
    _shot(page, "7_page_image")

    # 5. The searchable PDF: downloaded, watermarked, its text layer holds the phrase.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="电子文件").click()
    download = download_info.value
    saved = ARTIFACTS / "archives_searchable.pdf"
    download.save_as(saved)
    reader = PdfReader(io.BytesIO(saved.read_bytes()))
    assert len(reader.pages) == 1
    text = squeeze(reader.pages[0].extract_text())
    assert PHRASE in text
    assert ENTERPRISE in text
    assert "林档案" in text  # the watermark names who downloaded it
    logged = ArchiveAccessLog.objects.filter(item=notice_item, user=archivist)
    assert {ArchiveAccessLog.Action.VIEW, ArchiveAccessLog.Action.DOWNLOAD} <= set(
        logged.values_list("action", flat=True)
    )
