"""Pure rules of the register, shared by services, imports and the demo seeder (no database writes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin


def name_initials(name: str) -> str:
    """Lower-case pinyin initials of a name for initial search: 广州南沙科技有限公司 → gznskjyxgs.

    Latin letters and digits are kept as they are (lower-cased); punctuation is dropped.
    """
    parts = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for part in parts for ch in part.lower() if ch.isalnum())[:200]


@dataclass(frozen=True)
class FtzRuleView:
    """The fields of an FtzAddressRule the matcher needs (works for model rows and plain tuples)."""

    id: int
    area_name: str
    street_id: int | None
    address_keyword: str
    priority: int


def match_ftz_rule(address: str, street_id: int | None, rules: Iterable[FtzRuleView]) -> FtzRuleView | None:
    """The first active rule (by priority, then id) whose keyword is in the address and street fits."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if rule.street_id is not None and rule.street_id != street_id:
            continue
        if rule.address_keyword and rule.address_keyword in (address or ""):
            return rule
    return None
