"""Helpers every archives page module uses."""

from __future__ import annotations

from bizreg.core.views import conflict  # noqa: F401 — the pages of this app import it from here


def query_without_page(request) -> str:
    """The list's query string without its page number, for pager and export links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
