"""Fixity (固定性核验, DA/T 70 integrity): re-hash every stored file that has a recorded SHA-256 and report
the missing and the altered ones.

Files checked per authority: item PDFs (ArchiveItem.e_file), scan originals and processed images
(ScanPage.original / processed) and applicants' proofs (AccessRequest.proof). Files are read through the
Django storage API in chunks, so a large PDF never sits whole in memory and object storage works the
same as the local disk. The run is idempotent: a second run the same day simply writes a second row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bizreg.archives.models import AccessRequest, ArchiveItem, FixityRun, ScanPage
from bizreg.core.models import Authority

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    label: str  # what the file belongs to, for the report
    field_file: object
    expected: str


def _hash(field_file) -> str | None:
    """The file's SHA-256, or None when the storage no longer has it."""
    digest = hashlib.sha256()
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except (FileNotFoundError, OSError):
        return None
    with handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stored_files(authority_id: int) -> Iterator[StoredFile]:
    items = (
        ArchiveItem.objects.filter(archive__authority_id=authority_id)
        .exclude(e_file="")
        .exclude(e_file_sha256="")
        .only("id", "archival_code", "e_file", "e_file_sha256")
        .order_by("id")
    )
    for item in items.iterator(chunk_size=500):
        yield StoredFile(f"档案件 {item.archival_code}", item.e_file, item.e_file_sha256)
    pages = (
        ScanPage.objects.filter(batch__authority_id=authority_id)
        .select_related("batch")
        .only(
            "id",
            "sequence",
            "original",
            "original_sha256",
            "processed",
            "processed_sha256",
            "batch__number",
        )
        .order_by("id")
    )
    for page in pages.iterator(chunk_size=500):
        where = f"扫描页 {page.batch.number}#{page.sequence}"
        if page.original and page.original_sha256:
            yield StoredFile(f"{where} 原始图像", page.original, page.original_sha256)
        if page.processed and page.processed_sha256:
            yield StoredFile(f"{where} 处理后图像", page.processed, page.processed_sha256)
    proofs = (
        AccessRequest.objects.filter(authority_id=authority_id)
        .exclude(proof="")
        .exclude(proof_sha256="")
        .only("id", "reference", "proof", "proof_sha256")
        .order_by("id")
    )
    for access in proofs.iterator(chunk_size=500):
        yield StoredFile(f"查询申请 {access.reference} 证明材料", access.proof, access.proof_sha256)


def fixity_check(*, authority: Authority, now: dt.datetime | None = None) -> FixityRun:
    """One run over one authority's files."""
    with transaction.atomic():
        run = FixityRun.objects.create(authority=authority, started_at=now or timezone.now())
    checked = missing = altered = 0
    problems: list[dict] = []
    for stored in stored_files(authority.pk):
        checked += 1
        found = _hash(stored.field_file)
        if found is None:
            missing += 1
            problems.append(
                {
                    "kind": "missing",
                    "object": stored.label,
                    "path": stored.field_file.name,
                    "expected": stored.expected,
                    "found": "",
                }
            )
        elif found != stored.expected:
            altered += 1
            problems.append(
                {
                    "kind": "altered",
                    "object": stored.label,
                    "path": stored.field_file.name,
                    "expected": stored.expected,
                    "found": found,
                }
            )
    with transaction.atomic():
        run.files_checked = checked
        run.files_missing = missing
        run.files_altered = altered
        run.problems = problems
        run.finished_at = timezone.now()
        run.save()
    return run


def fixity_check_all(
    *, authority: Authority | None = None, now: dt.datetime | None = None
) -> list[FixityRun]:
    """One FixityRun per authority (or for the one given). The scheduled task `archives.fixity_check`."""
    authorities = [authority] if authority is not None else list(Authority.objects.order_by("id"))
    return [fixity_check(authority=a, now=now) for a in authorities]
