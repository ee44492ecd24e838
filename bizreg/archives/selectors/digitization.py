"""Reads of the digitization pipeline: batches (scoped to the user's authorities), their pages, the QA
sample and the figures a batch page shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from bizreg.archives import workflows
from bizreg.archives.models import DigitizationBatch, PageQA, ScanPage
from bizreg.archives.selectors.events import labelled_events
from bizreg.core.dates import on_local_days
from bizreg.core.scoping import scope_to_user

PAGE_SIZE = 25
PAGES_PAGE_SIZE = 50
EXPORT_HEADERS = [
    "批次号",
    "状态",
    "移交清单",
    "页数",
    "抽检页数",
    "抽检合格",
    "退回页数",
    "创建人",
    "创建时间",
    "入库时间",
]


def batches_visible_to(user) -> QuerySet[DigitizationBatch]:
    return scope_to_user(DigitizationBatch.objects.all(), user).select_related(
        "transfer", "created_by", "job"
    )


def batch_search(*, user, filters: Mapping[str, Any]) -> QuerySet[DigitizationBatch]:
    queryset = batches_visible_to(user)
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("q"):
        text = filters["q"].strip()
        queryset = queryset.filter(Q(number__icontains=text) | Q(transfer__number__icontains=text))
    queryset = queryset.filter(
        on_local_days("created_at", filters.get("created_from"), filters.get("created_to"))
    )
    return queryset.order_by("-created_at")


def batch_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(batch_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def batch_export_rows(queryset: QuerySet[DigitizationBatch]) -> list[list]:
    return [
        [
            b.number,
            b.get_state_display(),
            b.transfer.number if b.transfer else "",
            b.pages_total,
            b.qa_sampled,
            b.qa_passed,
            b.pages_rejected,
            str(b.created_by),
            b.created_at,
            b.finished_at,
        ]
        for b in queryset
    ]


def batch_for(*, user, pk: Any) -> DigitizationBatch:
    batch = batches_visible_to(user).filter(pk=pk).first()
    if batch is None:
        raise Http404("批次不存在。")
    return batch


PAGE_FILTERS = {
    "errors": "有错误",
    "sampled": "抽检页",
    "rejected": "退回页",
    "blank": "空白页",
    "unbound": "未归件",
}


def batch_pages(*, batch: DigitizationBatch, show: str = "", page: Any = None) -> Page:
    queryset = batch.pages.select_related("item", "qa_by").order_by("sequence")
    if show == "sampled":
        queryset = queryset.filter(qa_sampled=True)
    elif show == "rejected":
        queryset = queryset.filter(qa_status="rejected")
    elif show == "blank":
        queryset = queryset.filter(is_blank=True)
    elif show == "unbound":
        queryset = queryset.filter(item=None)
    elif show == "errors":
        # The checks are a JSON list whose lookups differ between SQLite and PostgreSQL: read them here.
        ids = [
            pk
            for pk, checks in batch.pages.values_list("pk", "auto_checks")
            if any(c.get("severity") == "error" for c in checks)
        ]
        queryset = queryset.filter(pk__in=ids)
    return Paginator(queryset, PAGES_PAGE_SIZE).get_page(page)


def batch_page_counts(batch: DigitizationBatch) -> dict[str, int]:
    """How far the batch's pages have come, counted in one query: stored, processed, OCR done, bound to an
    item, blank, sampled for QA, passed and rejected."""
    return batch.pages.aggregate(
        total=Count("pk"),
        processed=Count("pk", filter=~Q(processed="")),
        ocr_done=Count("pk", filter=Q(ocr_confidence__isnull=False)),
        bound=Count("pk", filter=Q(item__isnull=False)),
        blank=Count("pk", filter=Q(is_blank=True)),
        sampled=Count("pk", filter=Q(qa_sampled=True)),
        qa_passed=Count("pk", filter=Q(qa_status="passed")),
        qa_rejected=Count("pk", filter=Q(qa_status="rejected")),
    )


def page_for(*, user, pk: Any) -> ScanPage:
    page = (
        ScanPage.objects.filter(batch__in=batches_visible_to(user), pk=pk)
        .select_related("batch", "item__archive", "qa_by")
        .first()
    )
    if page is None:
        raise Http404("扫描页不存在。")
    return page


def qa_queue(batch: DigitizationBatch) -> list[ScanPage]:
    """The sampled pages first, then any page with an automatic error (the checker must decide those too)."""
    pages = list(batch.pages.select_related("item", "qa_by").order_by("sequence"))
    sampled = [p for p in pages if p.qa_sampled]
    flagged = [
        p for p in pages if not p.qa_sampled and any(c.get("severity") == "error" for c in p.auto_checks)
    ]
    return sampled + flagged


_BATCH_EVENT_LABELS = {
    "create": "创建批次",
    "intake": "接收扫描件",
    "replace_page": "替换页面",
    "page_pass": "单页质检合格",
    "page_reject": "单页退回返工",
}


BATCH_EVENTS_SHOWN = 200


def batch_events(batch: DigitizationBatch) -> list:
    """The latest events of a batch (its page checks among them), oldest first."""
    return labelled_events(
        batch,
        machine=workflows.BATCH,
        labels=_BATCH_EVENT_LABELS,
        states=dict(PageQA.choices),
        latest=BATCH_EVENTS_SHOWN,
    )
