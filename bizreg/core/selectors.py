"""Reads owned by core, scoped by the user's authorities."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from bizreg.core.models import AccessLog
from bizreg.core.scoping import scope_to_user


def home_figures(*, user) -> list[dict]:
    """The figures of the home page, each computed from real records by the app that owns them."""
    from bizreg.enterprises import selectors as enterprise_selectors

    figures: list[dict] = []
    if user.has_perm("enterprises.view_enterprise"):
        figures.extend(enterprise_selectors.home_figures(user=user))
    return figures


def access_log_page(*, user, params) -> Page:
    qs = scope_to_user(AccessLog.objects.select_related("user", "authority"), user)
    if params.get("user"):
        qs = qs.filter(user__username__icontains=params["user"])
    if params.get("action"):
        qs = qs.filter(action=params["action"])
    return Paginator(qs.order_by("-occurred_at"), 50).get_page(params.get("page"))
