"""Reads of the answering engine's log (AnswerLog) for staff pages, exports and the metrics.

Scoped to the user's authorities. Questions are citizens' free text and may carry a phone or ID number:
shown with those masked unless the viewer may see full personal data (the view that shows them whole
writes the access log, as every full view does).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from bizreg.consultation.models import AnswerLog, TicketChannel
from bizreg.core.dates import day_start
from bizreg.core.masking import mask_id_number, mask_phone
from bizreg.core.scoping import scope_to_user

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20_000
OUTCOME_CHOICES = (("answered", "智能应答"), ("handed_over", "转人工"))

_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


def mask_question(text: str) -> str:
    """The question with any mobile or resident ID number in it masked (138****1234, 4401**********1234)."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text or "")
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def answer_logs_visible_to(user) -> QuerySet[AnswerLog]:
    return scope_to_user(AnswerLog.objects.select_related("version", "version__article", "ticket"), user)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None  # a mistyped date in the URL filters nothing rather than failing the page


def answer_log_search(*, user, filters: Mapping[str, Any]) -> QuerySet[AnswerLog]:
    """Visible answer-log rows matching the filters, newest first.

    Filters: `q` (words in the question or the cited article's code), `channel`, `outcome`
    (answered | handed_over), `date_from` / `date_to` (ISO dates, inclusive), `article` (a code).
    """
    rows = answer_logs_visible_to(user)
    q = str(filters.get("q") or "").strip()
    if q:
        rows = rows.filter(Q(question__icontains=q) | Q(version__article__code__iexact=q))
    channel = filters.get("channel")
    if channel in TicketChannel.values:
        rows = rows.filter(channel=channel)
    outcome = filters.get("outcome")
    if outcome == "answered":
        rows = rows.filter(handed_over=False)
    elif outcome == "handed_over":
        rows = rows.filter(handed_over=True)
    start, end = _date(filters.get("date_from")), _date(filters.get("date_to"))
    if start:
        rows = rows.filter(asked_at__gte=day_start(start))
    if end:
        rows = rows.filter(asked_at__lt=day_start(end + dt.timedelta(days=1)))
    article = str(filters.get("article") or "").strip()
    if article:
        rows = rows.filter(version__article__code__iexact=article)
    return rows.order_by("-asked_at", "-id")


def answer_log_page(*, user, filters: Mapping[str, Any], page: Any = 1) -> Page:
    return Paginator(answer_log_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class AnswerSummary:
    total: int
    answered: int
    handed_over: int
    answer_rate: float | None  # answered ÷ total, None without questions
    mean_latency_ms: float | None
    p95_latency_ms: float | None


def answer_log_summary(*, user, filters: Mapping[str, Any]) -> AnswerSummary:
    """Counts over the filtered rows: how many questions the engine answered itself, and how fast."""
    rows = answer_log_search(user=user, filters=filters).order_by()
    figures = rows.aggregate(
        total=Count("id"), handed_over=Count("id", filter=Q(handed_over=True)), mean=Avg("latency_ms")
    )
    total = figures["total"]
    p95 = None
    if total:
        # Nearest rank, read by offset: no need to fetch every latency.
        rank = max(1, -(-95 * total // 100))
        p95 = rows.order_by("latency_ms").values_list("latency_ms", flat=True)[rank - 1]
    answered = total - figures["handed_over"]
    return AnswerSummary(
        total=total,
        answered=answered,
        handed_over=figures["handed_over"],
        answer_rate=round(answered / total, 4) if total else None,
        mean_latency_ms=round(figures["mean"], 2) if figures["mean"] is not None else None,
        p95_latency_ms=round(p95, 2) if p95 is not None else None,
    )


EXPORT_HEADERS = ("时间", "渠道", "问题", "结果", "引用条目", "条目标题", "置信度", "耗时（毫秒）", "工单号")


def answer_log_export_rows(queryset: QuerySet[AnswerLog], *, full: bool = False) -> Iterator[tuple]:
    """Rows for the Excel export (at most EXPORT_MAX_ROWS), questions masked unless `full`."""
    channels = dict(TicketChannel.choices)
    for row in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
        version = row.version
        yield (
            timezone.localtime(row.asked_at).strftime("%Y-%m-%d %H:%M:%S"),
            channels.get(row.channel, row.channel),
            row.question if full else mask_question(row.question),
            "转人工" if row.handed_over else "智能应答",
            version.article.code if version else "",
            version.title if version else "",
            round(row.score, 3),
            round(row.latency_ms, 1),
            row.ticket.number if row.ticket_id else "",
        )
