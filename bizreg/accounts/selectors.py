"""Reads of users and roles, scoped to the viewer's authorities."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from bizreg.accounts.models import User
from bizreg.core.scoping import authority_ids_for


def users_visible_to(viewer: User) -> QuerySet[User]:
    qs = User.objects.prefetch_related("groups", "authorities")
    if viewer.is_superuser:
        return qs
    return qs.filter(authorities__in=authority_ids_for(viewer)).distinct()


def user_page(*, viewer: User, params) -> Page:
    qs = users_visible_to(viewer)
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if params.get("role"):
        qs = qs.filter(groups__name=params["role"])
    return Paginator(qs.order_by("username"), 50).get_page(params.get("page"))
