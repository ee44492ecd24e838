"""Masking of personal data for lists, exports and API responses (full value needs a permission)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """4401**********1234: first four and last four characters kept."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****1234 for mobiles; other numbers keep the first three and last four."""
    if not value:
        return ""
    digits = str(value)
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 1)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_person_name(value: str | None) -> str:
    """张*、张*丰、欧阳**: the surname character stays, the given name is hidden."""
    if not value:
        return ""
    value = str(value)
    if len(value) == 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_address(value: str | None, *, keep: int = 8) -> str:
    """广州市南沙区进港****: a natural person's address keeps its district part, the rest is hidden."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep:
        return value[: max(1, len(value) // 2)] + "*" * (len(value) - max(1, len(value) // 2))
    return value[:keep] + "*" * 4
