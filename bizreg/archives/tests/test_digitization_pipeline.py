"""The digitization pipeline end to end on real files: intake binds pages to items by their DA/T 31 names
and refuses bad files without losing the good ones; the worker job processes, reads and indexes; QA
samples, passes or sends back; import writes a searchable PDF whose text layer reads back."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from bizreg.archives.imaging import samples
from bizreg.archives.models import BatchState, DigitizationStatus, PageQA
from bizreg.archives.services import digitization
from bizreg.core import jobs
from bizreg.core.models import BackgroundJob
from bizreg.core.statemachine import TransitionNotAllowed

pytestmark = pytest.mark.django_db


def _scan(item, page_no: int, *, seed: int, quality: str = "clean") -> tuple[str, bytes, samples.SamplePage]:
    archive = item.archive
    page = samples.generate_page(seed, quality, enterprise_name=archive.enterprise_name, uscc=archive.uscc)
    return f"{item.archival_code}-{page_no:03d}.jpg", samples.sample_file(page, "jpeg"), page


def _run(job: BackgroundJob) -> BackgroundJob:
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    return job


@pytest.fixture
def batch(authority, digitizer):
    return digitization.batch_create(authority=authority, actor=digitizer)


def test_only_the_digitization_operator_opens_batches(authority, archivist, digitizer):
    with pytest.raises(PermissionDenied):
        digitization.batch_create(authority=authority, actor=archivist)
    batch = digitization.batch_create(authority=authority, actor=digitizer)
    assert batch.number.startswith("SM-") and batch.state == BatchState.INTAKE


def test_bad_sample_and_pass_mark_are_refused(authority, digitizer):
    with pytest.raises(ValidationError) as exc:
        digitization.batch_create(
            authority=authority, actor=digitizer, sample_percent=0, pass_mark_percent=101
        )
    assert set(exc.value.error_dict) == {"sample_percent", "pass_mark_percent"}


def test_intake_binds_named_pages_and_refuses_bad_files_without_losing_good_ones(batch, archive, digitizer):
    item = archive.items.order_by("item_number").first()
    good_name, good_bytes, _page = _scan(item, 1, seed=3)
    result = digitization.batch_add_scans(
        batch=batch,
        actor=digitizer,
        files=[
            ("empty.jpg", b""),
            ("notes.jpg", "这不是图像".encode()),
            (good_name, good_bytes),
            ("truncated.jpg", good_bytes[: len(good_bytes) // 3]),
        ],
    )
    assert result.pages_added == 1 and result.files_accepted == 1
    refused = {r["file"]: r["message"] for r in result.rejected}
    assert set(refused) == {"empty.jpg", "notes.jpg", "truncated.jpg"}
    assert all(refused.values())
    page = batch.pages.get()
    assert page.item == item and page.original_sha256 and page.dpi == 300
    item.refresh_from_db()
    assert item.digitization == DigitizationStatus.IN_BATCH


def test_the_whole_pipeline_from_scan_to_searchable_pdf(batch, archive, digitizer, archivist):
    item = archive.items.order_by("item_number").first()
    item.pages = 2
    item.save()
    files, truth = [], []
    for n, seed in enumerate((11, 12), start=1):
        name, data, page = _scan(item, n, seed=seed, quality="scanned")
        files.append((name, data))
        truth.append(page)
    digitization.batch_add_scans(batch=batch, actor=digitizer, files=files)

    job = digitization.batch_start_processing(batch=batch, actor=digitizer)
    with pytest.raises(TransitionNotAllowed):
        digitization.batch_start_processing(batch=batch, actor=digitizer)  # already processing
    result = _run(job).result
    batch.refresh_from_db()
    assert batch.state == BatchState.INDEXING
    assert result["pages"] == 2
    pages = list(batch.pages.order_by("sequence"))
    for page, sample in zip(pages, truth, strict=True):
        assert page.processed and page.processed_sha256
        assert abs(page.skew_after) <= 3
        assert sample.enterprise_name in page.ocr_text.replace(" ", "")
        assert page.ocr_confidence > 0.8
        assert not digitization.page_errors(page), page.auto_checks

    batch = digitization.batch_submit_qa(batch=batch, actor=digitizer)
    assert batch.state == BatchState.QA and batch.qa_sampled == 1  # 5 % of 2 pages, at least one
    sampled = batch.pages.get(qa_sampled=True)
    with pytest.raises(ValidationError):
        digitization.page_qa(page=sampled, actor=archivist, passed=False, note="")  # a reason is required
    digitization.page_qa(page=sampled, actor=archivist, passed=True)
    outcome = digitization.batch_qa_decide(batch=batch, actor=archivist)
    assert isinstance(outcome, BackgroundJob)
    _run(outcome)
    batch.refresh_from_db()
    item.refresh_from_db()
    assert batch.state == BatchState.DONE and batch.finished_at is not None
    assert item.digitization == DigitizationStatus.DIGITIZED and item.digitized_at is not None
    with item.e_file.open("rb") as fh:
        data = fh.read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == item.e_file_sha256 and len(data) == item.e_file_size
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    # Each page image is the processed JPEG as stored, not a second encoding of it.
    for pdf_page, page in zip(reader.pages, pages, strict=True):
        (image,) = [x.get_object() for x in pdf_page["/Resources"]["/XObject"].values()]
        with page.processed.open("rb") as fh:
            assert image.get_data() == fh.read()
    # A line of the page may break inside the USCC: compare without layout whitespace.
    text = "".join(p.extract_text() for p in reader.pages).replace(" ", "").replace("\n", "")
    assert truth[0].enterprise_name in text and truth[0].uscc in text
    assert truth[0].enterprise_name in item.text.replace(" ", "")


def test_a_page_naming_another_enterprise_is_flagged_and_kept(batch, archive, digitizer):
    item = archive.items.order_by("item_number").first()
    other = samples.generate_page(
        21,
        "clean",
        enterprise_name="广州另一家贸易有限公司",
        uscc=samples.make_uscc(__import__("random").Random(5)),
    )
    name = f"{item.archival_code}-001.jpg"
    digitization.batch_add_scans(
        batch=batch, actor=digitizer, files=[(name, samples.sample_file(other, "jpeg"))]
    )
    _run(digitization.batch_start_processing(batch=batch, actor=digitizer))
    page = batch.pages.get()
    codes = {c["code"] for c in page.auto_checks}
    assert "other_enterprise" in codes
    assert page.item == item  # kept where it was filed, for a person to decide


def test_a_failed_sample_sends_the_batch_back_and_a_replaced_page_is_processed_again(
    batch, archive, digitizer, archivist
):
    item = archive.items.order_by("item_number").first()
    name, data, _page = _scan(item, 1, seed=31)
    digitization.batch_add_scans(batch=batch, actor=digitizer, files=[(name, data)])
    _run(digitization.batch_start_processing(batch=batch, actor=digitizer))
    batch = digitization.batch_submit_qa(batch=batch, actor=digitizer)
    page = batch.pages.get()
    with pytest.raises(PermissionDenied):
        digitization.page_qa(
            page=page, actor=digitizer, passed=True
        )  # the contractor does not pass its own work
    digitization.page_qa(page=page, actor=archivist, passed=False, note="字迹模糊，请重扫")
    outcome = digitization.batch_qa_decide(batch=batch, actor=archivist)
    assert outcome.state == BatchState.REWORK
    page.refresh_from_db()
    assert page.qa_status == PageQA.REJECTED and page.rework_count == 1
    with pytest.raises(ValidationError):
        digitization.page_replace(page=page, actor=digitizer, filename="x.jpg", data=b"")
    _name, again, _p = _scan(item, 1, seed=32)
    digitization.page_replace(page=page, actor=digitizer, filename=name, data=again)
    page.refresh_from_db()
    assert page.qa_status == PageQA.PENDING and not page.processed
    _run(digitization.batch_start_processing(batch=batch, actor=digitizer))
    page.refresh_from_db()
    assert page.processed and page.ocr_confidence is not None


def test_born_digital_pdf_enters_directly_and_a_scripted_pdf_is_refused(archive, archivist):
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    item = archive.items.order_by("item_number").first()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('x');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ValidationError):
        digitization.born_digital_ingest(item=item, actor=archivist, filename="a.pdf", data=buffer.getvalue())
    with pytest.raises(ValidationError):
        digitization.born_digital_ingest(item=item, actor=archivist, filename="a.pdf", data=b"")
    import datetime as dt

    from bizreg.core.pdf import DocumentSpec, Text, render_pdf

    pdf = render_pdf(
        DocumentSpec(
            title="准予设立登记通知书",
            created_at=dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC),
            blocks=[Text(f"{archive.enterprise_name}：经审查，准予设立登记。")],
        )
    )
    stored = digitization.born_digital_ingest(item=item, actor=archivist, filename="notice.pdf", data=pdf)
    assert stored.digitization == DigitizationStatus.DIGITIZED
    assert archive.enterprise_name in stored.text.replace(" ", "").replace("\n", "")


def test_an_item_with_text_but_no_pdf_gets_its_pdf_rendered_once(archive):
    import datetime as dt
    import hashlib

    from django.utils import timezone

    item = archive.items.order_by("item_number").first()
    when = timezone.make_aware(dt.datetime(2023, 5, 6, 17))
    item.digitization, item.digitized_at = DigitizationStatus.DIGITIZED, when
    item.text = f"{item.title}\n企业名称：{archive.enterprise_name}\n统一社会信用代码：{archive.uscc}"
    item.save()
    stored = digitization.item_ensure_file(item=item)
    assert stored.e_file and stored.digitized_at == when
    with stored.e_file.open("rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == stored.e_file_sha256
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\n", "")
    assert archive.uscc in text and stored.archival_code in text
    again = digitization.item_ensure_file(item=stored)
    assert again.e_file.name == stored.e_file.name  # rendered once
