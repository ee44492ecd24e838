"""Migrations in and out (迁入/迁出) copied from the approved registration cases for the analysis.

`migrations_sync` is a system job (the daily tracking task, the demo seeder): it reads the decided cases
through `registration.selectors.migrations.decided_migrations`, the enterprise's facts (industry, type,
capital) through `enterprises.selectors`, and writes one Migration per case number, so a second run adds
nothing. The facts are taken when the case is first copied and kept: the analysis describes the enterprise
as it was when it moved. The reason of a move out is what the officer learnt at the enterprise's latest
submitted visit that recorded one; a later visit changes it at the next sync, whatever `since` says.
A full sync also drops rows whose case is not (or no longer) an approved migration.

The counterpart region (where an enterprise came from or went to) is derived from the counterpart
authority's name as written on the case — see `counterpart_region`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import transaction
from django.utils import timezone

from bizreg.core.models import Authority
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.registration.selectors.migrations import DecidedMigration, decided_migrations
from bizreg.tracking.models import Migration, MigrationDirection, MoveOutReason, Visit, VisitState

CHUNK = 1000
TEN_THOUSAND = Decimal(10_000)
CAPITAL_PLACES = Decimal("0.0001")

UNKNOWN_REGION = "未知"
OTHER_PROVINCE = "外省"
# Province-level units whose districts have no prefecture city between them and the province.
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
_NOT_A_PLACE = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖行政单位"})
_PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)


# --- the region rule --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Divisions:
    """China's administrative divisions as python-stdnum ships them (cn/loc.dat, the GB/T 2260 codes)."""

    provinces: dict[str, str]  # "44" → "广东省"
    province_prefixes: tuple[tuple[str, str], ...]  # (name or short name, code), longest first
    cities: dict[str, str]  # "4401" → "广州市" (municipalities: "3100" → "上海市")
    place_prefixes: tuple[tuple[str, str], ...]  # (current city or unambiguous county name, city code)


def _current_names(value: str) -> list[str]:
    """The names in force of one loc.dat entry: "[1983-1999]淮阴市,[2000-]淮安市" → ["淮安市"]."""
    names = []
    for item in value.split(","):
        match = re.fullmatch(r"(?:\[(\d*)-(\d*)\])?(.+)", item.strip())
        if match and not match.group(2):
            names.append(match.group(3).strip())
    return names


@cache
def _divisions() -> _Divisions:
    from stdnum import numdb

    provinces: dict[str, str] = {}
    cities: dict[str, str] = {}
    city_names: dict[str, set[str]] = {}
    county_names: dict[str, set[str]] = {}
    for _length, low, _high, props, children in numdb.get("cn/loc").prefixes:
        province = props.get("province", "")
        if not province or not low.isdigit():
            continue
        provinces[low] = province
        if low in _MUNICIPALITIES:
            cities[low + "00"] = province
        for _clength, code, _chigh, cprops, _ in children:
            for name in _current_names(cprops.get("county", "")):
                if name in _NOT_A_PLACE or name == province:
                    continue
                if code.endswith("00"):
                    if low not in _MUNICIPALITIES:
                        cities[low + code[:2]] = name
                        city_names.setdefault(name, set()).add(low + code[:2])
                else:
                    city = low + "00" if low in _MUNICIPALITIES else low + code[:2]
                    county_names.setdefault(name, set()).add(city)
    places = {name: next(iter(codes)) for name, codes in county_names.items() if len(codes) == 1}
    # A prefecture city's name wins over a county of the same name elsewhere.
    places |= {name: next(iter(codes)) for name, codes in city_names.items() if len(codes) == 1}
    province_prefixes: dict[str, str] = {}
    for code, name in provinces.items():
        province_prefixes[name] = code
        for suffix in _PROVINCE_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                province_prefixes.setdefault(name[: -len(suffix)], code)
                break
    return _Divisions(
        provinces=provinces,
        province_prefixes=tuple(sorted(province_prefixes.items(), key=lambda kv: -len(kv[0]))),
        cities=cities,
        place_prefixes=tuple(sorted(places.items(), key=lambda kv: -len(kv[0]))),
    )


def _city_code_of(name: str) -> tuple[str, str]:
    """(province code, city code) named at the start of an authority's name; "" where not recognised."""
    divisions = _divisions()
    rest, province = name, ""
    for prefix, code in divisions.province_prefixes:
        if rest.startswith(prefix) and len(prefix) >= 3:  # full names only ("广东省", "上海市")
            rest, province = rest[len(prefix) :], code
            break
    for prefix, city in divisions.place_prefixes:
        if rest.startswith(prefix) and (not province or city.startswith(province)):
            return city[:2], city
    if province in _MUNICIPALITIES:
        return province, province + "00"
    if not province:
        # Short province names ("广东深圳…") only after no city matched: "海南藏族自治州" is in 青海.
        for prefix, code in divisions.province_prefixes:
            if name.startswith(prefix):
                return code, ""
    return province, ""


def own_city_code(division_code: str) -> tuple[str, str]:
    """(province code, city code) of an authority's division code: 440115 → ("44", "4401")."""
    code = (division_code or "").strip()
    province = code[:2]
    if province in _MUNICIPALITIES:
        return province, province + "00"
    return province, code[:4] if len(code) >= 4 and code[2:4] != "00" else ""


def counterpart_region(counterpart_authority: str, *, division_code: str) -> str:
    """The region of the other authority of a move, seen from the authority with `division_code`.

    Rule: the province and the prefecture-level city are read from the start of the counterpart's name —
    a full province name ("广东省…", "上海市…"), then a city in force ("深圳市…") or a county-level name
    that exists in one city only ("昆山市…" → 苏州市, "南山区…" → 深圳市; "朝阳区" is ambiguous and names
    nothing), with the division table of python-stdnum (GB/T 2260). Then: the same city as the
    authority → "<city>（市内）" ("广州市天河区市场监督管理局" → "广州市（市内）"); the same province →
    "<province>（省内）" ("深圳市…" → "广东省（省内）"); another province → "外省" ("上海市…");
    a name that names no place → "未知".
    """
    name = re.sub(r"\s+", "", counterpart_authority or "")
    if not name:
        return UNKNOWN_REGION
    province, city = _city_code_of(name)
    if not province:
        return UNKNOWN_REGION
    own_province, own_city = own_city_code(division_code)
    divisions = _divisions()
    if own_city and city == own_city:
        return f"{divisions.cities.get(city, '')}（市内）"
    if province == own_province:
        return f"{divisions.provinces[province]}（省内）"
    return OTHER_PROVINCE


# --- the sync ------------------------------------------------------------------------------------------


def _capital_in_ten_thousands(yuan: Decimal | None) -> Decimal:
    if yuan is None:
        return Decimal(0)
    return (Decimal(yuan) / TEN_THOUSAND).quantize(CAPITAL_PLACES)


def _enterprise_facts(ids: Iterable[int]) -> dict[int, tuple[str, str, Decimal]]:
    """{enterprise id: (industry, entity type, capital in 万元)} in one query per chunk."""
    facts: dict[int, tuple[str, str, Decimal]] = {}
    ids = sorted({i for i in ids if i})
    for start in range(0, len(ids), CHUNK):
        rows = (
            enterprise_selectors.enterprises_with_ids(ids[start : start + CHUNK])
            .select_related(None)
            .order_by()
            .values_list("pk", "industry", "entity_type", "registered_capital")
        )
        for pk, industry, entity_type, capital in rows:
            facts[pk] = (industry or "", entity_type or "", _capital_in_ten_thousands(capital))
    return facts


def move_out_reasons(*, authority: Authority, enterprise_ids: Iterable[int] | None = None) -> dict[int, str]:
    """{enterprise id: reason} from each enterprise's latest submitted visit that recorded a reason
    (latest by visit date, then by id)."""
    visits = Visit.objects.filter(authority=authority, state=VisitState.SUBMITTED).exclude(move_out_reason="")
    if enterprise_ids is not None:
        visits = visits.filter(enterprise_id__in=list(enterprise_ids))
    reasons: dict[int, str] = {}
    valid = set(MoveOutReason.values)
    rows = visits.order_by("enterprise_id", "visited_on", "id").values_list(
        "enterprise_id", "move_out_reason"
    )
    for enterprise_id, reason in rows.iterator(chunk_size=2000):
        if reason in valid:
            reasons[enterprise_id] = reason  # later rows overwrite: the latest visit wins
    return reasons


def migrations_sync(*, authority: Authority, since: dt.datetime | None = None) -> int:
    """Copy the authority's approved 迁入/迁出 cases decided since `since` (all when None) into Migration
    and bring the reasons of its earlier moves out up to date; returns how many rows were created, changed
    or removed. Idempotent: a case already copied is not copied again. A full sync (`since` None) also
    removes the authority's rows whose case is no longer an approved migration, so rows an older rule
    copied wrongly (an archived refusal) leave the analysis at the next daily run."""
    started = timezone.now()
    decided: list[DecidedMigration] = list(decided_migrations(authority_id=authority.pk, decided_since=since))
    known: set[str] = set()
    numbers = [d.case_number for d in decided]
    for start in range(0, len(numbers), CHUNK):
        known.update(
            Migration.objects.filter(case_number__in=numbers[start : start + CHUNK]).values_list(
                "case_number", flat=True
            )
        )
    fresh = [d for d in decided if d.case_number not in known]
    facts = _enterprise_facts(d.enterprise_id for d in fresh)
    reasons = move_out_reasons(authority=authority)
    rows = []
    for d in fresh:
        industry, entity_type, capital = facts.get(d.enterprise_id or 0, ("", "", Decimal(0)))
        reason = MoveOutReason.UNKNOWN
        if d.direction == MigrationDirection.OUT:
            reason = reasons.get(d.enterprise_id or 0, MoveOutReason.UNKNOWN)
        rows.append(
            Migration(
                authority=authority,
                direction=d.direction,
                enterprise_id=d.enterprise_id,
                enterprise_name=d.enterprise_name[:200],
                uscc=d.uscc[:18],
                case_number=d.case_number,
                moved_on=d.decided_on,
                industry=industry[:1],
                entity_type=entity_type[:20],
                registered_capital=capital,
                counterpart_authority=d.counterpart_authority[:100],
                counterpart_region=counterpart_region(
                    d.counterpart_authority, division_code=authority.division_code
                )[:50],
                reason=reason,
            )
        )
    with transaction.atomic():
        for start in range(0, len(rows), CHUNK):
            # ignore_conflicts: a sync running at the same moment may have copied the same case.
            Migration.objects.bulk_create(rows[start : start + CHUNK], ignore_conflicts=True)
        changed = _update_reasons(authority=authority, reasons=reasons, skip={d.case_number for d in fresh})
        removed = 0
        if since is None:
            removed = _remove_undecided(authority=authority, decided=set(numbers), copied_before=started)
    return len(rows) + changed + removed


def _remove_undecided(*, authority: Authority, decided: set[str], copied_before: dt.datetime) -> int:
    # Only rows older than this sync's read of the cases: a sync running at the same moment may have
    # copied a case approved after that read, and that row is right.
    rows = Migration.objects.filter(authority=authority, created_at__lt=copied_before)
    gone = [pk for pk, case_number in rows.values_list("pk", "case_number") if case_number not in decided]
    for start in range(0, len(gone), CHUNK):
        Migration.objects.filter(pk__in=gone[start : start + CHUNK]).delete()
    return len(gone)


def _update_reasons(*, authority: Authority, reasons: dict[int, str], skip: set[str]) -> int:
    stale = []
    outs = Migration.objects.filter(
        authority=authority, direction=MigrationDirection.OUT, enterprise_id__isnull=False
    ).only("pk", "enterprise_id", "reason", "case_number")
    for migration in outs.iterator(chunk_size=2000):
        if migration.case_number in skip:
            continue
        wanted = reasons.get(migration.enterprise_id, MoveOutReason.UNKNOWN)
        if migration.reason != wanted:
            migration.reason = wanted
            stale.append(migration)
    Migration.objects.bulk_update(stale, ["reason"], batch_size=CHUNK)
    return len(stale)
