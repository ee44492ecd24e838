"""Excel exports that are too large for a request become background jobs with a download.

An app registers each list export it offers once, in its `jobs.py` (imported by web processes and workers):

    register_export("registration.cases", label=..., permissions=(...,), build=case_export_spec)

`build(user, query)` reads the list the user filtered (the page's query string, scoped to the user at the
time it runs) and returns an ExportSpec; it raises PermissionDenied for a right the query needs (full
identifiers), ExportRefused for a query it cannot export. The view calls `respond`: up to
EXPORT_INLINE_MAX_ROWS rows are sent at once as before; a larger export is handed to a worker (job kind
`core.export`) and the user is taken to the job page, which shows progress and, when done, a download
that only the submitter may open and that is deleted after EXPORT_KEEP_HOURS
(`services.job_purge_expired_outputs`, hourly).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bizreg.core import services
from bizreg.core.excel import XLSX, spooled_sheet, write_sheet
from bizreg.core.jobs import JobError, Progress, register_job_runner
from bizreg.core.models import AccessLog, BackgroundJob
from bizreg.core.scoping import default_authority_for

EXPORT_JOB_KIND = "core.export"
# Rows written between two progress reports of an export job.
_PROGRESS_EVERY = 2_000


class ExportRefused(Exception):
    """The export cannot be made as asked (say, invalid filters); the message (Chinese) says why."""


@dataclass(frozen=True)
class ExportSpec:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    filename: str
    # The rows' queryset, for counting before anything is written.
    counted: QuerySet
    widths: Sequence[float] = field(default=())
    max_rows: int = 200_000
    # Called with the rows written and the request (None in a worker), e.g. to log an export of full
    # personal identifiers in the access log.
    on_written: Callable[[int, HttpRequest | None], None] | None = None

    def count_up_to(self, limit: int) -> int:
        """How many rows, counting no further than limit + 1 (enough to refuse or to choose the path)."""
        return self.counted.order_by().values("pk")[: limit + 1].count()


@dataclass(frozen=True)
class ExportEntry:
    name: str
    label: str
    permissions: tuple[str, ...]
    build: Callable[[object, QueryDict], ExportSpec]


_EXPORTS: dict[str, ExportEntry] = {}


def register_export(
    name: str, *, label: str, permissions: Sequence[str], build: Callable[[object, QueryDict], ExportSpec]
) -> None:
    existing = _EXPORTS.get(name)
    if existing is not None and existing.build is not build:
        raise ValueError(f"导出 {name} 重复注册")
    _EXPORTS[name] = ExportEntry(name=name, label=label, permissions=tuple(permissions), build=build)


def logs_full_personal_data(
    user, *, object_type: str, label: str, fields: str
) -> Callable[[int, HttpRequest | None], None]:
    """An on_written hook recording an export of whole personal identifiers in the access log; `label`
    takes the row count as %(count)d."""

    def record(count: int, request: HttpRequest | None) -> None:
        services.access_log_record(
            user=user,
            action=AccessLog.Action.EXPORT,
            object_type=object_type,
            object_id="export",
            object_label=label % {"count": count},
            fields=fields,
            record_count=count,
            authority=default_authority_for(user),
            request=request,
        )

    return record


def inline_max_rows() -> int:
    return int(getattr(settings, "EXPORT_INLINE_MAX_ROWS", 10_000))


def respond(request: HttpRequest, name: str, *, back_url: str) -> HttpResponse:
    """The export of the list the user is looking at: the file itself, or a background job for a large one;
    over the export's limit, back to the list with the reason."""
    entry = _EXPORTS[name]
    try:
        spec = entry.build(request.user, request.GET)
    except ExportRefused as exc:
        messages.error(request, str(exc))
        return redirect(back_url)
    inline_limit = inline_max_rows()
    rows = spec.count_up_to(max(spec.max_rows, inline_limit))
    if rows > spec.max_rows:
        too_many = _("导出结果超过 %(limit)s 条，请先用筛选条件缩小范围后再导出。")
        messages.error(request, too_many % {"limit": f"{spec.max_rows:,}"})
        return redirect(back_url)
    if rows <= inline_limit:
        buffer, written = spooled_sheet(
            title=spec.title, headers=spec.headers, rows=spec.rows, widths=spec.widths
        )
        if spec.on_written is not None:
            spec.on_written(written, request)
        return FileResponse(buffer, as_attachment=True, filename=spec.filename, content_type=XLSX)
    job = services.job_submit(
        authority=default_authority_for(request.user),
        kind=EXPORT_JOB_KIND,
        actor=request.user,
        parameters={
            "export": name,
            "label": entry.label,
            "query": request.GET.urlencode(),
            "rows": rows,
            "back_url": back_url,
            # The file speaks the submitter's language, as the page they exported from did.
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        },
    )
    messages.info(
        request,
        _("共 %(rows)s 条，已转入后台生成 Excel；完成后可在本页下载（仅您本人可下载，保留 %(hours)s 小时）。")
        % {"rows": f"{rows:,}", "hours": services.export_keep_hours()},
    )
    return redirect("core:job_detail", pk=job.pk)


@register_job_runner(EXPORT_JOB_KIND, label=gettext_noop("Excel 导出"))
def run_export(job: BackgroundJob, progress: Progress) -> dict:
    """Write the export as its submitter sees the list now, in their language; the submitter must still
    hold the rights."""
    with translation.override(job.parameters.get("language") or settings.LANGUAGE_CODE):
        return _write_export(job, progress)


def _write_export(job: BackgroundJob, progress: Progress) -> dict:
    entry = _EXPORTS.get(job.parameters.get("export", ""))
    if entry is None:
        raise JobError(f"未知的导出：{job.parameters.get('export')}")
    user = job.created_by
    if user is None or not user.is_active or not user.has_perms(entry.permissions):
        raise JobError("提交人已无该导出的权限，未生成文件。")
    try:
        spec = entry.build(user, QueryDict(job.parameters.get("query", "")))
    except ExportRefused as exc:
        raise JobError(str(exc)) from exc
    except PermissionDenied as exc:  # a right the query needs (full identifiers) was taken away
        raise JobError(f"提交人已无该导出的权限，未生成文件。{exc}") from exc
    total = spec.count_up_to(spec.max_rows)
    if total > spec.max_rows:
        raise JobError(f"导出结果超过 {spec.max_rows:,} 条，请缩小筛选范围后重新导出。")
    progress(0, total)

    def reported(rows: Iterable[Sequence]) -> Iterable[Sequence]:
        for done, row in enumerate(rows, start=1):
            if done % _PROGRESS_EVERY == 0:
                progress(done, max(total, done))
            yield row

    with tempfile.TemporaryFile() as buffer:
        written = write_sheet(
            buffer, title=spec.title, headers=spec.headers, rows=reported(spec.rows), widths=spec.widths
        )
        services.job_store_output(job=job, content=buffer, filename=spec.filename)
    if spec.on_written is not None:
        spec.on_written(written, None)
    progress(written, written)
    return {"rows": written, "filename": spec.filename, "label": entry.label}
