"""Input checks every service shares: field errors collected before one ValidationError, and text cleaning
with the project's Chinese messages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class Errors(dict):
    """{field: [message]} collected before raising one ValidationError naming every problem."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def clean_text(
    value: Any, *, name: str, label: str, max_length: int, errors: Errors, required: bool = True
) -> str:
    result = text(value)
    if required and not result:
        errors.add(name, f"请填写{label}。")
    elif len(result) > max_length:
        errors.add(name, f"{label}不能超过 {max_length} 个字。")
    return result
