"""Figures of the archives module for the performance module, by key (see core.metrics_registry).

Every function takes (authority_ids, start, end) over the half-open period [start, end) of local dates
(Asia/Shanghai) and returns a Decimal. Rates are percentages with two decimals (a rate over no records is
0, as in the other modules); counts are whole numbers.

`archives.query_service_rate` is indicator 6 of the seed (档案查询服务率, target ≥ 100 %).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    BatchState,
    DigitizationBatch,
    DigitizationStatus,
    ItemSource,
    ScanPage,
)
from bizreg.core.metrics_registry import memoized, percent, period_bounds, period_list_url, register_metric

OPEN_STATES = (AccessState.SUBMITTED, AccessState.APPROVED)


access_requests_url = period_list_url(
    "archives:access_list", "submitted_from", "submitted_to", permission="archives.view_accessrequest"
)


# --- 档案查询服务率 -----------------------------------------------------------------------------------------


def query_service_counts(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> tuple[int, int]:
    """(served in time, counted) over the requests submitted in the period; see the metric's definition."""

    def compute() -> tuple[int, int]:
        lo, hi = period_bounds(start, end)
        now = timezone.now()
        in_time = Q(served_at__isnull=False, served_at__lte=F("due_at")) | Q(
            state=AccessState.REJECTED, decided_at__isnull=False, decided_at__lte=F("due_at")
        )
        not_yet_due = Q(state__in=OPEN_STATES, due_at__gt=now)
        row = (
            AccessRequest.objects.filter(
                authority_id__in=list(authority_ids), submitted_at__gte=lo, submitted_at__lt=hi
            )
            .exclude(not_yet_due)
            .aggregate(counted=Count("pk"), in_time=Count("pk", filter=in_time))
        )
        return row["in_time"], row["counted"]

    return memoized(("archives.query_service", tuple(authority_ids), start, end), compute)


@register_metric(
    "archives.query_service_rate",
    label="档案查询服务率",
    unit="%",
    definition=(
        "在办结期限内提供查询结果的查询申请数 ÷ 查询申请数 × 100%。按申请时间统计，含网上查询基本登记信息"
        "（即时提供）、窗口查询、业务部门调阅和完整档案申请。在期限内提供 = 提供时间不晚于办结期限"
        "（受理后 3 个工作日）；经审核不予提供且在期限内作出决定并说明理由的，也视为已按时办结。"
        "超过期限仍未办结的、逾期提供的计入分母不计入分子；计算时尚未到期且仍在办理中的申请不计入。"
    ),
    records_url=access_requests_url,
)
def query_service_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    in_time, counted = query_service_counts(authority_ids, start, end)
    return percent(in_time, counted)


# --- pages digitized, QA pass rate --------------------------------------------------------------------------


@register_metric(
    "archives.pages_digitized",
    label="数字化页数",
    unit="页",
    definition=(
        "本期入库的页数：本期完成入库的数字化批次中已归入档案件的扫描页数，加上本期进入电子档案的电子原生"
        "（一网通办/全程电子化）档案件的页数。"
    ),
)
def pages_digitized(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    lo, hi = period_bounds(start, end)
    ids = list(authority_ids)
    scanned = ScanPage.objects.filter(
        batch__authority_id__in=ids,
        batch__state=BatchState.DONE,
        batch__finished_at__gte=lo,
        batch__finished_at__lt=hi,
        item__isnull=False,
    ).count()
    # A born-digital item "became digitized" at its first history row in that state.
    first_digitized = (
        ArchiveItem.history.filter(
            archive__authority_id__in=ids,
            source=ItemSource.BORN_DIGITAL,
            digitization=DigitizationStatus.DIGITIZED,
        )
        .values("id")
        .annotate(first=Min("history_date"))
        .filter(first__gte=lo, first__lt=hi)
        .values("id")
    )
    born_digital = (
        ArchiveItem.objects.filter(
            pk__in=first_digitized, digitization=DigitizationStatus.DIGITIZED
        ).aggregate(pages=Sum("pages"))["pages"]
        or 0
    )
    return Decimal(scanned + born_digital)


@register_metric(
    "archives.qa_pass_rate",
    label="图文质检合格率",
    unit="%",
    definition="本期完成入库的数字化批次抽检合格页数 ÷ 抽检页数 × 100%（人工抽检，默认每批 5%）。",
)
def qa_pass_rate(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    lo, hi = period_bounds(start, end)
    row = DigitizationBatch.objects.filter(
        authority_id__in=list(authority_ids), finished_at__gte=lo, finished_at__lt=hi
    ).aggregate(sampled=Sum("qa_sampled"), passed=Sum("qa_passed"))
    return percent(row["passed"] or 0, row["sampled"] or 0)


# --- backlog ----------------------------------------------------------------------------------------------


@register_metric(
    "archives.backlog",
    label="待处理档案积压",
    unit="卷/件",
    definition=(
        "期末（统计期最后一天结束时）的积压：待整理状态的企业档案卷数 ＋ 尚未数字化入库的档案件数（未数字化、"
        "加工中、返工），按期末时点的历史记录计算。"
    ),
)
def backlog(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> Decimal:
    _lo, hi = period_bounds(start, end)
    ids = list(authority_ids)
    archives = (
        ArchiveFile.history.as_of(hi).filter(authority_id__in=ids, status=ArchiveStatus.PENDING).count()
    )
    archive_ids = ArchiveFile.history.as_of(hi).filter(authority_id__in=ids).values("id")
    items = (
        ArchiveItem.history.as_of(hi)
        .filter(archive_id__in=archive_ids)
        .exclude(digitization=DigitizationStatus.DIGITIZED)
        .count()
    )
    return Decimal(archives + items)
