"""Reads of licence stock: levels and reorder warnings, batches, the sheet ledger (scoped by authority)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from bizreg.core.dates import on_local_days
from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.registration.models import (
    LicenceBatch,
    LicenceKind,
    LicenceSheet,
    LicenceStockSetting,
    RegistrationCase,
)
from bizreg.registration.services.licences import default_reorder_level, with_spoilable

PAGE_SIZE = 50


@dataclass(frozen=True)
class StockLevel:
    authority: Authority
    kind: str
    kind_label: str
    blank: int
    printed: int
    spoiled: int
    voided: int
    reorder_level: int

    @property
    def received(self) -> int:
        return self.blank + self.printed + self.spoiled + self.voided

    @property
    def below_reorder_level(self) -> bool:
        return self.blank < self.reorder_level


def _authorities(user) -> list[Authority]:
    if getattr(user, "is_superuser", False):
        return list(Authority.objects.filter(is_active=True).order_by("code"))
    return list(Authority.objects.filter(pk__in=authority_ids_for(user)).order_by("code"))


def _counts_and_levels(authority_ids: list[int]) -> tuple[dict, dict]:
    """{(authority_id, kind): {status: n}} and {(authority_id, kind): reorder level} — two queries."""
    counts: dict[tuple[int, str], dict[str, int]] = {}
    rows = (
        LicenceSheet.objects.filter(authority_id__in=authority_ids)
        .order_by()
        .values("authority_id", "kind", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts.setdefault((row["authority_id"], row["kind"]), {})[row["status"]] = row["n"]
    levels = {
        (s.authority_id, s.kind): s.reorder_level
        for s in LicenceStockSetting.objects.filter(authority_id__in=authority_ids).only(
            "authority_id", "kind", "reorder_level"
        )
    }
    return counts, levels


def stock_levels(*, user) -> list[StockLevel]:
    """Sheets by status for each of the user's authorities and each kind, with the reorder level."""
    authorities = _authorities(user)
    counts, levels = _counts_and_levels([a.pk for a in authorities])
    default = default_reorder_level()
    result = []
    for authority in authorities:
        for kind, label in LicenceKind.choices:
            by_status = counts.get((authority.pk, kind), {})
            result.append(
                StockLevel(
                    authority=authority,
                    kind=kind,
                    kind_label=str(label),
                    blank=by_status.get(LicenceSheet.Status.BLANK, 0),
                    printed=by_status.get(LicenceSheet.Status.PRINTED, 0),
                    spoiled=by_status.get(LicenceSheet.Status.SPOILED, 0),
                    voided=by_status.get(LicenceSheet.Status.VOIDED, 0),
                    reorder_level=levels.get((authority.pk, kind), default),
                )
            )
    return result


def stock_warnings(*, user) -> list[StockLevel]:
    return [level for level in stock_levels(user=user) if level.below_reorder_level]


def home_figures(*, user) -> list[dict]:
    """Blank sheets left of each kind, for the clerk's home page, with the reorder warning as a note.

    Two queries: the user's authority ids are already known (scoping caches them on the user).
    """
    if getattr(user, "is_superuser", False):
        ids = list(Authority.objects.filter(is_active=True).values_list("id", flat=True))
    else:
        ids = authority_ids_for(user)
    counts, levels = _counts_and_levels(ids)
    default = default_reorder_level()
    figures = []
    for kind, label in LicenceKind.choices:
        blank = 0
        low_levels = []
        for authority_id in ids:
            left = counts.get((authority_id, kind), {}).get(LicenceSheet.Status.BLANK, 0)
            level = levels.get((authority_id, kind), default)
            blank += left
            if left < level:
                low_levels.append(level)
        note = _("张")
        if low_levels:
            note = _("张 · 低于补货预警线 %(level)d 张，请及时补货") % {"level": min(low_levels)}
        figures.append(
            {
                "key": f"licence_blank_{kind}",
                "label": _("执照空白纸（%(kind)s）") % {"kind": label},
                "value": blank,
                "note": note,
                "url": "/registration/licences/",
            }
        )
    return figures


def batches_visible_to(user) -> QuerySet[LicenceBatch]:
    return scope_to_user(LicenceBatch.objects.select_related("authority", "received_by"), user).annotate(
        sheet_count=Count("sheets"),
        blank_count=Count("sheets", filter=Q(sheets__status=LicenceSheet.Status.BLANK)),
    )


def sheets_visible_to(user) -> QuerySet[LicenceSheet]:
    return scope_to_user(
        LicenceSheet.objects.select_related("batch", "case", "used_by", "retired_by", "replaced_by"), user
    )


def sheet_for(*, user, pk: Any) -> LicenceSheet:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该执照纸。")) from None
    sheet = sheets_visible_to(user).filter(pk=pk).first()
    if sheet is None:
        raise Http404(_("没有找到该执照纸。"))
    return sheet


def sheets_for_case(*, user, case: RegistrationCase) -> list[LicenceSheet]:
    return list(with_spoilable(sheets_visible_to(user).filter(case=case)).order_by("kind", "used_at", "id"))


def sheet_search(*, user, filters: Mapping[str, Any]) -> QuerySet[LicenceSheet]:
    """The ledger filtered by a cleaned SheetFilterForm; serial order (the order sheets are used in)."""
    qs = sheets_visible_to(user)
    term = (filters.get("q") or "").strip()
    if term:
        qs = qs.filter(
            Q(serial__icontains=term)
            | Q(case__number__icontains=term)
            | Q(case__enterprise_name__icontains=term)
        )
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    qs = qs.filter(on_local_days("used_at", filters.get("date_from"), filters.get("date_to")))
    return qs.order_by("authority_id", "kind", "number", "id")


def sheet_export_rows(sheets: QuerySet[LicenceSheet]) -> Iterator[tuple]:
    """One tuple per sheet of the ledger export, streamed as plain values: a year's ledger is 80k+ sheets,
    and six related objects per sheet would double the export's time."""
    kinds = {value: str(label) for value, label in LicenceKind.choices}
    statuses = {value: str(label) for value, label in LicenceSheet.Status.choices}
    values = sheets.values_list(
        "authority__name",
        "serial",
        "kind",
        "status",
        "batch__received_on",
        "batch__supplier",
        "batch__unit_cost",
        "case__number",
        "case__enterprise_name",
        "used_at",
        "used_by__display_name",
        "used_by__username",
        "reason",
        "retired_at",
        "retired_by__display_name",
        "retired_by__username",
        "replaced_by__serial",
    )
    for (
        authority,
        serial,
        kind,
        status,
        received_on,
        supplier,
        unit_cost,
        case_number,
        enterprise_name,
        used_at,
        used_by_name,
        used_by_username,
        reason,
        retired_at,
        retired_by_name,
        retired_by_username,
        replacement,
    ) in values.iterator(chunk_size=5000):
        yield (
            authority,
            serial,
            kinds.get(kind, kind),
            statuses.get(status, status),
            received_on,
            supplier,
            unit_cost,
            case_number or "",
            enterprise_name or "",
            used_at,
            used_by_name or used_by_username or "",
            reason,
            retired_at,
            retired_by_name or retired_by_username or "",
            replacement or "",
        )


def sheet_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    """A page of the ledger, each sheet with `can_spoil` (whether 打印损坏 is still offered)."""
    return Paginator(with_spoilable(sheet_search(user=user, filters=filters)), PAGE_SIZE).get_page(page)


def case_printable_for(*, user, pk: Any) -> RegistrationCase:
    """A case of the user's authorities (for printing from the licence pages); 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该业务。")) from None
    case = (
        scope_to_user(RegistrationCase.objects.select_related("authority", "enterprise"), user)
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404(_("没有找到该业务。"))
    return case
