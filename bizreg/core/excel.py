"""Helpers for Excel exports (openpyxl)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell value that Excel shows as text: user-typed text starting like a formula is neutralized."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, dt.datetime):
        # openpyxl cannot store aware datetimes; exports show the bureau's local time.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value
