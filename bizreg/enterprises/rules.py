"""Pure rules of the register, shared by services, imports and the demo seeder (no database writes)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin


def _keep_as_is(chars: str) -> list[str]:
    return list(chars)


class _WordCachingConverter(UltimateConverter):
    """pypinyin's own converter, remembering each segmented word's result.

    Converting a word is a pure function of the word and the options, and names repeat the same words
    (广州, 南沙, 科技, 有限公司): without the cache the pinyin of the demo register's names was half of its
    first start.
    """

    MAX_WORDS = 50_000

    def __init__(self) -> None:
        super().__init__()
        self._words: dict[tuple, tuple[tuple[str, ...], ...]] = {}

    def convert(self, words, style, heteronym, errors, strict, **kwargs):
        key = (words, style, heteronym, errors, strict)
        result = self._words.get(key)
        if result is None:
            if len(self._words) >= self.MAX_WORDS:
                self._words.clear()
            converted = super().convert(words, style, heteronym, errors, strict, **kwargs)
            result = tuple(tuple(p) for p in converted)
            self._words[key] = result
        return [list(p) for p in result]


_PINYIN = Pinyin(_WordCachingConverter())


def name_initials(name: str) -> str:
    """Lower-case pinyin initials of a name for initial search: 广州南沙科技有限公司 → gznskjyxgs.

    Latin letters and digits are kept as they are (lower-cased); punctuation is dropped.
    """
    parts = _PINYIN.lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors=_keep_as_is)
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


# --- keys that link people and places across the register -----------------------------------------------

# Characters an address key keeps: letters, digits and CJK; everything else (spaces, punctuation, the
# full-width forms NFKC turns into ASCII punctuation) is noise that differs between two spellings of one
# place.
_ADDRESS_DROP_CATEGORIES = ("P", "S", "Z", "C")


def address_key(address: str) -> str:
    """The form two spellings of one address share.

    广州市南沙区 进港大道８８号（自编１号） → 广州市南沙区进港大道88号自编1号.

    Full-width characters become half-width (NFKC), Latin letters lower-case, and spaces, punctuation
    and symbols are dropped.
    """
    text = unicodedata.normalize("NFKC", address or "").lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in _ADDRESS_DROP_CATEGORIES)[:300]


def normalize_phone(phone: str) -> str:
    """Digits only, with the mainland country code dropped: '+86 138-0013-8000' → '13800138000'."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]
    return digits
