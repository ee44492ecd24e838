"""Checks registration intake runs on every natural person's ID number before it takes in a case.

Registration must not import the apps that own such rules (investigations reads registration's cases for
its link graph, so the import would be a cycle). An app registers its check here from its AppConfig.ready,
as apps register metrics and job runners; intake calls `run` and refuses the case with every message:

    intake_checks.register("investigations.registration_ban", banned_person_check)

A check takes the normalised 18-character ID number and returns the refusal message (Chinese, naming
why and until when) or None.
"""

from __future__ import annotations

from collections.abc import Callable

IntakeCheck = Callable[[str], "str | None"]

_CHECKS: dict[str, IntakeCheck] = {}


def register(name: str, func: IntakeCheck) -> None:
    """Register `func` under `name`; registering the same function again (a second ready()) is harmless."""
    existing = _CHECKS.get(name)
    if existing is not None and existing is not func:
        raise ValueError(f"受理前检查 {name} 重复注册")
    _CHECKS[name] = func


def unregister(name: str) -> None:
    _CHECKS.pop(name, None)


def registered() -> list[str]:
    return sorted(_CHECKS)


def run(id_number: str) -> list[str]:
    """The refusal messages of every registered check for this ID number (empty: nothing refuses it)."""
    number = "".join(str(id_number or "").split()).upper()
    if not number:
        return []
    messages = []
    for name in sorted(_CHECKS):
        message = _CHECKS[name](number)
        if message:
            messages.append(message)
    return messages
