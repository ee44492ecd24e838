"""Issuing the investigation documents (专业意见书, 尽职调查报告, 决定书, 公告) and re-rendering them.

`document_issue` checks the actor and the case's state, takes the next number of the authority's series
for that kind and year (the DocumentCounter row is locked until the issuing transaction ends, so numbers
neither repeat nor leave gaps: a failed issue rolls its number back), writes the document's full text
into CaseDocument.content, renders the PDF (core.pdf) and the .docx (core.docx) from that content and
stores both with their SHA-256.

Both files are a function of the stored content only (the issuing time is their creation time), so
`document_render` re-renders exactly the stored bytes for a download and proves it by the hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.investigations.documents.content import build_content
from bizreg.investigations.documents.rendering import FORMATS, render
from bizreg.investigations.models import (
    CaseDocument,
    CaseState,
    DocumentCounter,
    DocumentKind,
    InvestigationCase,
)
from bizreg.investigations.services.events import (
    assert_authority,
    assert_not_finished,
    assert_perm,
    lock_case,
    record_event,
)
from bizreg.registration.selectors.documents import issuer_profile

ISSUE_PERMISSION = "investigations.add_casedocument"

# The 字 of each series: 〔2026〕冒调意字第3号 (冒调 = 冒用身份调查).
KIND_WORDS = {
    DocumentKind.OPINION: "意",
    DocumentKind.DUE_DILIGENCE: "查",
    DocumentKind.DECISION: "决",
    DocumentKind.PUBLIC_NOTICE: "告",
}

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class DocumentIntegrityError(Exception):
    """A re-rendered document no longer matches the SHA-256 recorded when it was issued."""


# --- numbering -------------------------------------------------------------------------------------------


def format_document_number(*, short_name: str, year: int, kind: str, sequence: int) -> str:
    """穗南政数〔2026〕冒调意字第3号. The authority's 机关代字 (its code when none is set) keeps the numbers
    of different authorities apart: the number is unique across the whole system."""
    return f"{short_name}〔{year}〕冒调{KIND_WORDS[DocumentKind(kind)]}字第{sequence}号"


def _next_sequence(*, authority, kind: str, year: int) -> int:
    """The next number of the series, taken under the counter row's lock (held until the transaction ends)."""
    series = DocumentCounter.objects.select_for_update().filter(authority=authority, kind=kind, year=year)
    counter = series.first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = DocumentCounter.objects.create(authority=authority, kind=kind, year=year, last=0)
        except IntegrityError:
            # Another transaction opened the series first; wait for its lock, then continue after it.
            counter = series.get()
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


# --- state rules -----------------------------------------------------------------------------------------


def _went_through_notice(case: InvestigationCase) -> bool:
    return case.notice_started_on is not None or case.events.filter(action="start_notice").exists()


def _check_may_issue(case: InvestigationCase, kind: DocumentKind) -> None:
    """Raise TransitionNotAllowed (HTTP 409) when the case's state does not allow this document now."""
    assert_not_finished(case, f"出具{kind.label}")
    if case.state == CaseState.NOT_ACCEPTED:
        raise TransitionNotAllowed("案件已决定不予受理，不能出具调查文书。")
    if case.state == CaseState.RECEIVED:
        raise TransitionNotAllowed("案件尚未受理，不能出具调查文书。")
    issued = CaseDocument.objects.filter(case=case, kind=kind).order_by("-issued_at", "-id")
    if kind == DocumentKind.DECISION:
        if not hasattr(case, "decision"):
            raise TransitionNotAllowed("尚未作出处理决定，不能出具决定书。")
        # One decision, one letter: a second number for the same decision would be a second decision.
        existing = issued.first()
        if existing is not None:
            raise TransitionNotAllowed(f"本案决定书已出具（{existing.number}），不能重复出具。")
    if kind == DocumentKind.PUBLIC_NOTICE:
        if not (
            case.state == CaseState.PUBLIC_NOTICE
            or (case.state == CaseState.DECIDED and _went_through_notice(case))
        ):
            raise TransitionNotAllowed("只有公示期间（或经公示后已作出决定）的案件才能出具公告。")
        # One notice per notice period; a new period (after an objection was heard) gets its own notice.
        if case.notice_started_on is not None:
            issued = issued.filter(issued_at__date__gte=case.notice_started_on)
        existing = issued.first()
        if existing is not None:
            raise TransitionNotAllowed(f"本次公示的公告已出具（{existing.number}），不能重复出具。")


def _check_texts(kind: str, *, opinion: str, legal_basis: str) -> None:
    if kind != DocumentKind.OPINION:
        return
    errors = {}
    if not opinion.strip():
        errors["opinion"] = ["专业意见书必须写明调查意见。"]
    if not legal_basis.strip():
        errors["legal_basis"] = ["专业意见书必须写明拟适用的法律依据。"]
    if errors:
        raise ValidationError(errors)


# --- issuing ---------------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_issue(
    *,
    case: InvestigationCase,
    kind: DocumentKind | str,
    actor,
    opinion: str = "",
    legal_basis: str = "",
    issued_at: dt.datetime | None = None,
) -> CaseDocument:
    """Number, write, render and store a document of `kind` for `case`; returns the saved CaseDocument.

    `opinion` is the investigator's opinion (required for 专业意见书, optional closing section of 尽职调查
    报告); `legal_basis` the legal basis they propose (required for 专业意见书). The decision letter takes
    its outcome and legal basis from the case's Decision.

    Raises PermissionDenied without investigations.add_casedocument or for another authority's case,
    TransitionNotAllowed when the case's state does not allow the document (closed; 决定书 before a
    decision or a second time; 公告 outside the public notice), ValidationError for missing texts.
    """
    assert_perm(actor, ISSUE_PERMISSION, "您的角色无权出具调查文书。")
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": ["未知的文书类型。"]})
    kind = DocumentKind(kind)
    assert_authority(case, actor)
    _check_may_issue(case, kind)  # the cheap refusal before locking; checked again under the lock
    _check_texts(kind, opinion=opinion, legal_basis=legal_basis)
    with transaction.atomic():
        locked = lock_case(case)
        _check_may_issue(locked, kind)
        issued_at = issued_at or timezone.now()
        year = timezone.localtime(issued_at, timezone.get_default_timezone()).year
        authority = locked.authority
        profile = issuer_profile(authority=authority)
        short_name = profile.short_name if profile is not None and profile.short_name else authority.code
        number = format_document_number(
            short_name=short_name,
            year=year,
            kind=kind,
            sequence=_next_sequence(authority=authority, kind=kind, year=year),
        )
        content = build_content(
            case=locked,
            kind=kind,
            number=number,
            issued_at=issued_at,
            actor=actor,
            profile=profile,
            opinion=opinion,
            legal_basis=legal_basis,
        )
        document = CaseDocument(
            authority=authority,
            case=locked,
            kind=kind,
            number=number,
            issued_at=issued_at,
            issued_by=actor,
            content=content,
        )
        files = {fmt: render(content, fmt) for fmt in FORMATS}
        document.pdf_sha256 = _sha256(files["pdf"])
        document.docx_sha256 = _sha256(files["docx"])
        # Stored under a random name: unique, and the path reveals nothing about the case or the person.
        name = secrets.token_hex(12)
        document.pdf.save(f"{name}.pdf", ContentFile(files["pdf"]), save=False)
        document.docx.save(f"{name}.docx", ContentFile(files["docx"]), save=False)
        try:
            with transaction.atomic():
                document.save()
        except IntegrityError:
            _delete_files(document)
            raise ValidationError(
                {"number": [f"文书编号 {number} 已被使用，请检查本机关的机关代字是否与其他机关重复。"]}
            ) from None
        # Not a transition (the state stays): the case's timeline still shows who issued what, when.
        record_event(
            case=locked,
            action="document_issue",
            label=f"出具{kind.label}",
            actor=actor,
            reason=number,
            occurred_at=issued_at,
        )
    return document


def _delete_files(document: CaseDocument) -> None:
    for field in (document.pdf, document.docx):
        if field:
            field.delete(save=False)


# --- downloads -------------------------------------------------------------------------------------------


def document_render(document: CaseDocument, fmt: str) -> bytes:
    """The document in `fmt` ("pdf" or "docx") re-rendered from its stored content, checked against the
    SHA-256 recorded at issue; raises DocumentIntegrityError when they differ (the record was altered)."""
    if fmt not in FORMATS:
        raise ValidationError({"format": ["文书格式只能是 PDF 或 Word（docx）。"]})
    data = render(document.content, fmt)
    expected = document.pdf_sha256 if fmt == "pdf" else document.docx_sha256
    if _sha256(data) != expected:
        raise DocumentIntegrityError(
            f"文书 {document.number} 的内容与出具时登记的校验值不符，请联系系统管理员。"
        )
    return data


def document_filename(document: CaseDocument, fmt: str) -> str:
    """The download name: 决定书_穗南政数〔2026〕冒调决字第1号.pdf."""
    return f"{document.get_kind_display()}_{document.number}.{fmt}"
