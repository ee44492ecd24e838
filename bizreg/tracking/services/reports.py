"""Generating the periodic tracking report (企业跟踪服务月报/季报) and re-rendering it for a download.

`report_generate` validates the period (a month starts on the 1st, a quarter on 1 Jan/Apr/Jul/Oct, not in
the future), gathers the figures (selectors.reports.report_figures), writes the content with its narrative
(reporting.content), renders the PDF and the .docx with their charts from that content (reporting.document),
stores both files with their SHA-256 and numbers the report per authority and period: 跟踪报告2023Q1-1,
跟踪报告2023M03-1; generating the same period again gives -2, -3 … (earlier versions stay).

The files are a function of the stored content only, so `report_render` re-renders the stored bytes and
proves it by the hash. A quarter on the demo data renders in a few seconds, so it runs inline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.tracking.models import ReportPeriod, TrackingReport
from bizreg.tracking.reporting.content import QUARTER_MONTHS, build_content, period_code, period_end
from bizreg.tracking.reporting.document import FORMATS, render, render_all
from bizreg.tracking.selectors.reports import report_figures
from bizreg.tracking.services.common import Errors, assert_perm

GENERATE = "tracking.generate_trackingreport"
NUMBER_ATTEMPTS = 5


class ReportIntegrityError(Exception):
    """A re-rendered report no longer matches the SHA-256 recorded when it was generated."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_period(period: Any, period_start: Any) -> tuple[str, dt.date]:
    """(period, start) or ValidationError: the period is "month" or "quarter"; a month starts on the 1st, a
    quarter on 1 January, April, July or October; the period may not start in the future."""
    errors = Errors()
    period = str(period or "")
    if period not in ReportPeriod.values:
        errors.add("period", "报告类型只能是月报或季报。")
    start = period_start
    if isinstance(start, dt.datetime):
        start = start.date()
    if not isinstance(start, dt.date):
        try:
            start = dt.date.fromisoformat(str(start or "").strip())
        except ValueError:
            errors.add("period_start", "请填写期间开始日期（YYYY-MM-DD）。")
            start = None
    if start is not None:
        if start.day != 1:
            errors.add("period_start", "期间开始日期须为当月 1 日。")
        elif period == ReportPeriod.QUARTER and start.month not in QUARTER_MONTHS:
            errors.add("period_start", "季报的期间须从 1 月、4 月、7 月或 10 月 1 日开始。")
        if start > timezone.localdate():
            errors.add("period_start", "不能为尚未开始的期间生成报告。")
    errors.raise_if_any()
    return period, start


def _next_sequence(authority: Authority, base: str) -> int:
    return TrackingReport.objects.filter(authority=authority, number__startswith=f"{base}-").count() + 1


def report_generate(
    *,
    authority: Authority,
    period: str,
    period_start: dt.date | str,
    actor,
    generated_at: dt.datetime | None = None,
) -> TrackingReport:
    """Generate, render and store the report of `authority` for the month or quarter starting on
    `period_start`. Raises PermissionDenied without tracking.generate_trackingreport or for an authority the
    actor does not work for, ValidationError for a bad period."""
    assert_perm(actor, GENERATE, "您的角色无权生成跟踪服务报告。")
    if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
        raise PermissionDenied("您不属于该登记机关，不能为其生成报告。")
    period, start = clean_period(period, period_start)
    generated_at = (generated_at or timezone.now()).replace(microsecond=0)
    end = period_end(period, start)
    # Figures for a period still running are as of today; for a past period, as of its last day.
    as_of = min(end - dt.timedelta(days=1), timezone.localdate(generated_at))
    figures = report_figures(authority_id=authority.pk, start=start, end=end, as_of=as_of)
    base = f"跟踪报告{period_code(period, start)}"
    sequence = _next_sequence(authority, base)
    generated_by = str(actor)
    for _attempt in range(NUMBER_ATTEMPTS):
        number = f"{base}-{sequence}"
        content = build_content(
            authority=authority,
            period=period,
            start=start,
            number=number,
            figures=figures,
            generated_at=generated_at,
            generated_by=generated_by,
            as_of=as_of,
        )
        files = render_all(content)
        report = TrackingReport(
            authority=authority,
            period=period,
            period_start=start,
            period_end=end - dt.timedelta(days=1),
            number=number,
            generated_at=generated_at,
            generated_by=actor,
            content=content,
            pdf_sha256=_sha256(files["pdf"]),
            docx_sha256=_sha256(files["docx"]),
        )
        # A random stored name: unique, and the path says nothing about the authority.
        name = secrets.token_hex(12)
        report.pdf.save(f"{name}.pdf", ContentFile(files["pdf"]), save=False)
        report.docx.save(f"{name}.docx", ContentFile(files["docx"]), save=False)
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:
            # Someone generated the same period at the same moment and took this number: take the next.
            _delete_files(report)
            sequence += 1
            continue
        return report
    raise ValidationError({"period_start": ["同一期间的报告正在生成，请稍后再试。"]})


def _delete_files(report: TrackingReport) -> None:
    for field in (report.pdf, report.docx):
        if field:
            field.delete(save=False)


def report_render(report: TrackingReport, fmt: str) -> bytes:
    """The report in `fmt` ("pdf" or "docx"): the stored file when it is intact, else re-rendered from the
    stored content; either way checked against the SHA-256 recorded at generation (ReportIntegrityError)."""
    if fmt not in FORMATS:
        raise ValidationError({"format": ["报告格式只能是 PDF 或 Word（docx）。"]})
    expected = report.pdf_sha256 if fmt == "pdf" else report.docx_sha256
    stored = report.pdf if fmt == "pdf" else report.docx
    if stored:
        try:
            with stored.open("rb") as handle:
                data = handle.read()
        except OSError:
            data = b""
        if data and _sha256(data) == expected:
            return data
    data = render(report.content, fmt)
    if _sha256(data) != expected:
        raise ReportIntegrityError(f"报告 {report.number} 的内容与生成时登记的校验值不符，请联系系统管理员。")
    return data


def report_filename(report: TrackingReport, fmt: str) -> str:
    return f"{report.content.get('title', '企业跟踪服务报告')}_{report.number}.{fmt}"
