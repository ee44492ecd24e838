"""Reads of transfer lists, scoped by the user's authorities; their Excel and PDF exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import ArchiveEvent, TransferEntry, TransferList
from bizreg.archives.selectors.events import labelled_events
from bizreg.archives.services.transfers import BORN_DIGITAL_CHANNELS, transfer_candidates
from bizreg.core import pdf
from bizreg.core.dates import on_local_days
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.core.statemachine import Transition

PAGE_SIZE = 30


def transfers_visible_to(user) -> QuerySet[TransferList]:
    return scope_to_user(TransferList.objects.all(), user)


def transfer_for(*, user, pk: Any) -> TransferList:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("没有找到该移交清单。") from None
    transfer = (
        transfers_visible_to(user)
        .select_related("authority", "created_by", "signed_by", "received_by")
        .filter(pk=pk)
        .first()
    )
    if transfer is None:
        raise Http404("没有找到该移交清单。")
    return transfer


def transfer_search(*, user, filters: Mapping[str, Any]) -> QuerySet[TransferList]:
    qs = transfers_visible_to(user).select_related("created_by").annotate(entry_count=Count("entries"))
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    qs = qs.filter(on_local_days("created_at", filters.get("date_from"), filters.get("date_to")))
    term = (filters.get("q") or "").strip()
    if term:
        matching = TransferEntry.objects.filter(
            Q(case__number__startswith=term)
            | Q(archive__enterprise_name__icontains=term)
            | Q(archive__archival_code__startswith=term)
        ).values("transfer_id")
        qs = qs.filter(Q(number__icontains=term) | Q(title__icontains=term) | Q(pk__in=matching))
    return qs.order_by("-created_at", "-id")


def transfer_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    return Paginator(transfer_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


ENTRY_PAGE_SIZE = 50


class EntryProblem:
    """The entry filter of the detail and count-back pages."""

    MISSING = "missing"
    UNCOUNTED = "uncounted"
    COUNTED = "counted"
    DISCREPANCY = "discrepancy"
    CHOICES = (
        (MISSING, "缺少必交材料"),
        (UNCOUNTED, "未清点"),
        (COUNTED, "已清点"),
        (DISCREPANCY, "清点不符"),
    )


class EntrySection:
    PAPER = "paper"
    BORN_DIGITAL = "born_digital"
    CHOICES = ((PAPER, "纸质档案"), (BORN_DIGITAL, "电子原生档案"))


def _paper() -> Q:
    return ~Q(case__channel__in=BORN_DIGITAL_CHANNELS)


def _has_missing() -> Q:
    return ~Q(missing=[])


def _counted() -> Q:
    return _paper() & Q(returned_items__isnull=False)


def _discrepant() -> Q:
    return Q(returned_items__isnull=False) & ~Q(returned_items=F("present_items"))


_PROBLEMS = {
    EntryProblem.MISSING: _has_missing,
    EntryProblem.UNCOUNTED: lambda: _paper() & Q(returned_items__isnull=True),
    EntryProblem.COUNTED: _counted,
    EntryProblem.DISCREPANCY: _discrepant,
}


def transfer_entry_search(transfer: TransferList, filters: Mapping[str, Any]) -> QuerySet[TransferEntry]:
    """The list's entries by section, problem and a case number / enterprise / archival code term."""
    qs = transfer.entries.select_related("case", "archive")
    section = filters.get("section")
    if section == EntrySection.PAPER:
        qs = qs.filter(_paper())
    elif section == EntrySection.BORN_DIGITAL:
        qs = qs.exclude(_paper())
    if filters.get("problem") in _PROBLEMS:
        qs = qs.filter(_PROBLEMS[filters["problem"]]())
    term = (filters.get("q") or "").strip()
    if term:
        qs = qs.filter(
            Q(case__number__startswith=term)
            | Q(archive__enterprise_name__icontains=term)
            | Q(archive__archival_code__startswith=term)
        )
    return qs.order_by("id")


def transfer_entry_page(*, transfer: TransferList, filters: Mapping[str, Any], page: Any = None) -> Page:
    return Paginator(transfer_entry_search(transfer, filters), ENTRY_PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class TransferSummary:
    paper: int
    born_digital: int
    missing: int
    counted: int
    discrepancies: int

    @property
    def uncounted(self) -> int:
        return self.paper - self.counted


def transfer_summary(transfer: TransferList) -> TransferSummary:
    """The counts the detail and count-back pages show above their one page of entries."""
    figures = transfer.entries.aggregate(
        paper=Count("id", filter=_paper()),
        born_digital=Count("id", filter=~_paper()),
        missing=Count("id", filter=_has_missing()),
        counted=Count("id", filter=_counted()),
        discrepancies=Count("id", filter=_discrepant()),
    )
    return TransferSummary(**figures)


@dataclass(frozen=True)
class TransferSections:
    paper: list[TransferEntry]
    born_digital: list[TransferEntry]

    @property
    def missing_count(self) -> int:
        return sum(1 for e in self.paper + self.born_digital if e.missing)


def transfer_entries(transfer: TransferList) -> TransferSections:
    entries = list(transfer.entries.select_related("case", "archive").order_by("id"))
    return TransferSections(
        paper=[e for e in entries if e.case.channel not in BORN_DIGITAL_CHANNELS],
        born_digital=[e for e in entries if e.case.channel in BORN_DIGITAL_CHANNELS],
    )


def transfer_entries_with_ids(*, transfer: TransferList, ids: list[int]) -> list[TransferEntry]:
    return list(transfer.entries.select_related("case", "archive").filter(pk__in=ids).order_by("id"))


# Actions recorded on a list that are not transitions of its machine.
_EVENT_LABELS = {"build": "编制清单", "count": "保存清点"}


def transfer_events(transfer: TransferList) -> list[ArchiveEvent]:
    """The list's trail with the action and states in words."""
    return labelled_events(transfer, machine=workflows.TRANSFER, labels=_EVENT_LABELS)


def transfer_actions(*, transfer: TransferList, user) -> list[Transition]:
    return workflows.TRANSFER.available(state=transfer.state, user=user)


def build_candidates(*, user, period_start: dt.date | None = None, period_end: dt.date | None = None):
    """Completed cases of the user's (first) authority that can go on a new list."""
    from bizreg.core.models import Authority

    ids = authority_ids_for(user)
    authorities = Authority.objects.filter(pk__in=ids).order_by("id")
    return [
        case
        for authority in authorities
        for case in transfer_candidates(authority=authority, period_start=period_start, period_end=period_end)
    ]


# --- exports -------------------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "序号",
    "部分",
    "业务编号",
    "业务类型",
    "办理渠道",
    "企业名称",
    "档号",
    "应有件数",
    "实有件数",
    "页数",
    "缺失材料",
    "返还件数",
    "清点说明",
)


SIGNATURE_LINES = ("移交人", "确认人", "接收人（扫描加工单位）", "清点人")


def _section_label(entry: TransferEntry) -> str:
    return "电子原生（不扫描）" if entry.case.channel in BORN_DIGITAL_CHANNELS else "纸质移交扫描"


def transfer_export_rows(transfer: TransferList) -> Iterator[tuple]:
    sections = transfer_entries(transfer)
    for index, entry in enumerate(sections.paper + sections.born_digital, start=1):
        yield (
            index,
            _section_label(entry),
            entry.case.number,
            entry.case.get_case_type_display(),
            entry.case.get_channel_display(),
            entry.archive.enterprise_name,
            entry.archive.archival_code,
            entry.expected_items,
            entry.present_items,
            entry.pages,
            "、".join(entry.missing),
            "" if entry.returned_items is None else entry.returned_items,
            entry.return_note,
        )


def transfer_workbook(transfer: TransferList):
    """The list as a workbook: a header block, the entries, and the signature lines."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from bizreg.core.excel import safe_cell

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = transfer.number[:31]
    sheet.append([f"档案移交清单 {transfer.number}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["登记机关", transfer.authority.name, "状态", transfer.get_state_display()])
    sheet.append(["说明", safe_cell(transfer.title), "扫描加工单位", safe_cell(transfer.contractor)])
    sheet.append([])
    sheet.append(list(EXPORT_HEADERS))
    red = Font(color="FFC00000")
    for row in transfer_export_rows(transfer):
        sheet.append([safe_cell(v) for v in row])
        if row[10]:
            sheet.cell(row=sheet.max_row, column=11).font = red
    sheet.append([])
    for label in (
        "移交人（签字）：",
        "确认人（签字）：",
        "接收人（扫描加工单位，签字）：",
        "清点人（签字）：",
    ):
        sheet.append([label, "", "日期：", ""])
    widths = (6, 14, 20, 10, 10, 30, 30, 9, 9, 7, 40, 9, 24)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    return workbook


def transfer_pdf(transfer: TransferList) -> bytes:
    sections = transfer_entries(transfer)
    blocks: list = [
        pdf.KeyValues(
            (
                ("登记机关", transfer.authority.name),
                ("状态", transfer.get_state_display()),
                ("说明", transfer.title or "—"),
                ("扫描加工单位", transfer.contractor or "—"),
                ("业务件数", f"{len(sections.paper)}（纸质） + {len(sections.born_digital)}（电子原生）"),
            )
        )
    ]
    header = ("序号", "业务编号", "企业名称", "应有/实有", "页数", "缺失材料", "返还")

    def rows(entries: list[TransferEntry]) -> tuple[tuple[str, ...], ...]:
        return (header,) + tuple(
            (
                str(i),
                e.case.number,
                e.archive.enterprise_name,
                f"{e.expected_items}/{e.present_items}",
                str(e.pages),
                "、".join(e.missing) or "—",
                "" if e.returned_items is None else str(e.returned_items),
            )
            for i, e in enumerate(entries, start=1)
        )

    widths = (9, 43, 34, 16, 10, 30, 14)
    blocks.append(pdf.Heading("一、纸质档案（移交扫描）"))
    blocks.append(pdf.TableBlock(rows(sections.paper), col_widths_mm=widths))
    if sections.born_digital:
        blocks.append(pdf.Heading("二、电子原生档案（直接入电子档案库，不扫描）"))
        blocks.append(pdf.TableBlock(rows(sections.born_digital), col_widths_mm=widths))
    blocks.append(pdf.Gap(8))
    blocks.append(
        pdf.TableBlock(
            (*((f"{label}（签字）", "", "日期", "") for label in SIGNATURE_LINES),),
            header=False,
            col_widths_mm=(36, 58, 18, 44),
        )
    )
    spec = pdf.DocumentSpec(
        title="档案移交清单",
        number=transfer.number,
        created_at=transfer.created_at or timezone.now(),
        blocks=blocks,
        author=transfer.authority.name,
        subject=f"移交清单 {transfer.number}",
    )
    return pdf.render_pdf(spec)
