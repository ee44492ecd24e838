"""Moved-out and moved-in archives (迁出/迁入档案): the transfer letter that goes with a folder leaving for
another authority, opening the folder of an enterprise that moved here, and merging a moved-in folder into
the receiving archive."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from bizreg.archives.models import (
    ArchiveEvent,
    ArchiveFile,
    ArchiveStatus,
    DocType,
    ItemSource,
)
from bizreg.archives.services.events import apply_transition, record_event
from bizreg.archives.services.records import archive_open, item_add, item_code
from bizreg.archives.services.search_index import search_index_item
from bizreg.archives.workflows import ARCHIVE
from bizreg.core import pdf
from bizreg.core.identifiers import validate_uscc
from bizreg.core.models import Authority


def _locked(archive: ArchiveFile) -> ArchiveFile:
    return ArchiveFile.objects.select_for_update().select_related("authority").get(pk=archive.pk)


def archive_move_out(
    *, archive: ArchiveFile, actor, destination: str, reason: str
) -> tuple[ArchiveFile, bytes]:
    """The enterprise moved to `destination`: its folder leaves the shelf with a 档案移交函 (returned)."""
    destination, reason = (destination or "").strip(), (reason or "").strip()
    errors = {}
    if not destination:
        errors["destination"] = ["请填写迁往的登记机关。"]
    if not reason:
        errors["reason"] = ["请填写迁出依据（如迁移调档函文号）。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        archive = _locked(archive)
        apply_transition(
            machine=ARCHIVE,
            obj=archive,
            action="move_out",
            actor=actor,
            field="status",
            reason=f"迁往 {destination}；{reason}",
        )
        archive.moved_out_to = destination[:100]
        archive.location = None  # the paper has left the building
        archive._history_user = actor
        archive.save()
    return archive, move_out_letter_pdf(archive)


def move_out_letter_pdf(archive: ArchiveFile) -> bytes:
    """The 档案移交函 of a moved-out archive, dated by its move-out event, so re-rendering gives the same
    bytes as the letter handed out."""
    event = (
        ArchiveEvent.objects.filter(object_type="archivefile", object_id=archive.pk, action="move_out")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if archive.status != ArchiveStatus.MOVED_OUT or event is None:
        raise ValidationError("该档案未迁出，没有档案移交函。")
    items = list(archive.items.order_by("item_number"))
    pages = sum(i.pages for i in items)
    authority = archive.authority
    rows = (("序号", "档号", "题名", "日期", "页数"),) + tuple(
        (
            str(n),
            i.archival_code,
            i.title,
            i.doc_date.isoformat() if i.doc_date else "",
            str(i.pages),
        )
        for n, i in enumerate(items, start=1)
    )
    spec = pdf.DocumentSpec(
        title="档案移交函",
        number=f"档号 {archive.archival_code}",
        addressee=f"{archive.moved_out_to}：",
        created_at=event.occurred_at,
        blocks=[
            pdf.Text(
                f"{archive.enterprise_name}已办理迁出登记，迁往贵机关管辖。现将该企业的登记档案移交贵机关，"
                f"共 {len(items)} 件 {pages} 页，清单如下。请核收后在回执上签章退回我局。"
            ),
            pdf.KeyValues(
                (
                    ("企业名称", archive.enterprise_name),
                    ("统一社会信用代码", archive.uscc or "—"),
                    ("档号", archive.archival_code),
                    ("迁出依据", event.reason or "—"),
                )
            ),
            pdf.TableBlock(rows, col_widths_mm=(12, 62, 54, 24, 14)),
            pdf.Gap(6),
            pdf.TableBlock(
                (("移交人（签字）", "", "接收人（签字）", ""), ("日期", "", "日期", "")),
                header=False,
                col_widths_mm=(32, 46, 32, 46),
            ),
        ],
        signature=pdf.Signature(authority.name, pdf.chinese_date(event.occurred_at, hanzi=True)),
        author=authority.name,
        subject=f"档案移交函 {archive.archival_code}",
        keywords=(archive.archival_code, archive.enterprise_name),
    )
    return pdf.render_pdf(spec)


def _parse_item(index: int, raw: dict[str, Any]) -> dict[str, Any]:
    label = f"第 {index} 件"
    title = str(raw.get("title") or "").strip()
    doc_type = raw.get("doc_type") or DocType.OTHER
    if not title:
        raise ValidationError({"items": [f"{label}：请填写题名。"]})
    if doc_type not in DocType.values:
        raise ValidationError({"items": [f"{label}：文件类型无效。"]})
    doc_date = raw.get("doc_date")
    if isinstance(doc_date, str):
        try:
            doc_date = dt.date.fromisoformat(doc_date) if doc_date.strip() else None
        except ValueError:
            raise ValidationError(
                {"items": [f"{label}：日期“{doc_date}”无效（应为 YYYY-MM-DD）。"]}
            ) from None
    try:
        pages = int(raw.get("pages") or 0)
    except (TypeError, ValueError):
        raise ValidationError({"items": [f"{label}：页数应为整数。"]}) from None
    if pages < 0:
        raise ValidationError({"items": [f"{label}：页数不能为负数。"]})
    return {
        "doc_type": doc_type,
        "title": title,
        "doc_date": doc_date,
        "pages": pages,
        "doc_number": str(raw.get("doc_number") or ""),
        "responsible_party": str(raw.get("responsible_party") or ""),
    }


def archive_move_in(
    *,
    authority: Authority,
    actor,
    enterprise_name: str,
    uscc: str,
    moved_in_from: str,
    year: int,
    items: list[dict],
) -> ArchiveFile:
    """Open the archive of a folder received from another authority, with its listed items (来源：迁入).

    When the enterprise is on the register here and already has an archive, the moved-in folder gets its
    own archive, unlinked, to be merged into that one (archive_merge) once checked."""
    if not actor.has_perm("archives.move_archive"):
        raise PermissionDenied("您的角色无权办理档案迁入。")
    errors: dict[str, list[str]] = {}
    if not (moved_in_from or "").strip():
        errors["moved_in_from"] = ["请填写原登记机关。"]
    try:
        uscc = validate_uscc(uscc)
    except ValidationError as exc:
        errors["uscc"] = exc.messages
    if not items:
        errors["items"] = ["请至少登记一件随档移交的档案材料。"]
    if errors:
        raise ValidationError(errors)
    parsed = [_parse_item(n, raw) for n, raw in enumerate(items, start=1)]
    from bizreg.enterprises.selectors import enterprises_visible_to

    enterprise = enterprises_visible_to(actor).filter(authority=authority, uscc=uscc).first()
    if enterprise is not None and enterprise.archive_files.filter(merged_into__isnull=True).exists():
        enterprise = None
    with transaction.atomic():
        archive = archive_open(
            authority=authority,
            actor=actor,
            enterprise=enterprise,
            enterprise_name=enterprise_name,
            uscc=uscc,
            year=year,
            moved_in_from=moved_in_from.strip(),
            reason=f"迁入自 {moved_in_from.strip()}",
        )
        for fields in parsed:
            item = item_add(archive=archive, actor=actor, source=ItemSource.MOVED_IN, **fields)
            search_index_item(item=item)
    return archive


def archive_merge(*, source: ArchiveFile, target: ArchiveFile, actor, reason: str) -> ArchiveFile:
    """Move every item of `source` into `target` (renumbered after the target's last 件号, their 档号
    rewritten, their history kept); `source` is closed as merged into `target`. Returns the target."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写合并理由。"]})
    if source.pk == target.pk:
        raise ValidationError({"target": ["不能把档案合并到它自己。"]})
    with transaction.atomic():
        # Lock in id order so two merges of the same pair in opposite directions cannot deadlock.
        first, second = sorted((source.pk, target.pk))
        locked = {
            a.pk: a
            for a in ArchiveFile.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.authority_id != target.authority_id:
            raise ValidationError({"target": ["不能合并其他登记机关的档案。"]})
        if target.status == ArchiveStatus.MOVED_OUT or target.merged_into_id:
            raise ValidationError(
                {"target": [f"接收档案 {target.archival_code} 已迁出或已合并，不能再并入。"]}
            )
        if source.uscc and target.uscc and source.uscc != target.uscc:
            raise ValidationError(
                {"target": [f"统一社会信用代码不一致（{source.uscc} / {target.uscc}），不能合并。"]}
            )
        if source.enterprise_id and target.enterprise_id and source.enterprise_id != target.enterprise_id:
            raise ValidationError({"target": ["两份档案属于登记簿上的不同企业，不能合并。"]})
        moved = list(source.items.order_by("item_number"))
        apply_transition(
            machine=ARCHIVE,
            obj=source,
            action="merge",
            actor=actor,
            field="status",
            reason=f"并入 {target.archival_code}；{reason}",
        )
        # A target opened without the register's data takes it from the archive merged into it.
        filled = False
        if not target.uscc and source.uscc:
            target.uscc, filled = source.uscc, True
        if not target.enterprise_id and source.enterprise_id:
            target.enterprise_id, filled = source.enterprise_id, True
        if filled:
            target._history_user = actor
            target.save()
        next_number = (target.items.aggregate(n=Max("item_number"))["n"] or 0) + 1
        renamed = []
        for offset, item in enumerate(moved):
            old_code = item.archival_code
            item.archive = target
            item.item_number = next_number + offset
            item.archival_code = item_code(target, item.item_number)
            item._history_user = actor
            item._change_reason = f"由 {old_code} 并入 {target.archival_code}"
            item.save()
            search_index_item(item=item)  # its 档号 changed
            renamed.append(f"{old_code}→{item.item_number:04d}")
        source.merged_into = target
        source.location = None  # the folder's papers now stand in the target's folder
        source._history_user = actor
        source.save()
        record_event(
            obj=target,
            action="merge_in",
            actor=actor,
            reason=f"并入 {source.archival_code} 的 {len(moved)} 件（{'，'.join(renamed)}）；{reason}",
        )
    return target
