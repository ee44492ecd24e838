"""Reads of the move-out watch list, scoped by the user's authorities (another authority's entry: 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from bizreg.core.scoping import scope_to_user
from bizreg.tracking.models import WatchEntry, WatchState

VIEW = "tracking.view_watchentry"
NOT_FOUND = "没有找到该预警记录。"


def watch_entries_visible_to(user) -> QuerySet[WatchEntry]:
    """The watch entries of the user's authorities; none without tracking.view_watchentry."""
    if not (getattr(user, "is_authenticated", False) and user.has_perm(VIEW)):
        return WatchEntry.objects.none()
    return scope_to_user(WatchEntry.objects.select_related("enterprise", "cleared_by"), user)


def watch_listing(*, user, rule: str = "", state: str = "", q: str = "") -> QuerySet[WatchEntry]:
    """The list: by default the open entries (关注中); state "all" shows every state. Newest first."""
    entries = watch_entries_visible_to(user)
    if rule:
        entries = entries.filter(rule=rule)
    if state != "all":
        entries = entries.filter(state=state or WatchState.WATCHING)
    q = (q or "").strip()
    if q:
        entries = entries.filter(
            Q(enterprise__name__icontains=q) | Q(enterprise__uscc=q.upper()) | Q(detail__icontains=q)
        )
    return entries.order_by("-flagged_on", "-id")


def watch_entry_for(*, user, pk: Any) -> WatchEntry:
    """One entry if the user may see it; Http404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    entry = watch_entries_visible_to(user).filter(pk=pk).first()
    if entry is None:
        raise Http404(NOT_FOUND)
    return entry


def watch_counts(*, user) -> dict[str, int]:
    """Open entries by rule (the list's header)."""
    rows = (
        watch_entries_visible_to(user)
        .filter(state=WatchState.WATCHING)
        .order_by()
        .values("rule")
        .annotate(n=Count("id"))
        .values_list("rule", "n")
    )
    return dict(rows)
