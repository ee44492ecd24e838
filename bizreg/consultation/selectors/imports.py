"""Reads of PBX import batches: the filtered list, one batch with its background job, the export rows.

Scoped to the viewer's authorities; another authority's batch answers 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from bizreg.consultation.models import PbxImportBatch
from bizreg.core.dates import day_start
from bizreg.core.models import BackgroundJob
from bizreg.core.scoping import scope_to_user

PAGE_SIZE = 50
ERRORS_PAGE_SIZE = 100
IMPORT_JOB_KIND = "consultation.import_pbx"


def batches_visible_to(user) -> QuerySet[PbxImportBatch]:
    return scope_to_user(PbxImportBatch.objects.select_related("hotline", "created_by"), user)


def batch_search(*, user, filters: Mapping[str, Any]) -> QuerySet[PbxImportBatch]:
    """Visible batches matching the cleaned filter form (format, status, hotline, upload dates, file name)."""
    qs = batches_visible_to(user)
    for name in ("format", "status", "hotline"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=day_start(filters["date_to"] + dt.timedelta(days=1)))
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(file_name__icontains=q)
    if filters.get("with_errors"):
        qs = qs.filter(lines_rejected__gt=0)
    return qs.order_by("-created_at", "-id")


def batch_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(batch_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def batch_for(*, user, pk: Any) -> PbxImportBatch:
    message = _("没有找到该导入批次。")
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(message) from None
    batch = batches_visible_to(user).filter(pk=pk).first()
    if batch is None:
        raise Http404(message)
    return batch


def job_for_batch(batch: PbxImportBatch) -> BackgroundJob | None:
    """The background job that runs a big batch (None for a batch imported inline)."""
    return (
        BackgroundJob.objects.filter(authority_id=batch.authority_id, kind=IMPORT_JOB_KIND)
        .filter(parameters__batch_id=batch.pk)
        .order_by("-created_at")
        .first()
    )


def error_page(batch: PbxImportBatch, *, page: Any, kind: str = "") -> Page:
    errors = [e for e in batch.errors or [] if not kind or e.get("kind", "rejected") == kind]
    return Paginator(errors, ERRORS_PAGE_SIZE).get_page(page)


EXPORT_HEADERS = (
    "批次号", "上传时间", "格式", "热线", "文件名", "错误处理", "状态", "总行数", "新增记录", "重复记录",
    "错误行", "新增来电", "更新来电", "上传人", "完成时间", "SHA-256",
)  # fmt: skip
ERROR_HEADERS = ("行号", "类型", "错误说明", "原始内容")
ERROR_KIND_LABELS = {"rejected": "格式错误，未导入", "unmatched": "未匹配来电", "file": "文件错误"}


def batch_export_rows(queryset: QuerySet[PbxImportBatch]) -> Iterator[tuple]:
    for b in queryset.iterator(chunk_size=2000):
        yield (
            b.pk,
            b.created_at,
            b.get_format_display(),
            str(b.hotline),
            b.file_name,
            b.get_mode_display(),
            b.get_status_display(),
            b.lines_total,
            b.records_new,
            b.records_duplicate,
            b.lines_rejected,
            b.calls_created,
            b.calls_updated,
            (b.created_by.get_full_name() or b.created_by.username) if b.created_by else "",
            b.finished_at,
            b.sha256,
        )


def error_export_rows(batch: PbxImportBatch) -> Iterator[tuple]:
    for e in batch.errors or []:
        kind = e.get("kind", "rejected")
        yield (e.get("line"), _(ERROR_KIND_LABELS.get(kind, kind)), e.get("message", ""), e.get("text", ""))
