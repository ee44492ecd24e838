"""Evidence (证据): photos and documents of a case, stored once with their SHA-256, never changed.

A file is accepted only when its content is a JPEG, PNG, TIFF or PDF (magic bytes — the name's extension
and the browser's claimed type prove nothing) and what the name or type claims agrees with the content,
within settings.INVESTIGATIONS_EVIDENCE_MAX_BYTES. It is stored through Django's storage under a generated
name; the uploader's file name is kept as text only. There is no update or delete: a correction is a new
version that supersedes the old one, with its reason.
"""

from __future__ import annotations

import hashlib
import posixpath
import unicodedata
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.investigations.models import Evidence, EvidenceKind, FieldCheck, InvestigationCase
from bizreg.investigations.services.events import (
    Errors,
    assert_authority,
    assert_not_finished,
    clean_text,
    lock_case,
    record_event,
    text,
)

PERM = "investigations.add_evidence"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
ALLOWED_LABEL = "JPEG、PNG、TIFF 图片或 PDF 文件"
SUPERSEDED_MESSAGE = "该证据已有更正版本，请在最新版本上更正。"


class _Format:
    def __init__(self, name: str, mime: str, extensions: tuple[str, ...], magic: tuple[bytes, ...], mimes=()):
        self.name, self.mime, self.extensions, self.magic = name, mime, extensions, magic
        self.mimes = frozenset((mime, *mimes))


FORMATS = (
    _Format("JPEG", "image/jpeg", ("jpg", "jpeg", "jpe"), (b"\xff\xd8\xff",), ("image/pjpeg", "image/jpg")),
    _Format("PNG", "image/png", ("png",), (b"\x89PNG\r\n\x1a\n",)),
    _Format("TIFF", "image/tiff", ("tif", "tiff"), (b"II*\x00", b"MM\x00*")),
    _Format("PDF", "application/pdf", ("pdf",), (b"%PDF-",)),
)
# Types a browser or client sends when it does not know: they claim nothing.
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})


def max_evidence_bytes() -> int:
    return int(getattr(settings, "INVESTIGATIONS_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def safe_file_name(name: str) -> str:
    """The last path component without control characters, at most 255 characters ("证据" if empty)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    name = posixpath.basename(name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name:
        return "证据"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def sniff(data: bytes) -> _Format | None:
    for fmt in FORMATS:
        if data.startswith(fmt.magic):
            return fmt
    return None


def _read(upload, errors: Errors) -> bytes | None:
    if upload is None or not hasattr(upload, "read"):
        errors.add("upload", "请选择要上传的文件。")
        return None
    limit = max_evidence_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        errors.add(
            "upload", f"文件超过 {_megabytes(limit)} MB（本文件 {_megabytes(size)} MB），请压缩或分拆后上传。"
        )
        return None
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        errors.add("upload", f"文件超过 {_megabytes(limit)} MB，请压缩或分拆后上传。")
        return None
    if not data:
        errors.add("upload", "文件是空的，请重新选择。")
        return None
    return data


def check_file(upload, errors: Errors) -> tuple[bytes, _Format, str] | None:
    """(content, format, file name) of an acceptable upload, or None with the reason added to `errors`."""
    data = _read(upload, errors)
    if data is None:
        return None
    name = safe_file_name(getattr(upload, "name", "") or "")
    fmt = sniff(data)
    if fmt is None:
        errors.add("upload", f"不支持的文件类型：“{name}”的内容不是 {ALLOWED_LABEL}，请转换后上传。")
        return None
    _stem, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    if ext and ext not in fmt.extensions:
        known = any(ext in f.extensions for f in FORMATS)
        why = f"扩展名 .{ext} 与文件内容（{fmt.name}）不符" if known else f"扩展名 .{ext} 不在允许之列"
        errors.add("upload", f"不支持的文件类型：{why}。仅接受内容与扩展名一致的 {ALLOWED_LABEL}。")
        return None
    claimed = text(getattr(upload, "content_type", "")).lower().split(";")[0].strip()
    if claimed not in GENERIC_TYPES and claimed not in fmt.mimes:
        errors.add("upload", f"不支持的文件类型：声明的类型 {claimed} 与文件内容（{fmt.name}）不符。")
        return None
    return data, fmt, name


def _store(evidence: Evidence, data: bytes, fmt: _Format) -> None:
    evidence.file.save(f"{uuid.uuid4().hex}.{fmt.extensions[0]}", ContentFile(data), save=False)


def evidence_add(
    *,
    case: InvestigationCase,
    actor,
    upload,
    kind: str,
    description: str,
    field_check: FieldCheck | None = None,
) -> Evidence:
    """Store one piece of evidence of the case (or of one of its field checks)."""
    label = "上传证据"
    if actor is None or not actor.has_perm(PERM):
        raise PermissionDenied("您的角色无权上传证据。")
    assert_authority(case, actor)
    assert_not_finished(case, label)
    errors = Errors()
    kind = text(kind)
    if kind not in EvidenceKind.values:
        errors.add("kind", "请选择证据类型。")
    description = clean_text(description, name="description", label="证据说明", max_length=300, errors=errors)
    if field_check is not None and field_check.case_id != case.pk:
        errors.add("field_check", "所选实地核查不属于本案。")
    checked = check_file(upload, errors)
    errors.raise_if_any()
    data, fmt, name = checked
    with transaction.atomic():
        locked = lock_case(case)
        assert_not_finished(locked, label)
        now = timezone.now()
        evidence = Evidence(
            case=locked,
            field_check=field_check,
            kind=kind,
            description=description,
            file_name=name,
            content_type=fmt.mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor,
            uploaded_at=now,
        )
        _store(evidence, data, fmt)
        evidence.save()
        record_event(
            case=locked,
            action="evidence_add",
            label=label,
            actor=actor,
            reason=f"{evidence.get_kind_display()}：{name}（SHA-256 {evidence.sha256}）",
            occurred_at=now,
        )
    return evidence


def evidence_correct(*, evidence: Evidence, actor, upload, reason: str) -> Evidence:
    """A corrected file for a piece of evidence: a new version; the old one stays as it was."""
    label = "更正证据"
    if actor is None or not actor.has_perm(PERM):
        raise PermissionDenied("您的角色无权上传证据。")
    assert_authority(evidence.case, actor)
    assert_not_finished(evidence.case, label)
    errors = Errors()
    reason = clean_text(reason, name="reason", label="更正理由", max_length=300, errors=errors)
    checked = check_file(upload, errors)
    errors.raise_if_any()
    data, fmt, name = checked
    with transaction.atomic():
        locked = lock_case(evidence.case)
        assert_not_finished(locked, label)
        old = Evidence.objects.select_for_update().get(pk=evidence.pk)
        if Evidence.objects.filter(supersedes=old).exists():
            raise ValidationError({"__all__": [SUPERSEDED_MESSAGE]})
        now = timezone.now()
        new = Evidence(
            case=locked,
            field_check_id=old.field_check_id,
            kind=old.kind,
            description=old.description,
            file_name=name,
            content_type=fmt.mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor,
            uploaded_at=now,
            version=old.version + 1,
            supersedes=old,
            correction_reason=reason,
        )
        _store(new, data, fmt)
        try:
            with transaction.atomic():
                new.save()
        except IntegrityError:
            new.file.delete(save=False)
            raise ValidationError({"__all__": [SUPERSEDED_MESSAGE]}) from None
        record_event(
            case=locked,
            action="evidence_correct",
            label=label,
            actor=actor,
            reason=(
                f"{old.file_name} → 第 {new.version} 版 {name}（SHA-256 {new.sha256}）；更正理由：{reason}"
            ),
            occurred_at=now,
        )
    return new
