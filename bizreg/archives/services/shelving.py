"""Shelf locations (库房-区-列-节-层) and putting archive folders on them (上架/调整库位)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.archives.models import ArchiveFile, ArchiveStatus, ShelfLocation
from bizreg.archives.services.events import apply_transition, record_event
from bizreg.archives.workflows import ARCHIVE
from bizreg.core.models import Authority

_POSITION_FIELDS = ("repository", "zone", "column", "section", "layer")
MAX_CAPACITY = 10_000


def _require(actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied("您的角色无权管理库位。")


def shelf_occupancy(location: ShelfLocation) -> int:
    """Folders standing on the layer now (moved-out and merged folders have left it)."""
    return ArchiveFile.objects.filter(location=location).count()


def _clean_position(
    *, repository: str, zone: str, column: int, section: int, layer: int, capacity: int
) -> dict:
    errors: dict[str, list[str]] = {}
    repository, zone = (repository or "").strip(), (zone or "").strip().upper()
    if not repository:
        errors["repository"] = ["请填写库房。"]
    if not zone:
        errors["zone"] = ["请填写区。"]
    for name, value in (("column", column), ("section", section), ("layer", layer)):
        if value is None or value < 1:
            errors[name] = ["应为不小于 1 的整数。"]
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = [f"容量应在 1 至 {MAX_CAPACITY} 卷之间。"]
    if errors:
        raise ValidationError(errors)
    return {
        "repository": repository[:30],
        "zone": zone[:10],
        "column": column,
        "section": section,
        "layer": layer,
        "capacity": capacity,
    }


def _duplicate_error(data: dict) -> ValidationError:
    label = ShelfLocation(**{k: data[k] for k in _POSITION_FIELDS}).label
    return ValidationError({"__all__": [f"库位 {label} 已存在，不能重复登记。"]})


def shelf_create(
    *,
    authority: Authority,
    actor,
    repository: str,
    zone: str,
    column: int,
    section: int,
    layer: int,
    capacity: int = 60,
) -> ShelfLocation:
    _require(actor, "archives.add_shelflocation")
    data = _clean_position(
        repository=repository, zone=zone, column=column, section=section, layer=layer, capacity=capacity
    )
    if ShelfLocation.objects.filter(authority=authority, **{k: data[k] for k in _POSITION_FIELDS}).exists():
        raise _duplicate_error(data)
    try:
        with transaction.atomic():
            shelf = ShelfLocation.objects.create(authority=authority, **data)
            record_event(obj=shelf, action="create", actor=actor, reason=shelf.label)
    except IntegrityError:  # a colleague registered the same layer a moment ago
        raise _duplicate_error(data) from None
    return shelf


def shelf_update(
    *,
    shelf: ShelfLocation,
    actor,
    repository: str,
    zone: str,
    column: int,
    section: int,
    layer: int,
    capacity: int,
) -> ShelfLocation:
    _require(actor, "archives.change_shelflocation")
    data = _clean_position(
        repository=repository, zone=zone, column=column, section=section, layer=layer, capacity=capacity
    )
    try:
        with transaction.atomic():
            shelf = ShelfLocation.objects.select_for_update().get(pk=shelf.pk)
            clash = (
                ShelfLocation.objects.filter(
                    authority_id=shelf.authority_id, **{k: data[k] for k in _POSITION_FIELDS}
                )
                .exclude(pk=shelf.pk)
                .exists()
            )
            if clash:
                raise _duplicate_error(data)
            occupied = shelf_occupancy(shelf)
            if data["capacity"] < occupied:
                raise ValidationError(
                    {"capacity": [f"该库位现有 {occupied} 卷档案，容量不能小于 {occupied}。"]}
                )
            before = shelf.label
            for name, value in data.items():
                setattr(shelf, name, value)
            shelf.save()
            record_event(obj=shelf, action="update", actor=actor, reason=f"{before} → {shelf.label}")
    except IntegrityError:
        raise _duplicate_error(data) from None
    return shelf


def shelf_set_active(*, shelf: ShelfLocation, actor, active: bool, reason: str = "") -> ShelfLocation:
    """Deactivate a layer (no more folders go on it) or bring it back. A layer still holding folders
    cannot be deactivated: they would stand on a place that no longer exists."""
    _require(actor, "archives.change_shelflocation")
    with transaction.atomic():
        shelf = ShelfLocation.objects.select_for_update().get(pk=shelf.pk)
        if shelf.is_active == active:
            return shelf
        if not active:
            occupied = shelf_occupancy(shelf)
            if occupied:
                raise ValidationError(
                    {"__all__": [f"库位 {shelf.label} 上还有 {occupied} 卷档案，请先调整库位再停用。"]}
                )
        shelf.is_active = active
        shelf.save(update_fields=["is_active", "updated_at"])
        record_event(obj=shelf, action="activate" if active else "deactivate", actor=actor, reason=reason)
    return shelf


def archive_shelve(*, archive: ArchiveFile, location: ShelfLocation, actor, reason: str = "") -> ArchiveFile:
    """Put the folder on `location`: 上架 for a new folder, 调整库位 for one already on a shelf."""
    with transaction.atomic():
        archive = ArchiveFile.objects.select_for_update().get(pk=archive.pk)
        location = ShelfLocation.objects.select_for_update().get(pk=location.pk)
        action = "shelve" if archive.status == ArchiveStatus.PENDING else "relocate"
        ARCHIVE.check(state=archive.status, action=action, user=actor)
        if location.authority_id != archive.authority_id:
            raise ValidationError({"location": ["该库位属于其他登记机关，不能存放本档案。"]})
        if not location.is_active:
            raise ValidationError({"location": [f"库位 {location.label} 已停用。"]})
        if archive.location_id == location.pk:
            raise ValidationError({"location": [f"档案已在库位 {location.label}。"]})
        occupied = shelf_occupancy(location)
        if occupied >= location.capacity:
            raise ValidationError(
                {"location": [f"库位 {location.label} 已满（{occupied}/{location.capacity} 卷）。"]}
            )
        previous = archive.location.label if archive.location_id else ""
        note = f"{previous} → {location.label}" if previous else location.label
        apply_transition(
            machine=ARCHIVE,
            obj=archive,
            action=action,
            actor=actor,
            field="status",
            reason=f"{note}；{reason}" if reason else note,
        )
        archive.location = location
        archive.shelved_at = timezone.now()
        archive._history_user = actor
        archive.save()
    return archive
