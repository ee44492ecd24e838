"""Intake of scans from a watched folder (DA/T 31 intake without the browser).

The digitization contractor drops one sub-folder per batch into the inbox (`settings.ARCHIVES_WATCH_DIR`)
and writes the marker file `READY` into it last; a folder without `READY` is still being copied and is
never read. Each scan (every minute, `archives.watch_scan_folder`, or `manage.py scan_inbox`):

1. claims a ready folder: locks its `READY` file (flock, held until the folder is finished) and renames
   the folder into `<inbox>/.processing/` — the rename is atomic on one filesystem, so two workers never
   take the same folder;
2. opens a batch (as the system account of the scan inbox, for the authority `DEFAULT_AUTHORITY_CODE`)
   once the first file passes the intake checks, and feeds every file through `batch_add_scans`;
3. writes `RESULT.txt` (accepted files with their pages, rejected files with their reason) and moves the
   folder to `.done/<batch number>-<name>/`, or to `.rejected/<name>/` when no file was acceptable (then
   no batch is made). Nothing is deleted: rejected files stay in the folder next to RESULT.txt.

A worker that dies mid-folder leaves it in `.processing/` with its lock released; the next scan resumes
it (the batch id is kept in the folder's `.batch` file, files already in the batch are not added twice).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.archives.models import BatchState, DigitizationBatch
from bizreg.archives.services import digitization
from bizreg.archives.services.events import record_event
from bizreg.core.models import Authority, BackgroundJob

logger = logging.getLogger(__name__)

READY_MARKER = "READY"
RESULT_FILE = "RESULT.txt"
BATCH_ID_FILE = ".batch"  # hidden, so it is never taken for a scan
PROCESSING_DIR = ".processing"
DONE_DIR = ".done"
REJECTED_DIR = ".rejected"
WATCH_EVENT = "watch_folder"
SYSTEM_USER_CODE = "scan-inbox"
SYSTEM_USER_NAME = "扫描收件文件夹（系统）"
_SKIPPED_SILENTLY = {READY_MARKER, RESULT_FILE}
_SPLIT_PAGE = re.compile(r"^(?P<file>.+)#\d+$")


@dataclass
class WatchIntake:
    """What became of one folder of the inbox."""

    folder: str
    batch: DigitizationBatch | None = None
    accepted: list[dict] = field(default_factory=list)  # [{"file", "pages"}]
    rejected: list[dict] = field(default_factory=list)  # [{"file", "code", "message"}]
    ignored: list[dict] = field(default_factory=list)  # [{"file", "message"}]
    job: BackgroundJob | None = None
    start_error: str = ""
    destination: Path | None = None

    @property
    def pages(self) -> int:
        return sum(a["pages"] for a in self.accepted)


def watch_dir() -> Path:
    return Path(getattr(settings, "ARCHIVES_WATCH_DIR", Path(settings.BASE_DIR) / "var" / "scan-inbox"))


def watch_folder_scan(*, authority: Authority | None = None, actor=None) -> list[WatchIntake]:
    """Take every ready folder of the inbox (and resume any a dead worker left half done)."""
    inbox = watch_dir()
    for sub in (PROCESSING_DIR, DONE_DIR, REJECTED_DIR):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    candidates = list(_candidates(inbox))
    if not candidates:  # the usual minute: nothing delivered, no database work
        return []
    authority = authority or _default_authority()
    if authority is None:
        logger.error("scan inbox: no authority %r, nothing taken", settings.DEFAULT_AUTHORITY_CODE)
        return []
    if actor is None:
        from bizreg.accounts.services import system_user

        actor = system_user(
            code=SYSTEM_USER_CODE,
            display_name=SYSTEM_USER_NAME,
            role_code="digitization_operator",
            authority=authority,
        )
    if not actor.has_perm("archives.operate_digitization"):
        raise PermissionDenied("您的角色无权上传扫描件。")
    results = []
    for folder, fresh in candidates:
        with _claim(folder, inbox, fresh=fresh) as claimed:
            if claimed is None:
                continue
            try:
                results.append(_take(claimed, inbox=inbox, authority=authority, actor=actor))
            except Exception:
                # Left in .processing with its lock released: the next scan resumes it.
                logger.exception("scan inbox: folder %s failed, will be retried", claimed.name)
    return results


def _default_authority() -> Authority | None:
    code = getattr(settings, "DEFAULT_AUTHORITY_CODE", "")
    return Authority.objects.filter(code=code, is_active=True).first() if code else None


def _candidates(inbox: Path) -> Iterator[tuple[Path, bool]]:
    """Half-done folders first (resumed), then the ready ones in name order; (folder, is it new)."""
    for sub, fresh in ((inbox / PROCESSING_DIR, False), (inbox, True)):
        for entry in sorted(os.scandir(sub), key=lambda e: e.name):
            if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
                continue
            if (Path(entry.path) / READY_MARKER).is_file():
                yield Path(entry.path), fresh


def _lock(marker: Path) -> int | None:
    """An exclusive, non-blocking lock on the folder's READY file, or None when another worker has it."""
    try:
        fd = os.open(marker, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. a READY the worker's account may not read: leave it, say why
        logger.warning("scan inbox: cannot open %s: %s", marker, exc)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def _claim(folder: Path, inbox: Path, *, fresh: bool) -> Iterator[Path | None]:
    """Yield the folder's path under .processing while this worker holds it, else None."""
    fd = _lock(folder / READY_MARKER)
    if fd is None:
        yield None
        return
    try:
        claimed: Path | None = folder
        if fresh:
            claimed = _free_path(inbox / PROCESSING_DIR / folder.name)
            try:
                os.rename(folder, claimed)
            except FileNotFoundError:  # another worker took it (and finished) between listing and lock
                claimed = None
            except OSError as exc:  # e.g. the inbox is not writable for the worker: the next folder
                logger.warning("scan inbox: cannot claim %s: %s", folder, exc)
                claimed = None
        # The lock must be on the READY of the folder we hold: another worker may have finished and moved
        # it since we opened the file, or a folder of the same name may have been dropped again.
        if claimed is not None and not _same_file(fd, claimed / READY_MARKER):
            claimed = None
        yield claimed
    finally:
        if fd is not None:
            os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (here.st_dev, here.st_ino)


def _free_path(path: Path) -> Path:
    """`path`, or `path-<time>` (then a counter) when a folder of that name is already there."""
    if not path.exists():
        return path
    stamp = f"{timezone.localtime():%Y%m%d%H%M%S}"
    candidate, n = path.with_name(f"{path.name}-{stamp}"), 2
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}-{stamp}-{n}"), n + 1
    return candidate


def _display(name: str) -> str:
    """A file name as text: names written by a Windows tool in GB18030 are decoded, not garbled."""
    raw = os.fsencode(name)
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _take(folder: Path, *, inbox: Path, authority: Authority, actor) -> WatchIntake:
    from bizreg.archives.imaging import intake

    name = _display(folder.name)
    result = WatchIntake(folder=name)
    batch = _resumed_batch(folder, authority)
    already = _names_in(batch) if batch is not None else {}
    result.batch = batch
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        file_name = _display(entry.name)
        if entry.name in _SKIPPED_SILENTLY or entry.name.startswith("."):
            continue  # the marker, our own result file, hidden files (.DS_Store and the like)
        if entry.is_symlink():
            result.ignored.append({"file": file_name, "message": "符号链接，未读取。"})
            continue
        if entry.is_dir():
            result.ignored.append(
                {"file": f"{file_name}/", "message": "子文件夹不读取，请把扫描件直接放在批次文件夹中。"}
            )
            continue
        if not entry.is_file():
            result.ignored.append({"file": file_name, "message": "不是普通文件，未读取。"})
            continue
        if file_name in already:
            result.accepted.append({"file": file_name, "pages": already[file_name]})
            continue
        if entry.stat().st_size > digitization.max_scan_bytes():
            limit = digitization.max_scan_bytes() >> 20
            result.rejected.append(
                {"file": file_name, "code": "too_large", "message": f"文件超过 {limit} MB。"}
            )
            continue
        data = Path(entry.path).read_bytes()
        if result.batch is None:
            # No batch for a folder of nothing usable: check before opening one.
            try:
                intake.check_and_split(data, file_name)
            except intake.ScanRejected as exc:
                result.rejected.append(
                    {"file": file_name, "code": exc.reason_code, "message": exc.message_zh}
                )
                continue
            result.batch = _open_batch(folder, name=name, authority=authority, actor=actor)
        try:
            added = digitization.batch_add_scans(batch=result.batch, actor=actor, files=[(file_name, data)])
        except ValidationError as exc:  # the batch left intake (resumed after it was started)
            result.rejected.append({"file": file_name, "code": "batch_state", "message": exc.messages[0]})
            continue
        result.rejected.extend(added.rejected)
        if added.files_accepted:
            result.accepted.append({"file": file_name, "pages": added.pages_added})
    if result.batch is not None:
        _autostart(result, actor)
        target = _free_path(inbox / DONE_DIR / f"{result.batch.number}-{folder.name}")
    else:
        target = _free_path(inbox / REJECTED_DIR / folder.name)
    (folder / RESULT_FILE).write_text(_report(result, authority), encoding="utf-8")
    os.rename(folder, target)
    result.destination = target
    logger.info(
        "scan inbox: %s → %s (%d files accepted, %d rejected)",
        name,
        result.batch.number if result.batch else "rejected",
        len(result.accepted),
        len(result.rejected),
    )
    return result


def _resumed_batch(folder: Path, authority: Authority) -> DigitizationBatch | None:
    marker = folder / BATCH_ID_FILE
    if not marker.is_file():
        return None
    text = marker.read_text(encoding="utf-8").strip()
    if not text.isdigit():
        return None
    return DigitizationBatch.objects.filter(pk=int(text), authority=authority).first()


def _names_in(batch: DigitizationBatch) -> dict[str, int]:
    """Files of the folder already stored in the batch (a resumed folder) → their page count."""
    counts: dict[str, int] = {}
    for original in batch.pages.values_list("original_name", flat=True):
        split = _SPLIT_PAGE.match(original)  # pages split from a multi-page file: "<file>#<n>"
        file_name = split["file"] if split else original
        counts[file_name] = counts.get(file_name, 0) + 1
    return counts


def _open_batch(folder: Path, *, name: str, authority: Authority, actor) -> DigitizationBatch:
    with transaction.atomic():
        batch = digitization.batch_create(authority=authority, actor=actor)
        record_event(obj=batch, action=WATCH_EVENT, actor=actor, reason=f"来自扫描收件文件夹“{name}”")
    # Remembered in the folder so a resumed run adds to this batch instead of opening another one.
    (folder / BATCH_ID_FILE).write_text(str(batch.pk), encoding="utf-8")
    return batch


def _autostart(result: WatchIntake, actor) -> None:
    batch = result.batch
    batch.refresh_from_db()
    if not getattr(settings, "ARCHIVES_WATCH_AUTOSTART", True) or not result.accepted:
        return
    if batch.state != BatchState.INTAKE:
        result.job = batch.job  # a resumed folder whose batch was already started
        return
    try:
        result.job = digitization.batch_start_processing(batch=batch, actor=actor)
    except ValidationError as exc:
        result.start_error = exc.messages[0]


def _report(result: WatchIntake, authority: Authority) -> str:
    lines = [
        "扫描件收件结果",
        f"文件夹：{result.folder}",
        f"登记机关：{authority.name}",
        f"处理时间：{timezone.localtime():%Y-%m-%d %H:%M:%S}",
    ]
    if result.batch is not None:
        state = "已开始图像处理" if result.job is not None else "待开始处理"
        if result.start_error:
            state = f"未能开始处理：{result.start_error}"
        lines.append(f"数字化批次：{result.batch.number}（{state}）")
    else:
        lines.append("未建批次：本文件夹没有可接收的扫描件，请检查后重新提交。")
    lines += ["", f"接收 {len(result.accepted)} 个文件，共 {result.pages} 页："]
    lines += [f"  {a['file']}（{a['pages']} 页）" for a in result.accepted] or ["  （无）"]
    if result.rejected:
        lines += ["", f"拒收 {len(result.rejected)} 个文件（原文件保留在本文件夹中，请重新扫描后另行提交）："]
        lines += [f"  {r['file']}：{r['message']}" for r in result.rejected]
    if result.ignored:
        lines += ["", f"未读取 {len(result.ignored)} 项："]
        lines += [f"  {i['file']}：{i['message']}" for i in result.ignored]
    return "\n".join(lines) + "\n"
