"""Born-digital cases enter the e-archive directly (issue 6): no transfer, no scanning.

A case received through 一网通办 / 全程电子化 is born digital. Once it is complete
(registration.services.cases.case_is_complete: 已发照, 已归档, 不予登记, 已撤回, or 已核准 for the types
that print no licence), each electronic document of the case becomes an item of the case's archive
(records.archive_for_case: the enterprise's, or one under the applied-for name), source BORN_DIGITAL,
through digitization.born_digital_ingest: format check (a PDF without scripts or attachments), SHA-256,
text extraction, the search index, and the item marked 已入库.

The documents are the notices the case was issued (受理通知书, 准予…登记通知书, 不予登记通知书, 迁移调档函
…): registration's stored PDFs, read through its documents service, which checks each against its
recorded SHA-256. The online-submission import carries only the codes of the submitted materials, not
their files (docs/registration-import-format.md), so there is no material file to take in; the transfer
list records those materials as items without file, as before.

Idempotent: an item is known by its case and its 文件编号 (the notice's 文书编号), so running again adds
nothing, and a retried job completes what an interrupted one left. A document that fails the check is
not lost: its item is created without a file, flagged with the reason (ArchiveItem.flags, code
FLAG_BORN_DIGITAL_CHECK, shown 待核 on the archive page until an archivist clears it) and an ArchiveEvent
records it. One case is taken in one transaction, under the same authority lock the transfer-list
builder takes, so two runs (or a run and a list being built) never record the same document twice.

The trigger: registration's case_transition submits a core BackgroundJob of kind
registration.services.cases.ARCHIVE_INGEST_JOB_KIND when it leaves a born-digital case complete;
archives/jobs.py registers `run_born_digital_job` for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.archives.models import (
    ArchiveFile,
    ArchiveItem,
    DigitizationStatus,
    DocType,
    ItemSource,
    OpenStatus,
)
from bizreg.archives.services import records
from bizreg.archives.services.digitization import born_digital_ingest
from bizreg.archives.services.events import record_event
from bizreg.archives.services.search_index import search_index_item
from bizreg.archives.services.transfers import is_born_digital
from bizreg.core.jobs import JobError, Progress
from bizreg.core.models import Authority, BackgroundJob
from bizreg.registration.models import RegistrationCase
from bizreg.registration.selectors.cases import case_notices
from bizreg.registration.services import documents as registration_documents
from bizreg.registration.services.cases import ARCHIVE_INGEST_JOB_KIND, case_is_complete

BORN_DIGITAL_JOB_KIND = ARCHIVE_INGEST_JOB_KIND
# The approval and change notices are 商事公示 material (part of the basic record anyone may see); the other
# notices (受理, 一次性告知, 不予登记 …) are addressed to the applicant and stay 控制使用.
PUBLIC_DOC_TYPES = frozenset({DocType.NOTICE_APPROVAL, DocType.NOTICE_CHANGE})
FLAG_BORN_DIGITAL_CHECK = "born_digital_check"


class DocumentUnreadable(Exception):
    """The source system cannot hand over the document's bytes; the message (Chinese) says why."""


@dataclass(frozen=True)
class ElectronicDocument:
    """One electronic document of a case, as the e-archive takes it in."""

    doc_number: str  # 文件编号: with the case, what makes the document's item unique
    doc_type: str
    title: str
    responsible_party: str
    doc_date: dt.date | None
    read: Callable[[], bytes]  # the PDF; raises DocumentUnreadable


def _notice_reader(notice) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return registration_documents.notice_stored_bytes(notice)
        except registration_documents.NoticeIntegrityError as exc:
            raise DocumentUnreadable(str(exc)) from None

    return read


def case_electronic_documents(case: RegistrationCase) -> list[ElectronicDocument]:
    """The case's electronic documents, oldest first: its notices (the only files registration holds)."""
    return [
        ElectronicDocument(
            doc_number=notice.number,
            doc_type=records.doc_type_for_notice(notice.kind),
            title=notice.get_kind_display(),
            responsible_party=case.authority.name,  # the issuing authority is a notice's 责任者
            doc_date=timezone.localtime(notice.issued_at).date(),
            read=_notice_reader(notice),
        )
        for notice in case_notices(case=case)
    ]


def _flag(item: ArchiveItem, actor, reason: str) -> ArchiveItem:
    message = f"电子文件未通过入库检查：{reason.rstrip('。')}。请向一网通办系统调取原件核对后补录。"
    item.flags = [f for f in item.flags if f.get("code") != FLAG_BORN_DIGITAL_CHECK] + [
        {"code": FLAG_BORN_DIGITAL_CHECK, "message": message}
    ]
    item._history_user = actor
    item.save(update_fields=["flags", "updated_at"])
    search_index_item(item=item)  # found by its description while its file is missing
    record_event(obj=item.archive, action="flag_item", actor=actor, reason=f"{item.archival_code} {message}")
    return item


def _validation_reason(exc: ValidationError) -> str:
    return "；".join(exc.messages) or "格式检查未通过"


def _open_status(doc_type: str) -> str:
    return OpenStatus.OPEN if doc_type in PUBLIC_DOC_TYPES else OpenStatus.CONTROLLED


def born_digital_document_ingest(
    *, case: RegistrationCase, archive: ArchiveFile, actor, document: ElectronicDocument
) -> ArchiveItem | None:
    """Take one document of `case` into `archive`; None when it is already there (stored or flagged).

    A document failing the check still gets its item, without file and flagged with the reason."""
    with transaction.atomic():
        item = (
            ArchiveItem.objects.select_for_update()
            .filter(case=case, source=ItemSource.BORN_DIGITAL, doc_number=document.doc_number)
            .select_related("archive")
            .first()
        )
        # Stored, flagged for the archivist, or already in the e-archive without its PDF (taken over from
        # the old e-archive database; item_ensure_file renders it): nothing to do.
        if item is not None and (
            item.e_file or item.flags or item.digitization == DigitizationStatus.DIGITIZED
        ):
            return None
        if item is None:
            item = records.item_add(
                archive=archive,
                actor=actor,
                case=case,
                doc_type=document.doc_type,
                title=document.title,
                responsible_party=document.responsible_party,
                doc_date=document.doc_date,
                doc_number=document.doc_number,
                source=ItemSource.BORN_DIGITAL,
                open_status=OpenStatus.OPEN
                if document.doc_type in PUBLIC_DOC_TYPES
                else OpenStatus.CONTROLLED,
            )
        try:
            data = document.read()
            return born_digital_ingest(
                item=item,
                actor=actor,
                filename=f"{item.archival_code.replace('·', '.')}.pdf",
                data=data,
            )
        except DocumentUnreadable as exc:
            return _flag(item, actor, str(exc))
        except ValidationError as exc:  # the format check: empty, not a PDF, scripts, attachments, corrupt
            return _flag(item, actor, _validation_reason(exc))


def born_digital_case_ingest(*, case: RegistrationCase, actor) -> list[ArchiveItem]:
    """Take a complete born-digital case's electronic documents into its archive; returns the items added
    (stored or flagged) by this call — none for a window case, an open case or a second run."""
    if not is_born_digital(case) or not case_is_complete(case):
        return []
    added: list[ArchiveItem] = []
    with transaction.atomic():
        # The transfer-list builder's lock: one of them at a time records a case's items.
        Authority.objects.select_for_update(no_key=True).get(pk=case.authority_id)
        documents = case_electronic_documents(case)
        if not documents:
            return []
        archive = records.archive_for_case(case=case, actor=actor)
        for document in documents:
            item = born_digital_document_ingest(case=case, archive=archive, actor=actor, document=document)
            if item is not None:
                added.append(item)
        if added:
            stored = sum(1 for i in added if i.digitization == DigitizationStatus.DIGITIZED)
            record_event(
                obj=archive,
                action="born_digital_ingest",
                actor=actor,
                reason=f"业务 {case.number} 电子原生文件入库 {stored} 件"
                + (f"，{len(added) - stored} 件待核" if stored < len(added) else ""),
            )
    return added


def run_born_digital_job(job: BackgroundJob, progress: Progress) -> dict:
    """The runner of ARCHIVE_INGEST_JOB_KIND: one case, submitted by registration when it completes.
    Runs as the system (the clerk's step started it); safe to run again."""
    case = (
        RegistrationCase.objects.select_related("authority", "enterprise")
        .filter(pk=job.parameters.get("case_id"))
        .first()
    )
    if case is None:
        raise JobError("登记业务不存在，无法将电子原生文件入库。")
    progress(0, 1)
    try:
        items = born_digital_case_ingest(case=case, actor=None)
    except ValidationError as exc:  # e.g. the archive has moved out: an archivist must decide
        raise JobError(f"业务 {case.number} 电子原生文件入库失败：{_validation_reason(exc)}") from None
    progress(1, 1)
    return {
        "case": case.number,
        "stored": [i.archival_code for i in items if i.digitization == DigitizationStatus.DIGITIZED],
        "flagged": [
            {"item": i.archival_code, "reason": i.flags[-1]["message"]}
            for i in items
            if i.digitization != DigitizationStatus.DIGITIZED
        ],
    }
