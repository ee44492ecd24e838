"""Helpers every archives page module uses."""

from __future__ import annotations

from django.shortcuts import render


def conflict(request, message: str, back_url: str = ""):
    """The 409 page: the step was refused for the object's current state; nothing was changed."""
    return render(request, "archives/conflict.html", {"message": message, "back": back_url}, status=409)


def query_without_page(request) -> str:
    """The list's query string without its page number, for pager and export links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
