"""What the performance pages share: the form flow of a create/edit page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse


def form_flow(
    request,
    form,
    *,
    save: Callable[[dict], Any],
    message: str | Callable[[Any], str],
    done: Callable[[Any], HttpResponse],
    page: Callable[[int], HttpResponse],
) -> HttpResponse:
    """On a valid POST call ``save(cleaned_data)`` (the service); a ValidationError it raises goes onto the
    form, success gives ``message`` (a text, or a callable of the saved object) and ``done(obj)`` (the
    redirect). Otherwise ``page(status)`` renders the form again: 400 after a POST, 200 for a GET. Any
    other exception (TransitionNotAllowed, PermissionDenied) passes through to the caller."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, message(obj) if callable(message) else message)
            return done(obj)
    return page(400 if request.method == "POST" else 200)
