"""The archive use log (档案利用日志): every view, download, print, search and refused attempt, staff or
external, is one ArchiveAccessLog row written here."""

from __future__ import annotations

from bizreg.archives.models import ArchiveAccessLog
from bizreg.core.services import client_ip


def viewer_name(user) -> str:
    """The name written into the use log and watermarks: the staff member's name, else the login."""
    return getattr(user, "display_name", "") or user.get_username()


def log_access(
    *,
    user=None,
    access_request=None,
    who: str,
    archive=None,
    item=None,
    action: str,
    detail: str = "",
    watermark: str = "",
    request=None,
    authority=None,
) -> ArchiveAccessLog:
    """Record one use of an archive or item. The authority defaults to the archive's (or the item's
    archive's, or the access request's) so every row stays in its tenant."""
    if action not in ArchiveAccessLog.Action.values:
        raise ValueError(f"unknown archive access action: {action}")
    if archive is None and item is not None:
        archive = item.archive
    if authority is None:
        source = archive if archive is not None else access_request
        authority_id = getattr(source, "authority_id", None)
    else:
        authority_id = authority.pk
    return ArchiveAccessLog.objects.create(
        authority_id=authority_id,
        user=user if getattr(user, "is_authenticated", False) else None,
        access_request=access_request,
        who=(who or "")[:100],
        archive=archive,
        item=item,
        action=action,
        detail=(detail or "")[:300],
        watermark=(watermark or "")[:200],
        ip_address=client_ip(request),
    )
