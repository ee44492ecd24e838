"""The digitization pipeline (DA/T 31-2017), one batch at a time.

intake (upload or watched folder) → image processing → OCR → indexing (著录标引) → quality check → import.

- Intake stores every accepted page as a ScanPage with its original bytes and SHA-256; a file that is
  not a usable scan (0 bytes, not an image, corrupt, a decompression bomb, a PDF with scripts or
  attachments) is refused with its reason and the other files of the upload go on — nothing is lost.
  Pages are bound to their item by file name, DA/T 31 style: the item's 档号 + "-" + page number
  (`Q0451-SS·2023-Y-DJK-0001-0003-002.jpg`, `·` may be written `.`); a page whose name names no item is
  bound at indexing from its text.
- Processing, OCR and indexing run in the worker as one background job (`archives.digitize`), step by
  step and page by page; each page remembers what is done (processed image, OCR confidence), so a
  retried or redelivered job continues where the last one stopped.
- Indexing fills an item's empty description fields from its first page's text (title, responsible
  party, date, doc number) and checks the USCCs the text names against the item's archive: a page that
  names another enterprise is flagged (auto check "other_enterprise", an error) and kept.
- QA: the automatic checks of every page (resolution, residual skew, blank page, OCR confidence, page
  count against the catalogue) plus a human check of a sampled share of pages (default 5 %, at least
  one); the batch passes when every sampled page is checked, the pass rate reaches the pass mark (95 %)
  and no page has an unresolved automatic error. Otherwise it goes back for rework with the rejected
  pages listed; replaced pages are processed again.
- Import (a second job, `archives.import_batch`) writes one searchable PDF per item (the processed page
  images with their OCR text as an invisible layer), its SHA-256 and the item's full text, and marks the
  item digitized.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import (
    ArchiveItem,
    BatchState,
    DigitizationBatch,
    DigitizationStatus,
    DocType,
    PageQA,
    ScanPage,
    TransferList,
)
from bizreg.archives.selectors.records import scan_pages_in_order
from bizreg.archives.services.events import apply_transition, record_event
from bizreg.archives.services.search_index import search_index_item
from bizreg.core.models import Authority, BackgroundJob

DIGITIZE_JOB_KIND = "archives.digitize"
IMPORT_JOB_KIND = "archives.import_batch"
MIN_OCR_CONFIDENCE = 0.80  # below: the page's text is doubtful; the QA page shows it as an error
_CODE_ATTEMPTS = 5
_PAGE_NAME = re.compile(r"^(?P<item>.+)-(?P<page>\d{1,4})$")


def max_scan_bytes() -> int:
    return int(getattr(settings, "ARCHIVES_MAX_SCAN_MB", 200)) * 1024 * 1024


@dataclass
class IntakeResult:
    pages_added: int = 0
    files_accepted: int = 0
    rejected: list[dict] = field(default_factory=list)  # [{"file", "code", "message"}]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _require(actor, permission: str, label: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(f"您的角色无权{label}。")


# --- batches -------------------------------------------------------------------------------------------


def batch_create(
    *,
    authority: Authority,
    actor,
    transfer: TransferList | None = None,
    sample_percent: Decimal | int = 5,
    pass_mark_percent: Decimal | int = 95,
) -> DigitizationBatch:
    """Open a new batch (批次号 SM-<year>-<serial>)."""
    _require(actor, "archives.operate_digitization", "新建数字化批次")
    sample, mark = Decimal(sample_percent), Decimal(pass_mark_percent)
    errors: dict[str, list[str]] = {}
    if not Decimal("0.1") <= sample <= 100:
        errors["sample_percent"] = ["抽检比例应在 0.1%–100% 之间。"]
    if not 50 <= mark <= 100:
        errors["pass_mark_percent"] = ["合格线应在 50%–100% 之间。"]
    if transfer is not None and transfer.authority_id != authority.pk:
        errors["transfer"] = ["移交清单不属于本登记机关。"]
    if errors:
        raise ValidationError(errors)
    year = timezone.localdate().year
    for _attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                serial = DigitizationBatch.objects.filter(number__startswith=f"SM-{year}-").count() + 1
                batch = DigitizationBatch(
                    authority=authority,
                    number=f"SM-{year}-{serial:04d}",
                    transfer=transfer,
                    created_by=actor,
                    sample_percent=sample,
                    pass_mark_percent=mark,
                )
                batch._history_user = actor
                batch.save()
                record_event(obj=batch, action="create", actor=actor, to_state=batch.state)
                return batch
        except IntegrityError:
            continue
    raise ValidationError("批次号分配冲突，请稍后重试。")


def _item_for_name(authority_id: int, filename: str) -> tuple[ArchiveItem | None, int | None]:
    """The item and page number a DA/T 31 file name gives, or (None, None)."""
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].strip()
    match = _PAGE_NAME.match(stem)
    if not match:
        return None, None
    code = match["item"].replace(".", "·")
    item = ArchiveItem.objects.filter(archive__authority_id=authority_id, archival_code=code).first()
    return (item, int(match["page"])) if item is not None else (None, None)


def batch_add_scans(*, batch: DigitizationBatch, actor, files: Iterable[tuple[str, bytes]]) -> IntakeResult:
    """Check and store scans (file name, bytes); refused files are reported with their reason."""
    from bizreg.archives.imaging import intake

    _require(actor, "archives.operate_digitization", "上传扫描件")
    if batch.state not in (BatchState.INTAKE, BatchState.REWORK):
        raise ValidationError(f"批次当前为“{batch.get_state_display()}”，不能再上传扫描件。")
    result = IntakeResult()
    for filename, data in files:
        name = (filename or "scan").rsplit("/", 1)[-1][:255]
        if len(data) > max_scan_bytes():
            result.rejected.append(
                {"file": name, "code": "too_large", "message": f"文件超过 {max_scan_bytes() >> 20} MB。"}
            )
            continue
        try:
            pages = intake.check_and_split(data, name)
        except intake.ScanRejected as exc:
            result.rejected.append({"file": name, "code": exc.reason_code, "message": exc.message_zh})
            continue
        item, _page_no = _item_for_name(batch.authority_id, name)
        with transaction.atomic():
            locked = DigitizationBatch.objects.select_for_update().get(pk=batch.pk)
            sequence = (locked.pages.aggregate(n=Max("sequence"))["n"] or 0) + 1
            for offset, page in enumerate(pages):
                stored, ext = (
                    (data, name.rsplit(".", 1)[-1].lower()) if len(pages) == 1 else _page_bytes(page)
                )
                scan = ScanPage(
                    batch=locked,
                    item=item,
                    sequence=sequence + offset,
                    original_name=name if len(pages) == 1 else f"{name}#{offset + 1}",
                    original_sha256=_sha256(stored),
                    dpi=page.dpi or 0,
                )
                scan.original.save(
                    f"{locked.number}-{scan.sequence:05d}.{ext}", ContentFile(stored), save=False
                )
                scan.save()
                if item is not None and item.digitization != DigitizationStatus.IN_BATCH:
                    ArchiveItem.objects.filter(pk=item.pk).update(digitization=DigitizationStatus.IN_BATCH)
            DigitizationBatch.objects.filter(pk=locked.pk).update(pages_total=locked.pages.count())
            record_event(obj=locked, action="intake", actor=actor, reason=f"{name}：{len(pages)} 页")
        result.files_accepted += 1
        result.pages_added += len(pages)
    batch.refresh_from_db()
    return result


def _page_bytes(page) -> tuple[bytes, str]:
    """One page split from a multi-page file, kept losslessly as TIFF with its resolution."""
    from PIL import Image

    image = page.image if isinstance(page.image, Image.Image) else Image.fromarray(page.image)
    buffer = io.BytesIO()
    dpi = page.dpi or 300
    image.save(buffer, format="TIFF", compression="tiff_deflate", dpi=(dpi, dpi))
    return buffer.getvalue(), "tif"


# --- the processing job ---------------------------------------------------------------------------------


def batch_start_processing(*, batch: DigitizationBatch, actor) -> BackgroundJob:
    """Process, OCR and index the batch's pages in the worker; progress is the job's."""
    from bizreg.core import services as core_services

    with transaction.atomic():
        locked = DigitizationBatch.objects.select_for_update().get(pk=batch.pk)
        if not locked.pages.exists():
            raise ValidationError("批次还没有扫描页，请先上传。")
        apply_transition(machine=workflows.BATCH, obj=locked, action="process", actor=actor)
        job = core_services.job_submit(
            authority=locked.authority,
            kind=DIGITIZE_JOB_KIND,
            actor=actor,
            parameters={"batch_id": locked.pk},
        )
        locked.job = job
        locked._history_user = actor
        locked.save(update_fields=["state", "job", "updated_at"])
    batch.refresh_from_db()
    return job


def _system_step(batch: DigitizationBatch, action: str) -> None:
    """A step the worker moves the batch through (no user: the job's submitter started the chain)."""
    with transaction.atomic():
        locked = DigitizationBatch.objects.select_for_update().get(pk=batch.pk)
        target = workflows.BATCH.transition(action).target
        if locked.state == target:
            return  # a retried job that already passed this step
        previous = locked.state
        t = workflows.BATCH.transition(action)
        if previous not in t.sources:
            raise ValidationError(f"批次状态为“{locked.get_state_display()}”，不能{t.label}。")
        locked.state = t.target
        locked.save(update_fields=["state", "updated_at"])
        record_event(obj=locked, action=action, actor=None, from_state=previous, to_state=t.target)
    batch.state = t.target


def _file_bytes(field_file) -> bytes:
    with field_file.open("rb") as fh:
        return fh.read()


def _load_image(field_file):
    from PIL import Image

    image = Image.open(io.BytesIO(_file_bytes(field_file)))
    image.load()
    return image


def _jpeg(image) -> bytes:
    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _process_one(page: ScanPage) -> None:
    from bizreg.archives.imaging import intake, process

    with page.original.open("rb") as fh:
        data = fh.read()
    split = intake.check_and_split(data, page.original.name)
    processed = process.process_page(split[0], for_ocr=True)
    stored = _jpeg(processed.image)
    checks = [{"code": c.code, "message": c.message_zh, "severity": c.severity} for c in processed.checks]
    page.processed.save(f"{page.batch.number}-{page.sequence:05d}.jpg", ContentFile(stored), save=False)
    page.processed_sha256 = _sha256(stored)
    height, width = _size(processed.image)
    page.width, page.height = width, height
    page.dpi = processed.dpi or page.dpi
    page.skew_before, page.skew_after = processed.skew_before, processed.skew_after
    page.rotation = processed.rotation
    page.is_blank = processed.is_blank
    page.auto_checks = checks
    page.ocr_text, page.ocr_confidence, page.ocr_boxes = "", None, []
    page.save()


def _size(image) -> tuple[int, int]:
    if hasattr(image, "shape"):
        return int(image.shape[0]), int(image.shape[1])
    return image.height, image.width


def _ocr_one(page: ScanPage) -> None:
    from bizreg.archives.imaging import ocr

    checks = [c for c in page.auto_checks if c.get("code") not in ("low_confidence", "no_text")]
    if page.is_blank:
        page.ocr_text, page.ocr_confidence, page.ocr_boxes = "", 0.0, []
    else:
        result = ocr.recognize(_load_image(page.processed))
        page.ocr_text = result.text
        page.ocr_confidence = round(float(result.confidence), 4)
        page.ocr_boxes = [
            [*map(int, line.box), line.text, round(float(line.score), 4)] for line in result.lines
        ]
        if not result.text.strip():
            checks.append(
                {
                    "code": "no_text",
                    "message": "未识别出文字，请核对是否为空白页或图像质量。",
                    "severity": "error",
                }
            )
        elif page.ocr_confidence < MIN_OCR_CONFIDENCE:
            checks.append(
                {
                    "code": "low_confidence",
                    "message": f"识别置信度 {page.ocr_confidence:.0%} 低于 {MIN_OCR_CONFIDENCE:.0%}，"
                    "请核对图像质量。",
                    "severity": "error",
                }
            )
    page.auto_checks = checks
    page.save(update_fields=["ocr_text", "ocr_confidence", "ocr_boxes", "auto_checks"])


def run_digitize_job(job: BackgroundJob, progress) -> dict:
    """The `archives.digitize` runner: process → OCR → index, resuming where a previous run stopped."""
    batch = DigitizationBatch.objects.select_related("authority").get(pk=job.parameters["batch_id"])
    pages = list(batch.pages.order_by("sequence"))
    total = len(pages) * 2 + 1
    done = 0
    try:
        for page in pages:
            if not page.processed or page.rework_count and page.qa_status == PageQA.REJECTED:
                _process_one(page)
            done += 1
            progress(done, total)
        _system_step(batch, "ocr")
        for page in pages:
            if page.ocr_confidence is None:
                _ocr_one(page)
            done += 1
            progress(done, total)
        _system_step(batch, "index")
        summary = batch_index(batch=batch)
        progress(total, total)
    except Exception:
        _fail(batch)
        raise
    return {"batch": batch.number, "pages": len(pages), **summary}


def _fail(batch: DigitizationBatch) -> None:
    batch.refresh_from_db()
    if batch.state in workflows.BATCH.transition("fail").sources:
        _system_step(batch, "fail")


# --- indexing (著录标引) ----------------------------------------------------------------------------------


def batch_index(*, batch: DigitizationBatch) -> dict:
    """Bind unbound pages to items from their text, fill empty description fields, check the enterprise a
    page names against its archive, and compare page counts with the catalogue."""
    from bizreg.archives.imaging import indexing

    pages = list(batch.pages.select_related("item__archive").order_by("sequence"))
    bound = flagged = 0
    current_item: ArchiveItem | None = None
    for page in pages:
        guess = indexing.guess_index(page.ocr_text) if page.ocr_text else None
        if page.item is None:
            # An unnamed page continues the item of the page before it unless its text starts a new one.
            item = _item_from_guess(batch, guess) if guess else None
            page.item = item or current_item
            if page.item is not None:
                bound += 1
        current_item = page.item or current_item
        checks = [c for c in page.auto_checks if c.get("code") not in ("other_enterprise", "unbound")]
        if page.item is None:
            checks.append(
                {"code": "unbound", "message": "未能确定所属档案件，请在质检时指定。", "severity": "error"}
            )
        elif guess is not None:
            own = page.item.archive.uscc
            others = [u for u in guess.usccs if own and u != own]
            if others:
                flagged += 1
                checks.append(
                    {
                        "code": "other_enterprise",
                        "message": f"本页文字中的统一社会信用代码 {others[0]} 与所属档案（{own}）不一致。",
                        "severity": "error",
                    }
                )
            _describe(page.item, guess, page)
        page.auto_checks = checks
        page.save(update_fields=["item", "auto_checks"])
    _catalogue_counts(batch)
    return {"bound": bound, "other_enterprise": flagged}


def _item_from_guess(batch: DigitizationBatch, guess) -> ArchiveItem | None:
    if not guess.usccs:
        return None
    items = ArchiveItem.objects.filter(
        archive__authority_id=batch.authority_id,
        archive__uscc=guess.usccs[0],
        archive__merged_into__isnull=True,
    )
    if guess.doc_type and guess.doc_type != DocType.OTHER:
        typed = items.filter(doc_type=guess.doc_type).order_by("-item_number").first()
        if typed is not None:
            return typed
    return None


def _describe(item: ArchiveItem, guess, page: ScanPage) -> None:
    """Fill the item's empty description fields from the text of its first page only."""
    first = item.scan_pages.order_by("batch_id", "sequence").values_list("pk", flat=True).first()
    if first != page.pk:
        return
    changes = {}
    for name in ("title", "responsible_party", "doc_number"):
        value = getattr(guess, name, "") or ""
        if value and not getattr(item, name):
            changes[name] = value[: item._meta.get_field(name).max_length]
    if guess.doc_date and item.doc_date is None:
        changes["doc_date"] = guess.doc_date
    if changes:
        ArchiveItem.objects.filter(pk=item.pk).update(**changes)


def _catalogue_counts(batch: DigitizationBatch) -> None:
    """Page count against the catalogue: an item described with N pages must have N scanned pages."""
    by_item: dict[int, list[ScanPage]] = {}
    for page in batch.pages.exclude(item=None).select_related("item"):
        by_item.setdefault(page.item_id, []).append(page)
    for pages in by_item.values():
        item = pages[0].item
        scanned = ScanPage.objects.filter(item=item).count()
        for page in pages:
            checks = [c for c in page.auto_checks if c.get("code") != "page_count"]
            if item.pages and scanned != item.pages:
                checks.append(
                    {
                        "code": "page_count",
                        "message": f"档案件目录页数为 {item.pages}，实扫 {scanned} 页。",
                        "severity": "error",
                    }
                )
            if checks != page.auto_checks:
                page.auto_checks = checks
                page.save(update_fields=["auto_checks"])


# --- quality check (图文质检) ------------------------------------------------------------------------------


def page_errors(page: ScanPage) -> list[dict]:
    return [c for c in page.auto_checks if c.get("severity") == "error"]


def batch_submit_qa(*, batch: DigitizationBatch, actor) -> DigitizationBatch:
    """INDEXING → QA: draw the human sample (sample_percent of the pages, at least one)."""
    with transaction.atomic():
        locked = DigitizationBatch.objects.select_for_update().get(pk=batch.pk)
        apply_transition(machine=workflows.BATCH, obj=locked, action="to_qa", actor=actor)
        pages = list(locked.pages.order_by("sequence").values_list("pk", flat=True))
        size = max(1, math.ceil(len(pages) * float(locked.sample_percent) / 100))
        sample = random.Random(f"{locked.number}:{locked.pages_rejected}").sample(
            pages, min(size, len(pages))
        )
        locked.pages.update(qa_sampled=False)
        locked.pages.filter(pk__in=sample).update(
            qa_sampled=True, qa_status=PageQA.PENDING, qa_note="", qa_by=None
        )
        locked.qa_sampled, locked.qa_passed = len(sample), 0
        locked._history_user = actor
        locked.save(update_fields=["state", "qa_sampled", "qa_passed", "updated_at"])
    batch.refresh_from_db()
    return batch


def page_qa(*, page: ScanPage, actor, passed: bool, note: str = "") -> ScanPage:
    """The human check of one page (sampled or any other page the checker opens)."""
    if page.batch.state != BatchState.QA:
        raise ValidationError("批次不在质检阶段。")
    if not passed and not note.strip():
        raise ValidationError({"note": ["退回时请写明问题。"]})
    with transaction.atomic():
        locked = ScanPage.objects.select_for_update().select_related("batch").get(pk=page.pk)
        action = "pass" if passed else "reject"
        previous = locked.qa_status
        t = workflows.PAGE_QA.check(state=previous, action=action, user=actor)
        locked.qa_status, locked.qa_note, locked.qa_by = t.target, note.strip()[:300], actor
        locked.save(update_fields=["qa_status", "qa_note", "qa_by"])
        record_event(
            obj=locked.batch,
            action=f"page_{action}",
            actor=actor,
            from_state=previous,
            to_state=t.target,
            reason=f"第 {locked.sequence} 页 {note}".strip(),
        )
        _recount(locked.batch)
    page.refresh_from_db()
    return page


def _recount(batch: DigitizationBatch) -> None:
    sampled = batch.pages.filter(qa_sampled=True)
    DigitizationBatch.objects.filter(pk=batch.pk).update(
        qa_sampled=sampled.count(),
        qa_passed=sampled.filter(qa_status=PageQA.PASSED).count(),
        pages_rejected=batch.pages.filter(qa_status=PageQA.REJECTED).count(),
    )


@dataclass(frozen=True)
class QaVerdict:
    sampled: int
    checked: int
    passed: int
    pass_rate: float
    auto_errors: int
    ok: bool
    reasons: list[str]


def batch_qa_verdict(batch: DigitizationBatch) -> QaVerdict:
    pages = list(batch.pages.all())
    sampled = [p for p in pages if p.qa_sampled]
    checked = [p for p in sampled if p.qa_status != PageQA.PENDING]
    passed = [p for p in sampled if p.qa_status == PageQA.PASSED]
    rejected_any = [p for p in pages if p.qa_status == PageQA.REJECTED]
    errors = [p for p in pages if page_errors(p) and p.qa_status != PageQA.PASSED]
    rate = len(passed) / len(sampled) if sampled else 0.0
    reasons = []
    if len(checked) < len(sampled):
        reasons.append(f"还有 {len(sampled) - len(checked)} 页抽检页未检查。")
    if sampled and rate * 100 < float(batch.pass_mark_percent):
        reasons.append(f"抽检合格率 {rate:.1%} 低于合格线 {batch.pass_mark_percent}%。")
    if errors:
        reasons.append(
            f"{len(errors)} 页存在自动检查错误（分辨率、倾斜、识别、页数或企业不符），需人工确认合格或返工。"
        )
    if rejected_any:
        reasons.append(f"{len(rejected_any)} 页被退回。")
    return QaVerdict(
        len(sampled), len(checked), len(passed), rate, len(errors), not reasons and bool(sampled), reasons
    )


def batch_qa_decide(
    *, batch: DigitizationBatch, actor, reason: str = ""
) -> DigitizationBatch | BackgroundJob:
    """Close the quality check: a passing batch is imported (a job, returned); a failing one goes back for
    rework (pages rejected or with unresolved errors are reprocessed after they are replaced)."""
    from bizreg.core import services as core_services

    verdict = batch_qa_verdict(batch)
    if verdict.checked < verdict.sampled:
        raise ValidationError(verdict.reasons[0])
    with transaction.atomic():
        locked = DigitizationBatch.objects.select_for_update().get(pk=batch.pk)
        if verdict.ok:
            apply_transition(
                machine=workflows.BATCH, obj=locked, action="import", actor=actor, reason=reason or "质检通过"
            )
            job = core_services.job_submit(
                authority=locked.authority,
                kind=IMPORT_JOB_KIND,
                actor=actor,
                parameters={"batch_id": locked.pk},
            )
            locked.job = job
            locked._history_user = actor
            locked.save(update_fields=["state", "job", "updated_at"])
            return job
        apply_transition(
            machine=workflows.BATCH,
            obj=locked,
            action="rework",
            actor=actor,
            reason=reason or "；".join(verdict.reasons),
        )
        back = [
            p
            for p in locked.pages.all()
            if p.qa_status == PageQA.REJECTED or (page_errors(p) and p.qa_status != PageQA.PASSED)
        ]
        for page in back:
            ScanPage.objects.filter(pk=page.pk).update(
                qa_status=PageQA.REJECTED, rework_count=page.rework_count + 1
            )
        ArchiveItem.objects.filter(scan_pages__in=back).update(digitization=DigitizationStatus.REWORK)
        locked._history_user = actor
        locked.save(update_fields=["state", "updated_at"])
    batch.refresh_from_db()
    return batch


def page_replace(*, page: ScanPage, actor, filename: str, data: bytes) -> ScanPage:
    """Rework: a new scan of a rejected page replaces its image; it is processed again on the next run
    (the old original stays in storage history through its SHA-256 in the event trail)."""
    from bizreg.archives.imaging import intake

    _require(actor, "archives.operate_digitization", "替换扫描页")
    if page.batch.state != BatchState.REWORK:
        raise ValidationError("只有返工中的批次可以替换扫描页。")
    try:
        pages = intake.check_and_split(data, filename)
    except intake.ScanRejected as exc:
        raise ValidationError({"file": [exc.message_zh]}) from None
    if len(pages) != 1:
        raise ValidationError({"file": ["替换时请上传单页图像。"]})
    with transaction.atomic():
        old = page.original_sha256
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
        page.original.save(
            f"{page.batch.number}-{page.sequence:05d}-r{page.rework_count}.{ext}",
            ContentFile(data),
            save=False,
        )
        page.original_sha256 = _sha256(data)
        page.original_name = filename[:255]
        page.processed = ""
        page.processed_sha256 = ""
        page.ocr_confidence = None
        page.qa_status = PageQA.PENDING
        page.qa_note = ""
        page.save()
        record_event(
            obj=page.batch,
            action="replace_page",
            actor=actor,
            reason=f"第 {page.sequence} 页：{old[:12]} → {page.original_sha256[:12]}",
        )
    return page


# --- import (入库) ----------------------------------------------------------------------------------------


def run_import_job(job: BackgroundJob, progress) -> dict:
    """The `archives.import_batch` runner: one searchable PDF per item of the batch."""
    from bizreg.archives.imaging import pdf

    batch = DigitizationBatch.objects.get(pk=job.parameters["batch_id"])
    item_ids = list(
        batch.pages.exclude(item=None).values_list("item_id", flat=True).distinct().order_by("item_id")
    )
    total = len(item_ids) or 1
    for index, item_id in enumerate(item_ids, start=1):
        item = ArchiveItem.objects.get(pk=item_id)
        pages = list(scan_pages_in_order([item.pk]))
        if not pages:
            continue
        data = pdf.searchable_pdf(
            # The processed JPEG goes into the PDF as stored: no second encoding, no second loss.
            [pdf.PdfPage(_file_bytes(p.processed), p.dpi or 300, _lines(p.ocr_boxes)) for p in pages]
        )
        item_store_file(
            item=item,
            data=data,
            text="\n\n".join(p.ocr_text for p in pages if p.ocr_text),
            pages=len(pages),
            actor=None,
        )
        progress(index, total)
    _system_step(batch, "done")
    DigitizationBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())
    return {"batch": batch.number, "items": len(item_ids)}


def _lines(boxes: list) -> list:
    from bizreg.archives.imaging import ocr

    return [ocr.OcrLine((b[0], b[1], b[2], b[3]), b[4], b[5]) for b in boxes]


def item_store_file(
    *, item: ArchiveItem, data: bytes, text: str, pages: int, actor, name: str = ""
) -> ArchiveItem:
    """Store an item's e-archive PDF (from the pipeline or born digital), with SHA-256, size and text."""
    with transaction.atomic():
        locked = ArchiveItem.objects.select_for_update().get(pk=item.pk)
        locked.e_file.save(
            name or f"{locked.archival_code.replace('·', '.')}.pdf", ContentFile(data), save=False
        )
        locked.e_file_sha256 = _sha256(data)
        locked.e_file_size = len(data)
        locked.text = text
        locked.pages = locked.pages or pages
        locked.digitization = DigitizationStatus.DIGITIZED
        locked.digitized_at = timezone.now()
        locked._history_user = actor
        locked.save()
        search_index_item(item=locked)
        record_event(
            obj=locked.archive,
            action="store_file",
            actor=actor,
            reason=f"{locked.archival_code} SHA-256 {locked.e_file_sha256[:16]}…",
        )
    return locked


def item_ensure_file(*, item: ArchiveItem) -> ArchiveItem:
    """An item recorded as digitized with its text but without its PDF (items migrated from the old
    e-archive database, the demo year): render the PDF from its description and text, store it with its
    SHA-256 the first time it is needed, and keep the original digitized_at."""
    if item.e_file or item.digitization != DigitizationStatus.DIGITIZED or not item.text.strip():
        return item
    from bizreg.core.pdf import DocumentSpec, KeyValues, Text, render_pdf

    when = item.digitized_at or timezone.now()
    spec = DocumentSpec(
        title=item.title,
        created_at=when,
        number=item.doc_number,
        blocks=[
            KeyValues(
                (
                    ("档号", item.archival_code),
                    ("企业", item.archive.enterprise_name),
                    ("责任者", item.responsible_party),
                    ("日期", f"{item.doc_date:%Y-%m-%d}" if item.doc_date else ""),
                )
            ),
            *(Text(line) for line in item.text.splitlines() if line.strip()),
        ],
        footer_note="电子档案文本件（由原扫描件识别文字生成）",
    )
    stored = item_store_file(item=item, data=render_pdf(spec), text=item.text, pages=item.pages, actor=None)
    ArchiveItem.objects.filter(pk=stored.pk).update(digitized_at=when)
    stored.digitized_at = when
    return stored


def born_digital_ingest(*, item: ArchiveItem, actor, filename: str, data: bytes) -> ArchiveItem:
    """Electronic materials of 一网通办/全程电子化 cases enter the e-archive directly: format check
    (a PDF without scripts or attachments), metadata, fixity (SHA-256) and text extraction."""
    from bizreg.archives.imaging import intake

    if not data:
        raise ValidationError({"file": ["文件为空（0 字节）。"]})
    try:
        checked = intake.check_pdf_document(data)
    except intake.ScanRejected as exc:
        raise ValidationError({"file": [exc.message_zh]}) from None
    return item_store_file(
        item=item, data=data, text=checked.text, pages=checked.pages, actor=actor, name=filename
    )
