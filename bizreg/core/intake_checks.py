"""Checks registration intake runs on every natural person's ID number before it takes in a case.

Registration must not import the apps that own such rules (investigations reads registration's cases for
its link graph, so the import would be a cycle). An app registers its check here from its AppConfig.ready,
as apps register metrics and job runners; intake calls `run_many` once with every person of the case
(applicant, agent, new legal representative) and refuses the case with every message:

    intake_checks.register("investigations.registration_ban", banned_people_check)

A check takes the set of normalised ID numbers and returns {number: refusal message} (Chinese, naming why
and until when) for those it refuses — one look-up for the whole case rather than one per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from bizreg.core.identifiers import normalize_resident_id

IntakeCheck = Callable[[frozenset[str]], Mapping[str, str]]

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


def run_many(id_numbers: Iterable[str]) -> dict[str, list[str]]:
    """{normalised number: refusal messages of every registered check}, only for numbers refused."""
    numbers = frozenset(filter(None, map(normalize_resident_id, id_numbers)))
    refusals: dict[str, list[str]] = {}
    if not numbers:
        return refusals
    for name in sorted(_CHECKS):
        for number, message in _CHECKS[name](numbers).items():
            if message:
                refusals.setdefault(number, []).append(message)
    return refusals


def run(id_number: str) -> list[str]:
    """The refusal messages of every registered check for one ID number (empty: nothing refuses it)."""
    return run_many([id_number]).get(normalize_resident_id(id_number), [])
