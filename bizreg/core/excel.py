"""Helpers for Excel exports (openpyxl)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell value that Excel shows as text: user-typed text starting like a formula is neutralized, and
    the control characters a worksheet refuses are dropped."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        return "'" + value if value.startswith(_FORMULA_PREFIXES) else value
    if isinstance(value, dt.datetime):
        # openpyxl cannot store aware datetimes; exports show the bureau's local time.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


def workbook_response(workbook: Workbook, filename: str) -> FileResponse:
    """The workbook as a download; kept in memory up to 8 MB, then on disk (FileResponse closes the file)."""
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 — FileResponse closes it
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX)


def write_sheet(
    buffer, *, title: str, headers: Sequence[str], rows: Iterable[Sequence], widths: Sequence[float] = ()
) -> int:
    """Write a one-sheet Excel file of `rows` into `buffer` (a write-only workbook never holds the rows in
    memory); `widths` sets the first columns' widths in characters. Returns the number of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append(list(headers))
    written = 0
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
        written += 1
    workbook.save(buffer)
    buffer.seek(0)
    return written


def spooled_sheet(
    *, title: str, headers: Sequence[str], rows: Iterable[Sequence], widths: Sequence[float] = ()
) -> tuple[tempfile.SpooledTemporaryFile, int]:
    """The sheet written into a temporary file kept in memory up to 8 MB, then on disk; and its row count."""
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 — the caller closes it
    return buffer, write_sheet(buffer, title=title, headers=headers, rows=rows, widths=widths)


def xlsx_response(
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    filename: str,
    widths: Sequence[float] = (),
) -> FileResponse:
    """A one-sheet Excel file of `rows` as a download (see write_sheet)."""
    buffer, _written = spooled_sheet(title=title, headers=headers, rows=rows, widths=widths)
    return FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX)
