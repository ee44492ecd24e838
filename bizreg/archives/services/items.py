"""Describing items (著录): editing an item's description, and clearing the flags the checks put on it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from bizreg.archives.models import ArchiveItem, Classification, OpenStatus
from bizreg.archives.services.events import record_event
from bizreg.archives.services.search_index import search_index_item

DESCRIPTION_FIELDS = (
    "title",
    "responsible_party",
    "doc_date",
    "doc_number",
    "pages",
    "classification",
    "open_status",
    "keywords",
)
_MAX_LENGTH = {"title": 300, "responsible_party": 200, "doc_number": 60, "keywords": 200}
_MAX_PAGES = 100_000


def _clean(fields: dict) -> dict:
    unknown = set(fields) - set(DESCRIPTION_FIELDS)
    if unknown:
        raise ValueError(f"not description fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    data = dict(fields)
    for name, limit in _MAX_LENGTH.items():
        if name in data:
            data[name] = (data[name] or "").strip()
            if len(data[name]) > limit:
                errors[name] = [f"不能超过 {limit} 个字。"]
    if "title" in data and not data["title"]:
        errors["title"] = ["请填写题名。"]
    if "pages" in data and (data["pages"] is None or not 0 <= data["pages"] <= _MAX_PAGES):
        errors["pages"] = [f"页数应在 0 至 {_MAX_PAGES} 之间。"]
    if "doc_date" in data and data["doc_date"] and data["doc_date"] > dt.date.today():
        errors["doc_date"] = ["日期不能晚于今天。"]
    if "classification" in data and data["classification"] not in Classification.values:
        errors["classification"] = ["密级无效。"]
    if "open_status" in data and data["open_status"] not in OpenStatus.values:
        errors["open_status"] = ["开放标识无效。"]
    if errors:
        raise ValidationError(errors)
    return data


def item_describe(*, item: ArchiveItem, actor, reason: str = "", **fields) -> ArchiveItem:
    """Change the item's description (著录项). Each change is a history row and an event on its archive."""
    if not actor.has_perm("archives.change_archiveitem"):
        raise PermissionDenied("您的角色无权修改著录信息。")
    data = _clean(fields)
    with transaction.atomic():
        item = ArchiveItem.objects.select_for_update().select_related("archive").get(pk=item.pk)
        changed = [name for name, value in data.items() if getattr(item, name) != value]
        if not changed:
            return item
        for name in changed:
            setattr(item, name, data[name])
        labels = "、".join(str(ArchiveItem._meta.get_field(name).verbose_name) for name in changed)
        item._history_user = actor
        item._change_reason = reason[:100] if reason else f"修改著录：{labels}"
        item.save()
        search_index_item(item=item)
        record_event(
            obj=item.archive,
            action="describe_item",
            actor=actor,
            reason=f"{item.archival_code} 修改 {labels}" + (f"；{reason}" if reason else ""),
        )
    return item


def item_flag_clear(*, item: ArchiveItem, actor, code: str, reason: str) -> ArchiveItem:
    """An archivist has checked a flagged item and clears the flag, saying why (kept in the history)."""
    if not actor.has_perm("archives.change_archivefile"):
        raise PermissionDenied("仅档案人员可以解除问题标记。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写解除标记的理由。"]})
    with transaction.atomic():
        item = ArchiveItem.objects.select_for_update().select_related("archive").get(pk=item.pk)
        remaining = [f for f in item.flags if f.get("code") != code]
        if len(remaining) == len(item.flags):
            raise ValidationError({"code": ["该档案件没有这个问题标记。"]})
        cleared = [f.get("message", code) for f in item.flags if f.get("code") == code]
        item.flags = remaining
        item._history_user = actor
        item._change_reason = f"解除标记 {code}：{reason}"[:100]
        item.save()
        record_event(
            obj=item.archive,
            action="clear_flag",
            actor=actor,
            reason=f"{item.archival_code} 解除“{'；'.join(cleared)}”：{reason}",
        )
    return item
