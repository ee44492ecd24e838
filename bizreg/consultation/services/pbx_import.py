"""PBX imports: CDRs, queue_log and survey files into PbxRecord rows and the Calls they describe.

One upload is one PbxImportBatch. The parsing rules are pbx_formats' (pure); this module owns the writes:

1. Lines are read as a stream (never the whole file in memory) and parsed; good rows are written in
   chunks of CHUNK_ROWS with "insert, ignore what is already there" on the unique record key — on
   PostgreSQL by COPY into a temporary table and INSERT … ON CONFLICT DO NOTHING, elsewhere with
   bulk_create(ignore_conflicts). A row already imported (same file again, or an overlapping file) is a
   duplicate and changes nothing.
2. In the same chunk transaction, every call key with a record new in this chunk is folded into its
   Call: all the key's records go through pbx_formats.call_facts (from the rows in hand when the chunk
   holds all of them, else read back from the table), and the Call (source = format, external_id = call
   key) is inserted or its PBX facts updated — the agent's note (topic, summary, resolution, survey score)
   is kept. Lines are found by HotlineLine.pbx_channel, agents by Agent.pbx_code / extension.
   One call, one Call: Asterisk's queue_log callid is the CDR's uniqueid/linkedid of the same call, so
   when the authority already has records of another call format (an index probe per chunk; skipped
   when it has none), the other formats' records of the chunk's call keys are folded too and the facts
   merged (pbx_formats.merge_facts), and a Call already filed under that key by another PBX source is
   updated where it is instead of a second Call being created. Precedence: the CDR (Asterisk or
   FreeSWITCH) gives the line, the offer time (the earlier of the two), the end, the billed talk time
   and the caller's number; the queue_log gives the queue wait (holdtime / waittime), the agent, and
   the outcome (answered, abandoned in the queue, EXITEMPTY → busy), with the CDR's answer time and talk
   when both say answered. A queue_log callid that names a CDR leg other than the linkedid is not joined.
3. Survey rows join a Call by call key, or by caller number + call time (nearest call within
   SURVEY_MATCH_MINUTES) and set its satisfaction score; an unmatched row is reported and not stored, so
   importing the survey again after the missing CDRs arrive matches it then.

Modes: partial (good lines imported, bad lines listed with their numbers) or all-or-nothing (a first
pass validates; any bad line → nothing written, the batch lists the errors). Chunks (records and their
calls) commit as they go so progress is visible and a retried batch resumes: records already written by
the same batch count as its own new records, and their calls were committed with them. Big uploads run
in the worker (core BackgroundJob kind IMPORT_JOB_KIND, runner in consultation/jobs.py); small ones
inline.

Audit: the batch (who, when, which file with its SHA-256) and each record's raw line are the trail of
PBX-driven Call writes; at a million rows per file those writes go in bulk without simple_history rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation import pbx_formats
from bizreg.consultation.models import (
    Agent,
    Call,
    HotlineLine,
    HotlineNumber,
    PbxFormat,
    PbxImportBatch,
    PbxRecord,
)
from bizreg.consultation.services.calls import parse_caller_number
from bizreg.core.models import Authority

IMPORT_JOB_KIND = "consultation.import_pbx"
CHUNK_ROWS = 5000
MAX_STORED_ERRORS = 1000  # PbxImportBatch.errors keeps the first 1,000 (the count is exact)
PROGRESS_EVERY_BYTES = 4 * 1024 * 1024
SNIFF_BYTES = 64 * 1024

Progress = Callable[[int, int], None]

_RECORD_COLUMNS = (
    "line_number",
    "record_key",
    "call_key",
    "event",
    "caller_number",
    "destination",
    "channel",
    "dst_channel",
    "agent_code",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "billsec_seconds",
    "wait_seconds",
    "raw",
)
assert pbx_formats.PbxRow._fields == _RECORD_COLUMNS  # the staging COPY writes PbxRow tuples as they are

# The Call columns a PBX import owns; the rest (note, follow-up, survey) belong to agents and surveys.
_CALL_FACT_COLUMNS = (
    "line_id",
    "agent_id",
    "caller_number",
    "offered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "outcome",
)


def max_upload_bytes() -> int:
    return int(getattr(settings, "CONSULTATION_PBX_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024))


def inline_max_bytes() -> int:
    """Uploads up to this size are imported during the request; bigger ones go to the worker."""
    return int(getattr(settings, "CONSULTATION_PBX_INLINE_MAX_BYTES", 2 * 1024 * 1024))


# --- submitting ---------------------------------------------------------------------------------------


def _check_request(*, authority: Authority, format: str, hotline: HotlineNumber | None) -> None:
    errors: dict[str, list[str]] = {}
    if format not in PbxFormat.values:
        errors["format"] = [_("请选择文件格式。")]
    if hotline is None:
        errors["hotline"] = [_("请选择热线。")]
    elif hotline.authority_id != authority.pk:
        errors["hotline"] = [_("该热线不属于本登记机关。")]
    if errors:
        raise ValidationError(errors)


def _check_head(format: str, head: bytes) -> None:
    """Refuse, before anything is stored, a file that is not text or (survey) lacks its header."""
    if b"\x00" in head:
        raise ValidationError(
            {"file": [_("文件不是文本文件（含二进制内容），请上传 PBX 导出的原始 CSV/日志文件。")]}
        )
    if format == PbxFormat.SURVEY:
        first = next(pbx_formats.numbered_lines(iter(head.splitlines(keepends=True)[:1])), None)
        if first is None:
            raise ValidationError({"file": [_("文件第一行应为表头：%s") % pbx_formats.SURVEY_HEADER]})
        try:
            pbx_formats.survey_columns(first[1])
        except pbx_formats.PbxFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from None


def pbx_import_submit(
    *,
    authority: Authority,
    actor,
    format: str,
    hotline: HotlineNumber | None,
    upload,
    all_or_nothing: bool = False,
) -> PbxImportBatch:
    """Store the uploaded file as a new batch and import it: inline when small, else in the worker.

    Raises ValidationError({field: [message]}) for a request that cannot be imported at all (wrong
    hotline, empty/oversized/binary file, survey without its header); nothing is stored then.
    """
    from bizreg.core import services as core_services

    _check_request(authority=authority, format=format, hotline=hotline)
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ValidationError({"file": [_("文件为空。")]})
    if size > max_upload_bytes():
        raise ValidationError(
            {
                "file": [
                    _("文件过大（上限 %(mb)d MB），请按日期拆分后上传。") % {"mb": max_upload_bytes() >> 20}
                ]
            }
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    _check_head(format, head)
    digest = hashlib.sha256(head)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    name = os.path.basename(getattr(upload, "name", "") or "upload.csv")[:255]
    with transaction.atomic():
        batch = PbxImportBatch(
            authority=authority,
            format=format,
            hotline=hotline,
            mode=PbxImportBatch.Mode.ALL_OR_NOTHING if all_or_nothing else PbxImportBatch.Mode.PARTIAL,
            file_name=name,
            sha256=digest.hexdigest(),
            created_by=actor,
        )
        batch.file.save(name, upload, save=False)
        batch.save()
        if size > inline_max_bytes():
            core_services.job_submit(
                authority=authority,
                kind=IMPORT_JOB_KIND,
                actor=actor,
                parameters={"batch_id": batch.pk, "file_name": name},
            )
            return batch
    return pbx_import_execute(batch=batch)


def import_pbx_file(
    *,
    authority: Authority,
    actor,
    format: str,
    hotline: HotlineNumber,
    stream: IO[bytes] | None = None,
    path: str | os.PathLike | None = None,
    filename: str = "",
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> PbxImportBatch:
    """Import one file now, from an open binary stream or a path (commands, the bench, tests).

    The file itself is not copied into storage (the batch keeps its name and SHA-256); use
    pbx_import_submit for uploads that should be kept and retried.
    """
    _check_request(authority=authority, format=format, hotline=hotline)
    if (stream is None) == (path is None):
        raise ValueError("pass exactly one of stream or path")
    filename = filename or (os.path.basename(os.fspath(path)) if path is not None else "stream")
    batch = PbxImportBatch.objects.create(
        authority=authority,
        format=format,
        hotline=hotline,
        mode=PbxImportBatch.Mode.ALL_OR_NOTHING if all_or_nothing else PbxImportBatch.Mode.PARTIAL,
        file_name=filename[:255],
        sha256="",
        created_by=actor,
    )
    if path is not None:
        with open(path, "rb") as fh:
            return pbx_import_execute(batch=batch, stream=fh, progress=progress)
    return pbx_import_execute(batch=batch, stream=stream, progress=progress)


# --- running ------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    lines: int = 0
    good: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    unmatched: int = 0
    calls_created: int = 0
    calls_updated: int = 0

    def error(self, line: int, message: str, text: str, kind: str = "rejected") -> None:
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"line": line, "message": message, "text": text[:300], "kind": kind})


class _Reader:
    """Yields the file's bytes line by line while hashing them and reporting progress by bytes read."""

    def __init__(self, stream: IO[bytes], total: int, progress: Progress | None, share: tuple[int, int]):
        self.stream, self.total, self.progress = stream, max(total, 1), progress
        self.share = share  # (start, width) of the progress bar this pass fills, in per-mille
        self.digest = hashlib.sha256()
        self.read = 0
        self._next_report = PROGRESS_EVERY_BYTES

    def __iter__(self) -> Iterator[bytes]:
        for data in self.stream:
            self.read += len(data)
            self.digest.update(data)
            if self.progress is not None and self.read >= self._next_report:
                self._next_report = self.read + PROGRESS_EVERY_BYTES
                self.report()
            yield data

    def report(self, fraction: float | None = None) -> None:
        if self.progress is None:
            return
        start, width = self.share
        if fraction is None:
            fraction = min(1.0, self.read / self.total)
        self.progress(start + int(width * fraction), 1000)


def _stream_size(stream) -> int:
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        size = getattr(stream, "size", None)
        if size:
            return int(size)
        try:
            here = stream.tell()
            stream.seek(0, os.SEEK_END)
            end = stream.tell()
            stream.seek(here)
            return end - here
        except (AttributeError, OSError, ValueError):
            return 0


def _rewind(stream) -> None:
    try:
        stream.seek(0)
    except (AttributeError, OSError, ValueError):
        raise pbx_formats.PbxFileError(_("无法重新读取文件（全部或全不导入需要读两遍）。")) from None


def pbx_import_execute(
    *, batch: PbxImportBatch, stream: IO[bytes] | None = None, progress: Progress | None = None
) -> PbxImportBatch:
    """Import the batch's file (or `stream`) and record the outcome on the batch; safe to run again.

    A file that cannot be read in its format at all (survey without its header, unreadable storage)
    leaves the batch FAILED with the reason as its only error.
    """
    if batch.status in (PbxImportBatch.Status.DONE, PbxImportBatch.Status.REJECTED):
        return batch  # a redelivered job: the batch is finished
    if batch.status == PbxImportBatch.Status.FAILED:
        PbxImportBatch.objects.filter(pk=batch.pk).update(status=PbxImportBatch.Status.PENDING, errors=[])
    tally = _Tally()
    try:
        if stream is None:
            if not batch.file:
                raise pbx_formats.PbxFileError(_("批次没有保存上传的文件，无法导入。"))
            with batch.file.open("rb") as fh:
                _run(batch, fh, progress, tally)
        else:
            _run(batch, stream, progress, tally)
    except pbx_formats.PbxFileError as exc:
        mark_failed(batch=batch, message=str(exc))
        return batch
    batch.refresh_from_db()
    return batch


def _run(batch: PbxImportBatch, stream: IO[bytes], progress: Progress | None, tally: _Tally) -> None:
    fmt = batch.format
    tz = timezone.get_default_timezone()
    total = _stream_size(stream)
    all_or_nothing = batch.mode == PbxImportBatch.Mode.ALL_OR_NOTHING
    if all_or_nothing:
        reader = _Reader(stream, total, progress, (0, 300))
        for item in pbx_formats.parse(fmt, pbx_formats.numbered_lines(reader), tz=tz):
            tally.lines += 1
            if isinstance(item, pbx_formats.LineError):
                tally.rejected += 1
                tally.error(item.line, item.message, item.text)
        if tally.rejected:
            _finish(batch, tally, sha=reader.digest.hexdigest(), status=PbxImportBatch.Status.REJECTED)
            return
        _rewind(stream)
        tally = _Tally()
        reader = _Reader(stream, total, progress, (300, 600))
    else:
        reader = _Reader(stream, total, progress, (0, 900))
    rows = pbx_formats.parse(fmt, pbx_formats.numbered_lines(reader), tz=tz)
    if fmt == PbxFormat.SURVEY:
        _import_survey(batch, rows, tally)
        reader.report(1.0)
    else:
        _import_records(batch, rows, tally)
        reader.report(1.0)
    if progress is not None:
        progress(1000, 1000)
    _finish(batch, tally, sha=reader.digest.hexdigest(), status=PbxImportBatch.Status.DONE)


def mark_failed(*, batch: PbxImportBatch, message: str) -> None:
    """The file could not be imported at all: FAILED, with the reason as the batch's only error. A retry
    (the job's) runs the batch again from the start."""
    PbxImportBatch.objects.filter(pk=batch.pk).update(
        status=PbxImportBatch.Status.FAILED,
        errors=[{"line": 0, "message": message, "text": "", "kind": "file"}],
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()


def _finish(batch: PbxImportBatch, tally: _Tally, *, sha: str, status: str) -> None:
    new = 0 if status == PbxImportBatch.Status.REJECTED else PbxRecord.objects.filter(batch=batch).count()
    with transaction.atomic():
        PbxImportBatch.objects.filter(pk=batch.pk).update(
            status=status,
            sha256=batch.sha256 or sha,
            lines_total=tally.lines,
            records_new=new,
            # Survey rows that matched no call are neither new nor duplicates: they are listed as errors.
            records_duplicate=max(0, tally.good - new - tally.unmatched),
            lines_rejected=tally.rejected,
            calls_created=tally.calls_created,
            calls_updated=tally.calls_updated,
            errors=tally.errors,
            finished_at=timezone.now(),
        )


# --- records ------------------------------------------------------------------------------------------


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _good_rows(rows: Iterable, tally: _Tally) -> Iterator[pbx_formats.PbxRow]:
    for item in rows:
        tally.lines += 1
        if isinstance(item, pbx_formats.LineError):
            tally.rejected += 1
            tally.error(item.line, item.message, item.text)
        else:
            tally.good += 1
            yield item


def _import_records(batch: PbxImportBatch, rows: Iterable, tally: _Tally) -> None:
    """Each chunk, in one transaction: insert its records (ignoring those already there), then rebuild the
    Call of every call key that got a new record. A key whose records all arrived in this chunk is folded
    from the rows in hand; one that already had records (an earlier chunk or batch) is read back whole —
    so the last chunk touching a key always folds all its records, and records and calls commit together
    (a retried batch finds its records written and their calls consistent)."""
    write = _write_records_pg if connection.vendor == "postgresql" else _write_records_orm
    lookups = _Lookups.load(batch)
    now = timezone.now()
    own_transactions = connection.vendor == "postgresql" and not connection.in_atomic_block
    seen: set[int] | None = None
    if (
        connection.vendor == "postgresql"
        and not PbxRecord.objects.filter(authority_id=batch.authority_id, format=batch.format).exists()
    ):
        seen = set()
    for chunk in _chunks(_good_rows(rows, tally), CHUNK_ROWS):
        with transaction.atomic():
            if own_transactions:
                _async_commit()
            # {call_key: had records before this chunk}
            touched = write(batch, chunk, seen) if seen is not None else write(batch, chunk)
            if touched:
                _fold_calls(batch, chunk, touched, lookups, now, tally)


def _async_commit() -> None:
    """A chunk's commit need not wait for its WAL flush: if the server crashes right after, the batch is
    still PENDING (its final update commits synchronously) and a retry re-inserts whatever was lost."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")


def _write_records_orm(batch: PbxImportBatch, chunk: list[pbx_formats.PbxRow]) -> dict[str, bool]:
    # SQLite serializes writers (BEGIN IMMEDIATE), so what exists before the insert cannot change under us.
    base = PbxRecord.objects.filter(authority_id=batch.authority_id, format=batch.format)
    existing: set[str] = set()
    seen_before: set[str] = set()
    for part in _chunks(chunk, 500):
        existing.update(
            base.filter(record_key__in=[r.record_key for r in part]).values_list("record_key", flat=True)
        )
        keys = {r.call_key for r in part if r.call_key}
        seen_before.update(base.filter(call_key__in=keys).values_list("call_key", flat=True).distinct())
    fresh = [r for r in chunk if r.record_key not in existing]
    PbxRecord.objects.bulk_create(
        [
            PbxRecord(
                authority_id=batch.authority_id, format=batch.format, batch_id=batch.pk, **row._asdict()
            )
            for row in fresh
        ],
        ignore_conflicts=True,
    )
    return {r.call_key: r.call_key in seen_before for r in fresh if r.call_key}


_STAGE_DDL = """
CREATE TEMPORARY TABLE IF NOT EXISTS consultation_pbx_stage (
    line_number integer, record_key varchar(150), call_key varchar(150), event varchar(40),
    caller_number varchar(80), destination varchar(80), channel varchar(150), dst_channel varchar(150),
    agent_code varchar(100), started_at timestamptz, answered_at timestamptz, ended_at timestamptz,
    duration_seconds integer, billsec_seconds integer, wait_seconds integer, raw text
)"""

_STAGE_TYPES = (
    ["int4"] + ["text"] * 8 + ["timestamptz"] * 3 + ["int4"] * 3 + ["text"]
)  # the columns of _STAGE_DDL, in order


def _write_records_pg(
    batch: PbxImportBatch, chunk: list[pbx_formats.PbxRow], seen: set[int] | None = None
) -> dict[str, bool]:
    """Insert the chunk's new records; {call key: had records before this chunk} for the keys that got one.

    `seen` (hashes of the call keys of the batch's earlier chunks) is given when the authority had no
    records of this format when the batch began: then "had records before" is "seen in an earlier chunk",
    and the per-key EXISTS probe — a good part of the insert's cost — is not needed. A hash collision
    only makes a key be read back from the table, which is always right."""
    table = PbxRecord._meta.db_table
    columns = ", ".join(_RECORD_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(_STAGE_DDL)
        cursor.execute("TRUNCATE consultation_pbx_stage")
        # Binary COPY with declared types: psycopg then packs ints and datetimes instead of formatting
        # them as text for the server to parse again.
        with cursor.cursor.copy(
            f"COPY consultation_pbx_stage ({columns}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_STAGE_TYPES)
            for row in chunk:
                copy.write_row(row)
        if seen is not None:
            cursor.execute(
                f"INSERT INTO {table} (authority_id, format, batch_id, {columns}) "
                f"SELECT %s, %s, %s, {columns} FROM consultation_pbx_stage "
                "ON CONFLICT (authority_id, format, record_key) DO NOTHING RETURNING call_key",
                [batch.authority_id, batch.format, batch.pk],
            )
            touched = {key: hash(key) in seen for (key,) in cursor.fetchall() if key}
            seen.update(hash(row.call_key) for row in chunk)
            return touched
        # The EXISTS runs on the statement's snapshot, before the insert: it tells whether the key had
        # records from an earlier chunk or batch.
        cursor.execute(
            f"WITH ins AS (INSERT INTO {table} (authority_id, format, batch_id, {columns}) "
            f"SELECT %s, %s, %s, {columns} FROM consultation_pbx_stage "
            "ON CONFLICT (authority_id, format, record_key) DO NOTHING RETURNING call_key) "
            "SELECT k.call_key, EXISTS (SELECT 1 FROM "
            f"{table} r WHERE r.authority_id = %s AND r.format = %s AND r.call_key = k.call_key) "
            "FROM (SELECT DISTINCT call_key FROM ins WHERE call_key <> '') k",
            [batch.authority_id, batch.format, batch.pk, batch.authority_id, batch.format],
        )
        return dict(cursor.fetchall())


# --- from records to calls ----------------------------------------------------------------------------


@dataclass
class _Lookups:
    """PBX names → ids of the batch's hotline lines and its authority's agents."""

    lines: dict[str, int]
    agents: dict[str, int]

    @classmethod
    def load(cls, batch: PbxImportBatch) -> _Lookups:
        lines: dict[str, int] = {}
        for pk, channel in HotlineLine.objects.filter(hotline_id=batch.hotline_id).values_list(
            "pk", "pbx_channel"
        ):
            channel = channel.strip()
            lines.setdefault(channel, pk)
            lines.setdefault(channel.rsplit("/", 1)[-1], pk)  # "SIP/line1" also answers to "line1"
        agents: dict[str, int] = {}
        rows = list(
            Agent.objects.filter(authority_id=batch.authority_id).values_list("pk", "pbx_code", "extension")
        )
        # Exact codes first, then extensions, then the code's last part ("SIP/8001" → "8001").
        for pk, code, _ext in rows:
            agents.setdefault(code.strip(), pk)
        for pk, _code, ext in rows:
            if ext.strip():
                agents.setdefault(ext.strip(), pk)
        for pk, code, _ext in rows:
            agents.setdefault(code.strip().rsplit("/", 1)[-1], pk)
        return cls(lines, agents)

    def line(self, names: Iterable[str]) -> int | None:
        for name in names:
            found = self.lines.get(name) or self.lines.get(name.rsplit("/", 1)[-1])
            if found:
                return found
        return None

    def agent(self, names: Iterable[str]) -> int | None:
        for name in names:
            found = self.agents.get(name) or self.agents.get(name.rsplit("/", 1)[-1])
            if found:
                return found
        return None


def _caller(number: str) -> str:
    """The caller's number as the call log stores it; a PBX's odd value is kept as its digits."""
    try:
        digits, _kind = parse_caller_number(number)
    except ValidationError:
        digits = "".join(c for c in number if c.isdigit())
    return digits[:32]


_FOLD_FIELDS = tuple(f for f in _RECORD_COLUMNS if f != "raw")
_CALL_FORMATS = (PbxFormat.ASTERISK_CDR, PbxFormat.ASTERISK_QUEUE_LOG, PbxFormat.FREESWITCH_CDR)


def _stored_groups(
    batch: PbxImportBatch, keys: list[str], format: str | None = None
) -> Iterator[tuple[str, list[pbx_formats.PbxRow]]]:
    """All stored records of these call keys in `format` (the batch's by default), grouped by key."""
    for part in _chunks(sorted(keys), 1000):
        records = (
            PbxRecord.objects.filter(
                authority_id=batch.authority_id, format=format or batch.format, call_key__in=part
            )
            .order_by("call_key")
            .values_list(*_FOLD_FIELDS)
        )
        for call_key, group in itertools.groupby(records, key=lambda r: r[2]):
            yield call_key, [pbx_formats.PbxRow(*values, "") for values in group]


def _other_formats(batch: PbxImportBatch) -> list[str]:
    """The other call formats this authority already has records of (one index probe each): when there
    are none — the usual case, one PBX, one format — a chunk's calls need no merging."""
    return [
        fmt
        for fmt in _CALL_FORMATS
        if fmt != batch.format
        and PbxRecord.objects.filter(authority_id=batch.authority_id, format=fmt).exists()
    ]


def _merged(
    batch: PbxImportBatch, facts: dict[str, pbx_formats.CallFacts], others: list[str]
) -> tuple[dict[str, pbx_formats.CallFacts], set[str]]:
    """The facts of each call key merged with what the other formats' records say about the same key;
    and the keys that other formats describe too."""
    extra: dict[str, dict[str, pbx_formats.CallFacts | None]] = {}
    for fmt in others:
        for call_key, rows in _stored_groups(batch, list(facts), fmt):
            extra.setdefault(call_key, {})[fmt] = pbx_formats.call_facts(fmt, rows)
    merged = dict(facts)
    for call_key, by_format in extra.items():
        merged[call_key] = pbx_formats.merge_facts({batch.format: facts[call_key], **by_format})
    return merged, set(extra)


def _fold_calls(
    batch: PbxImportBatch,
    chunk: list[pbx_formats.PbxRow],
    touched: dict[str, bool],
    lookups: _Lookups,
    now: dt.datetime,
    tally: _Tally,
) -> None:
    in_hand: dict[str, dict[str, pbx_formats.PbxRow]] = {}
    for row in chunk:
        if touched.get(row.call_key) is False:
            in_hand.setdefault(row.call_key, {}).setdefault(row.record_key, row)  # a line twice counts once
    groups = itertools.chain(
        ((key, list(rows.values())) for key, rows in in_hand.items()),
        _stored_groups(batch, [key for key, before in touched.items() if before]),
    )
    by_key: dict[str, pbx_formats.CallFacts] = {}
    for call_key, rows in groups:
        facts = pbx_formats.call_facts(batch.format, rows)
        if facts is not None:
            by_key[call_key] = facts
    shared: set[str] = set()
    others = _other_formats(batch) if by_key else []
    if others:
        by_key, shared = _merged(batch, by_key, others)
    # A call another format already filed is updated where it is (one call, one Call), whatever its source.
    elsewhere = _calls_of_other_sources(batch, shared) if shared else {}
    pending: list[tuple] = []
    moved: list[tuple[int, tuple]] = []
    for call_key, facts in by_key.items():
        row = (
            call_key,
            lookups.line(facts.line_names),
            lookups.agent(facts.agent_names),
            _caller(facts.caller_number),
            facts.offered_at,
            facts.answered_at,
            facts.ended_at,
            facts.wait_seconds,
            facts.talk_seconds,
            facts.outcome,
        )
        if call_key in elsewhere:
            moved.append((elsewhere[call_key], row))
        else:
            pending.append(row)
    if pending:
        upsert = _upsert_calls_pg if connection.vendor == "postgresql" else _upsert_calls_sqlite
        created, updated = upsert(batch, pending, now)
        tally.calls_created += created
        tally.calls_updated += updated
    if moved:
        tally.calls_updated += _update_calls(batch, moved, now)


def _calls_of_other_sources(batch: PbxImportBatch, keys: set[str]) -> dict[str, int]:
    """call key → the Call to update, for keys whose first-filed PBX Call has another source. (Two Calls
    of one key, left by imports before calls were merged, are not joined: the oldest one is kept up to
    date and this batch's source is then not used.)"""
    found: dict[str, tuple[int, str]] = {}
    for part in _chunks(sorted(keys), 1000):
        for pk, external_id, source in Call.objects.filter(
            authority_id=batch.authority_id, source__in=_CALL_FORMATS, external_id__in=part
        ).values_list("pk", "external_id", "source"):
            if external_id not in found or pk < found[external_id][0]:
                found[external_id] = (pk, source)
    return {key: pk for key, (pk, source) in found.items() if source != batch.format}


def _update_calls(batch: PbxImportBatch, moved: list[tuple[int, tuple]], now: dt.datetime) -> int:
    for pk, row in moved:
        _key, line_id, agent_id, *facts = row
        values = dict(zip(_CALL_FACT_COLUMNS[2:], facts, strict=True))
        # A name the lookups do not know (yet) does not wipe a line/agent found before.
        if line_id is not None:
            values["line_id"] = line_id
        if agent_id is not None:
            values["agent_id"] = agent_id
        Call.objects.filter(pk=pk).update(updated_at=now, hotline_id=batch.hotline_id, **values)
    return len(moved)


_CALL_STAGE_DDL = """
CREATE TEMPORARY TABLE IF NOT EXISTS consultation_call_stage (
    external_id varchar(150), line_id bigint, agent_id bigint, caller_number varchar(32),
    offered_at timestamptz, answered_at timestamptz, ended_at timestamptz, wait_seconds integer,
    talk_seconds integer, outcome varchar(10)
)"""
_STAGE_CALL_COLUMNS = ("external_id",) + _CALL_FACT_COLUMNS
_CALL_STAGE_TYPES = ["text", "int8", "int8", "text"] + ["timestamptz"] * 3 + ["int4", "int4", "text"]
# The columns of a new imported Call beyond its facts (note fields empty: agents fill them in later).
_NEW_CALL_EXTRA = (
    ("hold_seconds", 0),
    ("wrap_up_seconds", 0),
    ("topic", ""),
    ("summary", ""),
    ("resolved", False),
    ("needs_follow_up", False),
    ("related_case_number", ""),
)


def _upsert_calls_pg(batch: PbxImportBatch, pending: list[tuple], now: dt.datetime) -> tuple[int, int]:
    table = Call._meta.db_table
    stage_cols = ", ".join(_STAGE_CALL_COLUMNS)
    extra_cols = ", ".join(name for name, _v in _NEW_CALL_EXTRA)
    extra_vals = ", ".join(["%s"] * len(_NEW_CALL_EXTRA))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _CALL_FACT_COLUMNS if c not in ("line_id", "agent_id"))
    with connection.cursor() as cursor:
        cursor.execute(_CALL_STAGE_DDL)
        cursor.execute("TRUNCATE consultation_call_stage")
        with cursor.cursor.copy(
            f"COPY consultation_call_stage ({stage_cols}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_CALL_STAGE_TYPES)
            for row in pending:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} (authority_id, created_at, updated_at, source, hotline_id, "
            f"{stage_cols}, {extra_cols}) "
            f"SELECT %s, %s, %s, %s, %s, {stage_cols}, {extra_vals} FROM consultation_call_stage "
            "ON CONFLICT (authority_id, source, external_id) WHERE NOT (external_id = '') DO UPDATE SET "
            f"updated_at = EXCLUDED.updated_at, hotline_id = EXCLUDED.hotline_id, {updates}, "
            # A name the lookups do not know (yet) does not wipe a line/agent found before.
            f"line_id = COALESCE(EXCLUDED.line_id, {table}.line_id), "
            f"agent_id = COALESCE(EXCLUDED.agent_id, {table}.agent_id) "
            "RETURNING (xmax = 0)",
            [batch.authority_id, now, now, batch.format, batch.hotline_id, *(v for _n, v in _NEW_CALL_EXTRA)],
        )
        flags = [row[0] for row in cursor.fetchall()]
    created = sum(1 for f in flags if f)
    return created, len(flags) - created


def _upsert_calls_sqlite(batch: PbxImportBatch, pending: list[tuple], now: dt.datetime) -> tuple[int, int]:
    table = Call._meta.db_table
    ops = connection.ops
    created = updated = 0
    for part in _chunks(pending, 500):
        keys = [row[0] for row in part]
        existing = set(
            Call.objects.filter(
                authority_id=batch.authority_id, source=batch.format, external_id__in=keys
            ).values_list("external_id", flat=True)
        )
        updated += len(existing)
        created += len(part) - len(existing)

        def adapt(value):
            return ops.adapt_datetimefield_value(value) if isinstance(value, dt.datetime) else value

        params = [
            [
                batch.authority_id,
                adapt(now),
                adapt(now),
                batch.format,
                batch.hotline_id,
                *(adapt(v) for v in row),
                *(v for _n, v in _NEW_CALL_EXTRA),
            ]
            for row in part
        ]
        columns = ", ".join(
            ["authority_id", "created_at", "updated_at", "source", "hotline_id", *_STAGE_CALL_COLUMNS]
            + [n for n, _v in _NEW_CALL_EXTRA]
        )
        marks = ", ".join(["%s"] * (5 + len(_STAGE_CALL_COLUMNS) + len(_NEW_CALL_EXTRA)))
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in _CALL_FACT_COLUMNS if c not in ("line_id", "agent_id")
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
                "ON CONFLICT (authority_id, source, external_id) WHERE NOT (external_id = '') DO UPDATE SET "
                f"updated_at = excluded.updated_at, hotline_id = excluded.hotline_id, {updates}, "
                f"line_id = COALESCE(excluded.line_id, {table}.line_id), "
                f"agent_id = COALESCE(excluded.agent_id, {table}.agent_id)",
                params,
            )
    return created, updated


# --- the post-call survey -----------------------------------------------------------------------------


def _import_survey(batch: PbxImportBatch, rows: Iterable, tally: _Tally) -> None:
    window = dt.timedelta(minutes=pbx_formats.SURVEY_MATCH_MINUTES)
    calls = Call.objects.filter(authority_id=batch.authority_id, hotline_id=batch.hotline_id)
    for chunk in _chunks(_good_rows(rows, tally), 1000):
        keys = [row.record_key for row in chunk]
        known = set(
            PbxRecord.objects.filter(
                authority_id=batch.authority_id, format=PbxFormat.SURVEY, record_key__in=keys
            ).values_list("record_key", flat=True)
        )
        by_key: dict[str, list[Call]] = {}
        call_ids = {row.call_key for row in chunk if row.call_key and row.record_key not in known}
        if call_ids:
            for call in calls.exclude(source="manual").filter(external_id__in=call_ids):
                by_key.setdefault(call.external_id, []).append(call)
        with transaction.atomic():
            for row in chunk:
                if row.record_key in known:
                    continue  # already applied by an earlier import
                known.add(row.record_key)
                call = _survey_call(batch.authority_id, row, by_key, calls, window)
                if call is None:
                    tally.unmatched += 1
                    how = (
                        _("呼叫标识 %(key)s") % {"key": row.call_key}
                        if row.call_key
                        else _("号码 %(n)s、来电时间 %(t)s 前后 %(m)d 分钟")
                        % {
                            "n": row.caller_number,
                            "t": f"{timezone.localtime(row.started_at):%Y-%m-%d %H:%M}",
                            "m": pbx_formats.SURVEY_MATCH_MINUTES,
                        }
                    )
                    tally.error(
                        row.line_number,
                        _(
                            "第 %(line)d 行：未找到对应的来电（%(how)s），评分未导入；"
                            "导入该来电的话单后可重新导入本文件。"
                        )
                        % {"line": row.line_number, "how": how},
                        row.raw,
                        kind="unmatched",
                    )
                    continue
                try:
                    with transaction.atomic():
                        PbxRecord.objects.create(
                            authority_id=batch.authority_id,
                            format=PbxFormat.SURVEY,
                            batch_id=batch.pk,
                            **{**row._asdict(), "call_key": call.external_id or str(call.pk)},
                        )
                except IntegrityError:
                    continue  # a concurrent import of the same survey wrote it first
                score, at = int(row.event), row.answered_at
                if call.satisfaction_at is None or at >= call.satisfaction_at:
                    call.satisfaction_score, call.satisfaction_at = score, at
                    call._history_user = batch.created_by
                    call._change_reason = _("满意度回访导入")
                    call.save(update_fields=["satisfaction_score", "satisfaction_at", "updated_at"])
                    tally.calls_updated += 1


def _survey_call(
    authority_id: int, row: pbx_formats.PbxRow, by_key: dict[str, list[Call]], calls, window: dt.timedelta
) -> Call | None:
    if row.call_key:
        found = by_key.get(row.call_key)
        if found:
            return found[0]
        # The survey may name one leg's uniqueid rather than the linkedid the call is filed under.
        record = (
            PbxRecord.objects.filter(authority_id=authority_id, record_key__startswith=row.call_key + "#")
            .exclude(format=PbxFormat.SURVEY)
            .values_list("call_key", "format")
            .first()
        )
        if record is not None:
            return calls.filter(source=record[1], external_id=record[0]).first()
        if not row.caller_number or row.started_at is None:
            return None
    number = _caller(row.caller_number)
    if not number or row.started_at is None:
        return None
    candidates = list(
        calls.filter(
            caller_number=number,
            offered_at__gte=row.started_at - window,
            offered_at__lte=row.started_at + window,
        ).filter(~Q(outcome=""))
    )
    if not candidates:
        return None
    return min(candidates, key=lambda c: (abs((c.offered_at - row.started_at).total_seconds()), c.pk))
