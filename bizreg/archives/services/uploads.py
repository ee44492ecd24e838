"""Uploads of 商事公示 materials (章程, 变更/准予登记通知书) straight into an archive as searchable PDFs.

The file is checked by the intake's PDF check (format, scripts, attachments, page count, text); what it
passes is stored with its SHA-256. A text naming another enterprise's USCC does not lose the upload: the
item is stored and flagged for an archivist to look at."""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
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
from bizreg.archives.services.events import record_event
from bizreg.archives.services.records import item_add
from bizreg.archives.services.search_index import search_index_item
from bizreg.core.identifiers import validate_uscc

PUBLIC_NOTICE_DOC_TYPES = (
    DocType.ARTICLES,
    DocType.NOTICE_CHANGE,
    DocType.NOTICE_APPROVAL,
    DocType.PUBLIC_NOTICE,
)
# 18 characters of the USCC alphabet (no I, O, S, V, Z) not glued to other letters or digits.
_USCC_CANDIDATE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NP-RTUWXY]{18}(?![0-9A-Z])")

FLAG_OTHER_ENTERPRISE = "other_enterprise"


def max_upload_bytes() -> int:
    return int(getattr(settings, "ARCHIVES_MAX_UPLOAD_MB", 50)) * 1024 * 1024


def usccs_in_text(text: str) -> list[str]:
    """The valid USCCs written in `text`, in order, each once."""
    found: list[str] = []
    for candidate in _USCC_CANDIDATE.findall((text or "").upper()):
        try:
            number = validate_uscc(candidate)
        except ValidationError:
            continue
        if number not in found:
            found.append(number)
    return found


def other_enterprise_flags(*, archive: ArchiveFile, text: str) -> list[dict[str, str]]:
    if not archive.uscc:
        return []
    others = [u for u in usccs_in_text(text) if u != archive.uscc]
    if not others:
        return []
    return [
        {
            "code": FLAG_OTHER_ENTERPRISE,
            "message": (
                f"文件内容载有其他企业的统一社会信用代码 {'、'.join(others)}（本档案为 {archive.uscc}），"
                "请核对是否归错档案。"
            ),
        }
    ]


def _read_upload(upload) -> bytes:
    limit = max_upload_bytes()
    size = getattr(upload, "size", None)
    if size == 0:
        raise ValidationError({"upload": ["文件为空（0 字节），请重新选择文件。"]})
    if size is not None and size > limit:
        raise ValidationError({"upload": [f"文件超过 {limit // (1024 * 1024)} MB 的上传上限。"]})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if not data:
        raise ValidationError({"upload": ["文件为空（0 字节），请重新选择文件。"]})
    if len(data) > limit:
        raise ValidationError({"upload": [f"文件超过 {limit // (1024 * 1024)} MB 的上传上限。"]})
    return data


def public_notice_upload(*, archive: ArchiveFile, actor, doc_type: str, title: str, upload) -> ArchiveItem:
    """Add an uploaded 商事公示 PDF to `archive` as a new item with its file, hash and text."""
    from bizreg.archives.imaging.intake import ScanRejected, check_pdf_document

    if not actor.has_perm("archives.add_archiveitem"):
        raise PermissionDenied("您的角色无权上传商事公示材料。")
    if doc_type not in PUBLIC_NOTICE_DOC_TYPES:
        raise ValidationError({"doc_type": ["商事公示材料仅限章程、登记通知书和公示材料。"]})
    if not (title or "").strip():
        raise ValidationError({"title": ["请填写题名。"]})
    data = _read_upload(upload)
    try:
        check = check_pdf_document(data)
    except ScanRejected as exc:
        raise ValidationError({"upload": [exc.message_zh]}) from None
    text = check.text or ""
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        # The folder may have moved out or been merged since the page was opened: decide on the row as it is.
        archive = ArchiveFile.objects.select_for_update().get(pk=archive.pk)
        flags = other_enterprise_flags(archive=archive, text=text)
        item = item_add(
            archive=archive,
            actor=actor,
            doc_type=doc_type,
            title=title,
            pages=check.pages,
            open_status=OpenStatus.OPEN,  # published material: part of the basic record
            source=ItemSource.PUBLIC_NOTICE,
        )
        item.e_file.save(f"{item.archival_code}.pdf", ContentFile(data), save=False)
        item.e_file_sha256 = digest
        item.e_file_size = len(data)
        item.text = text
        item.flags = flags
        item.digitization = DigitizationStatus.DIGITIZED
        item.digitized_at = timezone.now()
        item._history_user = actor
        item.save()
        search_index_item(item=item)
        record_event(
            obj=archive,
            action="public_notice_upload",
            actor=actor,
            reason=f"{item.archival_code} {item.title}（{len(data)} 字节，SHA-256 {digest[:12]}…）",
        )
        for flag in flags:
            record_event(
                obj=archive, action="flag_item", actor=actor, reason=f"{item.archival_code} {flag['message']}"
            )
    return item
