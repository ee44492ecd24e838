"""Reads of archive files, items and shelf locations, scoped by the user's authorities; controlled items
hidden from users without archives.view_controlled_items; the archive list's Excel export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from bizreg.archives.models import (
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    Classification,
    OpenStatus,
    ScanPage,
    ShelfLocation,
)
from bizreg.archives.workflows import ARCHIVE
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.core.statemachine import Transition

PAGE_SIZE = 30
CONTROLLED_PERMISSION = "archives.view_controlled_items"
# Lending and returning happen on the borrowing pages, merging has its own form.
_DETAIL_ACTIONS = ("shelve", "relocate", "move_out", "merge")

# Items only bureau staff with the permission may see: 控制 items and 内部 ones.
CONTROLLED = Q(open_status=OpenStatus.CONTROLLED) | Q(classification=Classification.INTERNAL)


def archives_visible_to(user) -> QuerySet[ArchiveFile]:
    return scope_to_user(ArchiveFile.objects.all(), user)


def archive_for(*, user, pk: Any) -> ArchiveFile:
    """The archive if the user may see it; 404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("没有找到该档案。") from None
    archive = (
        archives_visible_to(user)
        .select_related("authority", "enterprise", "location", "merged_into")
        .filter(pk=pk)
        .first()
    )
    if archive is None:
        raise Http404("没有找到该档案。")
    return archive


def _truthy(value: Any) -> bool | None:
    if value in (True, "1", "true", "yes", "on"):
        return True
    if value in (False, "0", "false", "no"):
        return False
    return None


def archive_search(*, user, filters: Mapping[str, Any]) -> QuerySet[ArchiveFile]:
    qs = archives_visible_to(user).select_related("enterprise", "location", "merged_into")
    term = (filters.get("q") or "").strip()
    if term:
        upper = term.upper()
        qs = qs.filter(
            Q(enterprise_name__icontains=term)
            | Q(uscc__startswith=upper)
            | Q(archival_code__startswith=term)
            | Q(archival_code__startswith=upper)
        )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("year"):
        qs = qs.filter(year=filters["year"])
    if filters.get("location"):
        location = filters["location"]
        qs = qs.filter(location_id=getattr(location, "pk", location))
    for level in ("repository", "zone", "column"):  # down the shelving hierarchy
        if filters.get(level):
            qs = qs.filter(**{f"location__{level}": filters[level]})
    ftz = _truthy(filters.get("in_ftz"))
    if ftz is not None:
        # The 自贸区 tag belongs to the register: read through the enterprise, never copied here.
        qs = qs.filter(enterprise__in_ftz=True) if ftz else qs.exclude(enterprise__in_ftz=True)
    moved = filters.get("moved")
    if moved == "out":
        qs = qs.filter(status=ArchiveStatus.MOVED_OUT, merged_into__isnull=True)
    elif moved == "in":
        qs = qs.exclude(moved_in_from="")
    elif moved == "any":
        qs = qs.filter(Q(status=ArchiveStatus.MOVED_OUT) | ~Q(moved_in_from=""))
    elif moved == "merged":
        qs = qs.filter(merged_into__isnull=False)
    # A count per listed archive, not a GROUP BY over the whole register: the page walks the
    # (authority, year, archival code) index and counts the items of its own rows only.
    item_count = (
        ArchiveItem.objects.filter(archive=OuterRef("pk"))
        .order_by()
        .values("archive")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(item_count=Coalesce(Subquery(item_count), 0)).order_by("-year", "archival_code")


def archive_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    return Paginator(archive_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


EXPORT_HEADERS = (
    "档号",
    "企业名称",
    "统一社会信用代码",
    "年度",
    "保管期限",
    "状态",
    "库位",
    "件数",
    "自贸区",
    "迁入自",
    "迁往",
    "已合并至",
)


def archive_export_rows(*, user, filters: Mapping[str, Any]) -> Iterator[tuple]:
    for a in archive_search(user=user, filters=filters).iterator(chunk_size=500):
        yield (
            a.archival_code,
            a.enterprise_name,
            a.uscc,
            a.year,
            a.get_retention_display(),
            a.get_status_display(),
            a.location.label if a.location_id else "",
            a.item_count,
            "是" if a.enterprise_id and a.enterprise.in_ftz else "",
            a.moved_in_from,
            a.moved_out_to,
            a.merged_into.archival_code if a.merged_into_id else "",
        )


def items_visible(*, user, archive: ArchiveFile) -> QuerySet[ArchiveItem]:
    qs = archive.items.select_related("case").order_by("item_number")
    if not user.has_perm(CONTROLLED_PERMISSION):
        qs = qs.exclude(CONTROLLED)
    return qs


def hidden_item_count(*, user, archive: ArchiveFile) -> int:
    if user.has_perm(CONTROLLED_PERMISSION):
        return 0
    return archive.items.filter(CONTROLLED).count()


def scan_pages_in_order(item_ids: Iterable[int]) -> QuerySet[ScanPage]:
    """The scanned pages of the items as their searchable PDFs hold them (processed, not blank, by batch
    then scan order): page N here is page N of the item's PDF and the page a search hit opens."""
    return (
        ScanPage.objects.filter(item_id__in=list(item_ids))
        .exclude(processed="")
        .exclude(is_blank=True)
        .order_by("item_id", "batch_id", "sequence")
    )


def item_scan_page(item: ArchiveItem, number: int) -> ScanPage | None:
    """Page `number` (1-based) of the item's scanned pages, or None."""
    if number < 1:
        return None
    return scan_pages_in_order([item.pk])[number - 1 : number].first()


def item_for(*, user, pk: Any) -> ArchiveItem:
    """The item if the user may see its archive and, for a controlled item, has the permission."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("没有找到该档案件。") from None
    qs = ArchiveItem.objects.filter(pk=pk, archive__in=archives_visible_to(user).values("pk")).select_related(
        "archive", "archive__enterprise", "archive__authority", "case"
    )
    if not user.has_perm(CONTROLLED_PERMISSION):
        qs = qs.exclude(CONTROLLED)
    item = qs.first()
    if item is None:
        raise Http404("没有找到该档案件。")
    return item


@dataclass
class ItemGroup:
    """The items of one registration case (or of none: moved-in and loose papers)."""

    case_number: str
    case_id: int | None
    case_visible: bool
    items: list[ArchiveItem] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(i.pages for i in self.items)


def item_groups(*, user, archive: ArchiveFile) -> list[ItemGroup]:
    """Items grouped by registration case in order of first appearance; the case number links to the
    case page only when the user may see that case."""
    may_see_cases = user.has_perm("registration.view_registrationcase")
    own = set(authority_ids_for(user))
    groups: dict[str, ItemGroup] = {}
    for item in items_visible(user=user, archive=archive):
        key = item.case_number or ""
        group = groups.get(key)
        if group is None:
            case = item.case
            visible = bool(
                case is not None and may_see_cases and (user.is_superuser or case.authority_id in own)
            )
            group = groups[key] = ItemGroup(
                case_number=key, case_id=case.pk if case else None, case_visible=visible
            )
        group.items.append(item)
    return list(groups.values())


EVENT_LABELS = {
    "open": "建档",
    "add_item": "添加档案件",
    "describe_item": "修改著录",
    "public_notice_upload": "上传商事公示材料",
    "born_digital_ingest": "电子原生文件入库",
    "store_file": "电子文件入库",
    "flag_item": "问题标记",
    "clear_flag": "解除标记",
    "merge_in": "并入档案",
}


def archive_events(*, user, archive: ArchiveFile) -> list:
    """The archive's event trail; for a user who may not see controlled items, the reasons naming one
    (their 档号 and title) are masked."""
    from bizreg.archives.selectors.events import labelled_events

    events = labelled_events(archive, machine=ARCHIVE, labels=EVENT_LABELS)
    if user.has_perm(CONTROLLED_PERMISSION):
        return events
    hidden = list(archive.items.filter(CONTROLLED).values_list("archival_code", flat=True))
    for event in events:
        if any(code in event.reason for code in hidden):
            event.reason = "（涉及控制使用的档案件，内容不显示）"
    return events


def archive_actions(*, archive: ArchiveFile, user) -> list[Transition]:
    if archive.merged_into_id:
        return []
    return [t for t in ARCHIVE.available(state=archive.status, user=user) if t.action in _DETAIL_ACTIONS]


# --- shelf locations ------------------------------------------------------------------------------------


def shelves_visible_to(user) -> QuerySet[ShelfLocation]:
    return scope_to_user(ShelfLocation.objects.all(), user)


def shelf_list(*, user, include_inactive: bool = True, repository: str = "") -> QuerySet[ShelfLocation]:
    """Shelf layers with their occupancy (folders standing on them)."""
    qs = shelves_visible_to(user).annotate(occupied=Count("archives"))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if repository:
        qs = qs.filter(repository=repository)
    return qs.order_by("repository", "zone", "column", "section", "layer")


def shelf_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    qs = shelf_list(
        user=user,
        include_inactive=not filters.get("active_only"),
        repository=(filters.get("repository") or "").strip(),
    )
    return Paginator(qs, 50).get_page(page)


def shelf_for(*, user, pk: Any) -> ShelfLocation:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("没有找到该库位。") from None
    shelf = shelves_visible_to(user).filter(pk=pk).first()
    if shelf is None:
        raise Http404("没有找到该库位。")
    return shelf


def shelf_choices(*, archive: ArchiveFile) -> QuerySet[ShelfLocation]:
    """Active layers of the archive's authority with room left, for the shelve form."""
    return (
        ShelfLocation.objects.filter(authority_id=archive.authority_id, is_active=True)
        .annotate(occupied=Count("archives"))
        .exclude(pk=archive.location_id or 0)
        .filter(occupied__lt=F("capacity"))
        .order_by("repository", "zone", "column", "section", "layer")
    )


def merge_targets(*, user, source: ArchiveFile) -> QuerySet[ArchiveFile]:
    """Archives `source` may be merged into: same authority, open, the same USCC (or none)."""
    qs = (
        archives_visible_to(user)
        .filter(authority_id=source.authority_id, merged_into__isnull=True)
        .exclude(status=ArchiveStatus.MOVED_OUT)
        .exclude(pk=source.pk)
    )
    if source.uscc:
        qs = qs.filter(Q(uscc=source.uscc) | Q(uscc=""))
    return qs.order_by("archival_code")
