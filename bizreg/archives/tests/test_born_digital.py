"""Born-digital (一网通办/全程电子化) cases enter the e-archive directly: driven through registration's case
workflow, the job it submits run by core's job runner after commit, the items read back from the archive,
its files, its events and the full-text search."""

# The registration fixtures imported below are taken as test parameters of the same name, by design.
# ruff: noqa: F811

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from bizreg.archives.models import (
    ArchiveEvent,
    ArchiveItem,
    DigitizationStatus,
    DocType,
    ItemSource,
    OpenStatus,
    TransferState,
)
from bizreg.archives.models_search import ItemSearchDoc
from bizreg.archives.selectors import transfers as transfer_selectors
from bizreg.archives.selectors.search import archive_search
from bizreg.archives.services import born_digital, transfers
from bizreg.archives.services.records import archive_for_case
from bizreg.core import jobs
from bizreg.core.models import BackgroundJob
from bizreg.registration.models import CaseState, Notice, NoticeKind
from bizreg.registration.tests.cases_fixtures import (  # noqa: F401
    intake,
    intake_data,
    licence_stock,
    step,
    street,
)

pytestmark = pytest.mark.django_db


def _ingest_jobs(case) -> list[BackgroundJob]:
    return list(
        BackgroundJob.objects.filter(kind=born_digital.BORN_DIGITAL_JOB_KIND, parameters__case_id=case.pk)
    )


@pytest.fixture
def committed(step, django_capture_on_commit_callbacks, celery_eager):
    """committed(case, action) → step(case, action) with its after-commit work run (the worker's job too)."""

    def run(case, action: str, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return step(case, action, **kwargs)

    return run


@pytest.fixture
def online_licensed(intake, step, licence_stock, committed):
    """An establishment received through 一网通办, taken to 已发照 (its after-commit work run)."""
    licence_stock(2)
    case = step(step(step(intake(channel="one_stop"), "pass_pre_review"), "accept"), "approve")
    assert _ingest_jobs(case) == []  # approved, but an establishment waits for its licence
    return committed(case, "issue_licence")


def _file_bytes(item: ArchiveItem) -> bytes:
    with item.e_file.open("rb") as fh:
        return fh.read()


def _plain(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def _scripted_pdf() -> bytes:
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('x');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_with_attachment() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("payload.exe", b"MZ\x90\x00")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _document(data: bytes, number: str = "穗南政数受字〔2026〕第 99 号") -> born_digital.ElectronicDocument:
    return born_digital.ElectronicDocument(
        doc_number=number,
        doc_type=DocType.NOTICE_OTHER,
        title="受理通知书",
        responsible_party="南沙区政务服务和数据管理局",
        doc_date=None,
        read=lambda: data,
    )


# --- the whole way: registration step → job after commit → items in the e-archive ---------------------


def test_online_establishment_notices_enter_the_enterprise_archive_with_hash_and_text(
    online_licensed, archivist
):
    case = online_licensed
    [job] = _ingest_jobs(case)
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    notices = {n.number: n for n in Notice.objects.filter(case=case)}
    assert {n.kind for n in notices.values()} == {NoticeKind.ACCEPTANCE, NoticeKind.APPROVAL_ESTABLISHMENT}

    items = list(ArchiveItem.objects.filter(case=case).select_related("archive"))
    assert {i.doc_number for i in items} == set(notices)
    assert {i.archive.enterprise_id for i in items} == {case.enterprise_id}
    for item in items:
        notice = notices[item.doc_number]
        data = _file_bytes(item)
        assert item.source == ItemSource.BORN_DIGITAL
        assert item.digitization == DigitizationStatus.DIGITIZED and item.digitized_at is not None
        assert item.e_file_sha256 == hashlib.sha256(data).hexdigest() == notice.sha256
        assert item.e_file_size == len(data) and item.pages >= 1
        assert case.enterprise_name in _plain(item.text)
        assert item.title == notice.get_kind_display() and item.flags == []
    [approval] = [i for i in items if notices[i.doc_number].kind == NoticeKind.APPROVAL_ESTABLISHMENT]
    assert approval.doc_type == DocType.NOTICE_APPROVAL
    # The approval notice is public (商事公示); the acceptance notice, addressed to the applicant, is not.
    assert {i.doc_type: i.open_status for i in items} == {
        DocType.NOTICE_APPROVAL: OpenStatus.OPEN,
        DocType.NOTICE_OTHER: OpenStatus.CONTROLLED,
    }
    assert sorted(job.result["stored"]) == sorted(i.archival_code for i in items)
    assert job.result["flagged"] == []

    # Found by the full-text search, by words only the notice's text holds.
    hits = archive_search(user=archivist, query="准予设立登记", filters={"source": "born_digital"}, page=1)
    assert approval.pk in [hit.item.pk for hit in hits.hits]


def test_archiving_the_case_runs_again_and_adds_nothing(online_licensed, committed):
    before = list(ArchiveItem.objects.filter(case=online_licensed).values_list("pk", "e_file_sha256"))
    case = committed(online_licensed, "archive")
    assert case.state == CaseState.ARCHIVED
    jobs_run = _ingest_jobs(case)
    assert len(jobs_run) == 2 and {j.status for j in jobs_run} == {BackgroundJob.Status.SUCCEEDED}
    assert list(ArchiveItem.objects.filter(case=case).values_list("pk", "e_file_sha256")) == before
    # The service itself, called once more (a retried job): nothing added.
    assert born_digital.born_digital_case_ingest(case=case, actor=None) == []
    assert ArchiveItem.objects.filter(case=case).count() == len(before)


def test_a_retried_job_adds_nothing(online_licensed, django_capture_on_commit_callbacks):
    from bizreg.core import services as core_services

    [job] = _ingest_jobs(online_licensed)
    count = ArchiveItem.objects.filter(case=online_licensed).count()
    # As if the first run had failed after its work was done (a lost worker): its submitter retries it.
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        core_services.job_retry(job=job, actor=job.created_by)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.attempts == 2, job.error
    assert job.result["stored"] == [] and job.result["flagged"] == []
    assert ArchiveItem.objects.filter(case=online_licensed).count() == count


def test_online_filing_goes_into_the_existing_archive(intake, step, committed, enterprise, archive):
    """A filing ends at approval (no licence): it is complete then, and its notices join the archive."""
    case = step(
        step(intake("filing", enterprise_uscc=enterprise.uscc, channel="full_electronic"), "pass_pre_review"),
        "accept",
    )
    case = committed(case, "approve")
    [job] = _ingest_jobs(case)
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    items = ArchiveItem.objects.filter(case=case).order_by("item_number")
    assert {i.archive_id for i in items} == {archive.pk}
    assert [i.item_number for i in items] == [4, 5]  # after the archive's three paper items
    assert {i.doc_type for i in items} == {DocType.NOTICE_OTHER, DocType.NOTICE_CHANGE}


def test_an_item_recorded_without_its_file_is_completed_not_doubled(intake, step, licence_stock, archivist):
    from bizreg.archives.services.records import item_add

    licence_stock(2)
    case = step(
        step(step(step(intake(channel="one_stop"), "pass_pre_review"), "accept"), "approve"), "issue_licence"
    )
    acceptance = Notice.objects.get(case=case, kind=NoticeKind.ACCEPTANCE)
    described = item_add(
        archive=archive_for_case(case=case, actor=archivist),
        actor=archivist,
        case=case,
        doc_type=DocType.NOTICE_OTHER,
        title="受理通知书",
        doc_number=acceptance.number,
        source=ItemSource.BORN_DIGITAL,
    )
    added = born_digital.born_digital_case_ingest(case=case, actor=None)
    assert described.pk in [i.pk for i in added] and len(added) == 2
    described.refresh_from_db()
    assert described.e_file_sha256 == acceptance.sha256
    assert ArchiveItem.objects.filter(case=case, doc_number=acceptance.number).count() == 1


def test_an_archive_moved_out_fails_the_job_with_its_reason(intake, step, committed, enterprise, archive):
    from bizreg.archives.models import ArchiveFile, ArchiveStatus

    ArchiveFile.objects.filter(pk=archive.pk).update(status=ArchiveStatus.MOVED_OUT)
    case = step(
        step(intake("filing", enterprise_uscc=enterprise.uscc, channel="one_stop"), "pass_pre_review"),
        "accept",
    )
    case = committed(case, "approve")
    [job] = _ingest_jobs(case)
    assert job.status == BackgroundJob.Status.FAILED and "已迁出" in job.error, job.error
    assert case.number in job.error and not ArchiveItem.objects.filter(case=case).exists()


def test_a_window_case_is_not_ingested(intake, step, licence_stock, committed):
    licence_stock(2)
    case = step(step(step(intake(), "pass_pre_review"), "accept"), "approve")
    case = committed(committed(case, "issue_licence"), "archive")
    assert _ingest_jobs(case) == []
    assert born_digital.born_digital_case_ingest(case=case, actor=None) == []
    assert not ArchiveItem.objects.filter(case=case).exists()


def test_an_open_online_case_is_not_ingested(intake, step):
    case = step(intake(channel="one_stop"), "pass_pre_review")
    assert born_digital.born_digital_case_ingest(case=case, actor=None) == []
    assert _ingest_jobs(case) == [] and not ArchiveItem.objects.filter(case=case).exists()


def test_a_failed_step_submits_no_job(intake, step, committed):
    from bizreg.core.statemachine import TransitionNotAllowed

    case = step(step(step(intake(channel="one_stop"), "pass_pre_review"), "accept"), "approve")
    with pytest.raises(TransitionNotAllowed):  # no licence stock: the step is refused and rolled back
        committed(case, "issue_licence")
    assert _ingest_jobs(case) == []


def test_job_for_a_case_that_does_not_exist_fails_with_a_message(authority, clerk):
    from bizreg.core import services as core_services

    job = core_services.job_create(
        authority=authority, kind=born_digital.BORN_DIGITAL_JOB_KIND, actor=clerk, parameters={"case_id": 0}
    )
    assert jobs.execute(job.pk) == BackgroundJob.Status.FAILED
    job.refresh_from_db()
    assert "登记业务不存在" in job.error


# --- bad files are kept and flagged, never lost -------------------------------------------------------------


def test_notice_pdf_with_an_attachment_is_kept_flagged(
    intake, step, licence_stock, committed, archivist, client_for
):
    licence_stock(2)
    case = step(step(step(intake(channel="one_stop"), "pass_pre_review"), "accept"), "approve")
    # A notice whose stored PDF (taken over from the online system, hash recorded with it) carries a file.
    approval = Notice.objects.get(case=case, kind=NoticeKind.APPROVAL_ESTABLISHMENT)
    bad = _pdf_with_attachment()
    approval.file.save("taken-over.pdf", ContentFile(bad), save=False)
    approval.sha256 = hashlib.sha256(bad).hexdigest()
    approval.save(update_fields=["file", "sha256"])

    case = committed(case, "issue_licence")
    [job] = _ingest_jobs(case)
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    flagged = ArchiveItem.objects.get(case=case, doc_number=approval.number)
    assert not flagged.e_file and flagged.digitization == DigitizationStatus.NOT_DIGITIZED
    assert [f["code"] for f in flagged.flags] == [born_digital.FLAG_BORN_DIGITAL_CHECK]
    assert "嵌入文件" in flagged.flags[0]["message"]
    assert job.result["flagged"] == [{"item": flagged.archival_code, "reason": flagged.flags[0]["message"]}]
    assert ArchiveEvent.objects.filter(
        object_type="archivefile", object_id=flagged.archive_id, action="flag_item"
    ).exists()
    # The archivist sees it marked 待核 on the archive's page, with the reason.
    page = client_for(archivist).get(reverse("archives:archive_detail", args=[flagged.archive_id]))
    assert page.status_code == 200 and 'data-testid="item-flag"' in page.content.decode()
    assert "嵌入文件" in page.content.decode()
    # The other notice went in; a second run neither adds nor re-flags anything.
    stored = ArchiveItem.objects.get(case=case, doc_type=DocType.NOTICE_OTHER)
    assert stored.digitization == DigitizationStatus.DIGITIZED
    assert born_digital.born_digital_case_ingest(case=case, actor=None) == []
    flagged.refresh_from_db()
    assert len(flagged.flags) == 1


def test_a_notice_that_fails_its_recorded_hash_is_flagged(intake, step, licence_stock):
    licence_stock(2)
    case = step(step(step(intake(channel="one_stop"), "pass_pre_review"), "accept"), "approve")
    acceptance = Notice.objects.get(case=case, kind=NoticeKind.ACCEPTANCE)
    Notice.objects.filter(pk=acceptance.pk).update(sha256="0" * 64)
    case = step(case, "issue_licence")
    born_digital.born_digital_case_ingest(case=case, actor=None)
    flagged = ArchiveItem.objects.get(case=case, doc_number=acceptance.number)
    assert not flagged.e_file and "校验值不符" in flagged.flags[0]["message"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "0 字节"),
        (_scripted_pdf(), "脚本"),
        (_pdf_with_attachment(), "嵌入文件"),
        (b"%PDF-1.7 truncated", "损坏"),
        (b"GIF89a not a pdf at all", "不是 PDF"),
    ],
    ids=["empty", "javascript", "attachment", "corrupt", "not-pdf"],
)
def test_a_bad_file_becomes_a_flagged_item_with_its_reason(online_licensed, data, reason):
    case = online_licensed
    archive = archive_for_case(case=case, actor=None)
    item = born_digital.born_digital_document_ingest(
        case=case, archive=archive, actor=None, document=_document(data)
    )
    assert item is not None and item.pk and item.archive_id == archive.pk
    assert not item.e_file and item.e_file_sha256 == "" and item.text == ""
    assert item.digitization == DigitizationStatus.NOT_DIGITIZED
    assert item.source == ItemSource.BORN_DIGITAL
    [flag] = item.flags
    assert flag["code"] == born_digital.FLAG_BORN_DIGITAL_CHECK and reason in flag["message"], flag
    # Kept and in the search index by its description while its file is missing.
    assert ItemSearchDoc.objects.filter(item_id=item.pk).exists()
    # Once flagged it stays one item: the same document again adds nothing.
    assert (
        born_digital.born_digital_document_ingest(
            case=case, archive=archive, actor=None, document=_document(data)
        )
        is None
    )
    assert ArchiveItem.objects.filter(case=case, doc_number=item.doc_number).count() == 1


# --- the transfer list then finds them ----------------------------------------------------------------


def test_transfer_list_keeps_the_ingested_notices_and_records_the_materials_once(
    online_licensed, authority, archivist
):
    case = online_licensed
    notice_items = set(ArchiveItem.objects.filter(case=case).values_list("pk", flat=True))
    transfer = transfers.transfer_build(authority=authority, actor=archivist, case_ids=[case.pk])
    [entry] = transfer.entries.all()
    items = ArchiveItem.objects.filter(case=case)
    assert notice_items < set(items.values_list("pk", flat=True))
    materials = items.exclude(pk__in=notice_items)
    assert materials.count() == entry.expected_items  # every mandatory material was received online
    assert set(materials.values_list("source", flat=True)) == {ItemSource.BORN_DIGITAL}
    assert entry.present_items == items.count() and entry.archive_id == items.first().archive_id
    sections = transfer_selectors.transfer_entries(transfer)
    assert [e.case_id for e in sections.born_digital] == [case.pk] and sections.paper == []

    # A cancelled list and a new one: the items are reused, nothing doubles.
    transfers.transfer_cancel(transfer=transfer, actor=archivist, reason="重编")
    assert transfer.entries.exists() and transfer.__class__.objects.get(pk=transfer.pk).state == (
        TransferState.CANCELLED
    )
    count = items.count()
    again = transfers.transfer_build(authority=authority, actor=archivist, case_ids=[case.pk])
    assert ArchiveItem.objects.filter(case=case).count() == count
    assert again.entries.get().present_items == count
