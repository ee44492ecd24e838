"""Reads of the register, always scoped by the user's authorities (another authority's rows do not exist)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Count, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizreg.core.masking import mask_address, mask_id_number, mask_phone
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.enterprises.filters import EnterpriseFilterSet, active_lock_exists
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterpriseLock,
    EnterprisePerson,
    EnterpriseStatus,
    FtzAddressRule,
    PersonRole,
    RegistrationRescission,
    Street,
    UsccException,
)
from bizreg.enterprises.rules import address_key, normalize_phone
from bizreg.enterprises.services import division_prefix

PAGE_SIZE = 50
# Counting stops here: past it the list says "10,000+" (or, without a search word, shows the planner's
# estimate) and only that many rows can be paged. Counting every match of a common word in a million
# rows would cost more than the page itself.
COUNT_CAP = 10_000


def enterprises_visible_to(user) -> QuerySet[Enterprise]:
    return scope_to_user(Enterprise.objects.select_related("street"), user)


def enterprises_listed(user) -> QuerySet[Enterprise]:
    """Visible enterprises with what every list row shows (street, lock flag) in the same query."""
    return enterprises_visible_to(user).annotate(is_locked=active_lock_exists())


def enterprise_for(*, user, pk: Any) -> Enterprise:
    """The enterprise if the user may see it; 404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该商事主体。")) from None
    enterprise = (
        enterprises_listed(user)
        .select_related("authority", "ftz_rule", "ftz_rule__street")
        .filter(pk=pk)
        .first()
    )
    if enterprise is None:
        raise Http404(_("没有找到该商事主体。"))
    return enterprise


def streets_visible_to(user) -> QuerySet[Street]:
    """Streets of the districts the user's authorities cover (the choices of filters and forms)."""
    from bizreg.core.models import Authority

    if getattr(user, "is_superuser", False):
        return Street.objects.all()
    prefixes = {
        division_prefix(code)
        for code in Authority.objects.filter(pk__in=authority_ids_for(user)).values_list(
            "division_code", flat=True
        )
    }
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(division_code__startswith=prefix)
    return Street.objects.filter(condition)


# --- search and listing ---------------------------------------------------------------------------------


def enterprise_filterset(*, user, params: Mapping[str, str]) -> EnterpriseFilterSet:
    return EnterpriseFilterSet(params or None, queryset=enterprises_listed(user), user=user)


def enterprise_search(*, user, params: Mapping[str, str]) -> QuerySet[Enterprise]:
    """The enterprises matching `params` (q, filters, sort), ordered, not paginated.

    Invalid filter values are ignored here; the list page shows them as form errors and the API answers
    400 (see EnterpriseFilterSet).
    """
    return enterprise_filterset(user=user, params=params).qs


def _planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's row estimate for the query, without scanning it."""
    if connection.vendor != "postgresql":
        return None
    plan = queryset.order_by().values("pk").explain(format="json")
    try:
        return int(json.loads(plan)[0]["Plan"]["Plan Rows"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _restricted_to_ids(queryset: QuerySet, ids: list[int]) -> QuerySet:
    """The queryset (its filters, annotations and order kept) limited to the given primary keys."""
    if not ids:
        return queryset.none()
    if connection.vendor == "postgresql":
        # One array parameter rather than IN with up to COUNT_CAP placeholders: PostgreSQL parses and
        # plans it in a fraction of the time, and its row estimate is exactly len(ids).
        meta = queryset.model._meta
        column = f'"{meta.db_table}"."{meta.pk.column}"'
        return queryset.filter(RawSQL(f"{column} = ANY(%s)", (ids,), output_field=BooleanField()))
    limit = connection.features.max_query_params
    if limit is not None and len(ids) > limit:
        return queryset  # the same rows, found by the search again (SQLite may refuse that many parameters)
    return queryset.filter(pk__in=ids)


class EnterprisePaginator(Paginator):
    """Counts at most COUNT_CAP rows; past that, on PostgreSQL, a list without a search word shows the
    planner's row estimate (reliable for plain column filters, not for text search).

    The count fetches the matching ids (at most COUNT_CAP + 1) instead of only counting them, and when
    they are all there the page is read by those ids. Why: PostgreSQL estimates a search (an OR of name,
    initials, USCC … conditions) at a few hundred rows whatever it really finds; when it finds one or
    two, the page's `LIMIT count` made the planner walk the register in date order expecting an early
    hit, testing every row (1–3 s at 1M enterprises, see bench/RESULTS.md). Given the ids as an array the
    planner knows how few rows there are and fetches just those. Past COUNT_CAP matches the rows are
    common enough that walking in date order finds a page quickly, so the query is left as it is.
    """

    def __init__(
        self, object_list, per_page, *args, count_cap: int | None = None, allow_estimate=False, **kw
    ):
        super().__init__(object_list, per_page, *args, **kw)
        self.count_cap = COUNT_CAP if count_cap is None else count_cap
        self.allow_estimate = allow_estimate
        self.count_is_estimate = False
        self.count_is_capped = False
        self.matching_ids: list[int] | None = None

    @cached_property
    def count(self) -> int:
        if self.allow_estimate:
            estimate = _planner_estimate(self.object_list)
            if estimate is not None and estimate > self.count_cap:
                self.count_is_estimate = True
                return estimate
        ids = list(self.object_list.order_by().values_list("pk", flat=True)[: self.count_cap + 1])
        if len(ids) > self.count_cap:
            self.count_is_capped = True
            return self.count_cap
        self.matching_ids = ids
        return len(ids)

    @cached_property
    def num_pages(self) -> int:
        # Beyond the cap, OFFSET scans get slow and the count is approximate: those pages are not offered.
        return min(super().num_pages, max(1, self.count_cap // self.per_page))

    def page(self, number) -> Page:
        number = self.validate_number(number)  # counts first, which collects matching_ids
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        object_list = self.object_list
        if self.matching_ids is not None:
            object_list = _restricted_to_ids(object_list, self.matching_ids)
        return self._get_page(object_list[bottom:top], number, self)


@dataclass
class EnterpriseListing:
    filterset: EnterpriseFilterSet
    page: Page

    @property
    def paginator(self) -> EnterprisePaginator:
        return self.page.paginator


def enterprise_listing(*, user, params: Mapping[str, str]) -> EnterpriseListing:
    filterset = enterprise_filterset(user=user, params=params)
    queryset = filterset.qs
    paginator = EnterprisePaginator(queryset, PAGE_SIZE, allow_estimate=not filterset.has_search)
    return EnterpriseListing(filterset=filterset, page=paginator.get_page(params.get("page")))


def enterprise_page(*, user, params: Mapping[str, str]) -> Page:
    return enterprise_listing(user=user, params=params).page


def enterprise_api_queryset(*, user) -> QuerySet[Enterprise]:
    return enterprises_listed(user).prefetch_related(
        Prefetch("former_names", queryset=EnterpriseFormerName.objects.order_by("-used_until", "-id"))
    )


# --- detail ---------------------------------------------------------------------------------------------


def enterprise_locks(*, enterprise: Enterprise) -> list[EnterpriseLock]:
    return list(enterprise.locks.select_related("locked_by", "released_by").order_by("-locked_at"))


def enterprise_former_names(*, enterprise: Enterprise) -> list[EnterpriseFormerName]:
    return list(enterprise.former_names.order_by("-used_until", "-id"))


@dataclass
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: Any
    user: Any
    kind: str
    reason: str
    changes: list[FieldChange]
    created: bool = False


_HISTORY_KINDS = {"+": gettext_lazy("登记"), "~": gettext_lazy("变更"), "-": gettext_lazy("删除")}
_MASKED_FIELDS = {"legal_rep_id_number"}


def _display(model_field, value, related_labels: dict) -> str:
    if value is None or value == "":
        return _("（空）")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.name in _MASKED_FIELDS:
        return mask_id_number(value)
    if model_field.is_relation:
        return related_labels.get((model_field.name, value), f"#{value}")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def enterprise_history(*, enterprise: Enterprise) -> list[HistoryEntry]:
    """Every recorded version, newest first, with what changed from the version before (ID numbers masked)."""
    records = list(enterprise.history.select_related("history_user").order_by("history_date", "history_id"))
    tracked = [
        f
        for f in Enterprise._meta.fields
        if f.editable and f.name not in ("id", "created_at", "updated_at", "authority")
    ]
    street_ids = {r.street_id for r in records if r.street_id}
    rule_ids = {r.ftz_rule_id for r in records if r.ftz_rule_id}
    related = {("street", s.pk): s.name for s in Street.objects.filter(pk__in=street_ids)}
    related |= {("ftz_rule", r.pk): str(r) for r in FtzAddressRule.objects.filter(pk__in=rule_ids)}
    entries: list[HistoryEntry] = []
    previous = None
    for record in records:
        changes = []
        for f in tracked:
            new = getattr(record, f.attname)
            old = getattr(previous, f.attname) if previous is not None else None
            if previous is None and new in (None, "", False):
                continue
            if previous is not None and old == new:
                continue
            changes.append(
                FieldChange(
                    field=f.name,
                    label=str(f.verbose_name),
                    old=_display(f, old, related) if previous is not None else "",
                    new=_display(f, new, related),
                )
            )
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user,
                kind=str(_HISTORY_KINDS.get(record.history_type, record.history_type)),
                reason=record.history_change_reason or "",
                changes=changes,
                created=record.history_type == "+",
            )
        )
        previous = record
    entries.reverse()
    return entries


# --- rules and exceptions -------------------------------------------------------------------------------


def ftz_rules_visible_to(user) -> QuerySet[FtzAddressRule]:
    """Rules of the user's authorities, each with how many enterprises it currently tags."""
    return (
        scope_to_user(FtzAddressRule.objects.select_related("street", "authority"), user)
        .annotate(enterprise_count=Count("enterprise"))
        .order_by("authority_id", "priority", "id")
    )


def ftz_rule_for(*, user, pk: int) -> FtzAddressRule:
    rule = (
        scope_to_user(FtzAddressRule.objects.select_related("street", "authority"), user)
        .filter(pk=pk)
        .first()
    )
    if rule is None:
        raise Http404(_("没有找到该自贸区地址规则。"))
    return rule


def uscc_exceptions_visible_to(user) -> QuerySet[UsccException]:
    return scope_to_user(UsccException.objects.select_related("confirmed_by"), user).order_by("-created_at")


# --- figures --------------------------------------------------------------------------------------------


def home_figures(*, user) -> list[dict]:
    """Real counts of the register for the home page (one aggregate query plus the lock count)."""
    start_of_year = timezone.localdate().replace(month=1, day=1)
    qs = scope_to_user(Enterprise.objects.all(), user).order_by()
    active = Q(status=EnterpriseStatus.ACTIVE)
    figures = qs.aggregate(
        total=Count("id"),
        active=Count("id", filter=active),
        ftz=Count("id", filter=active & Q(in_ftz=True)),
        new=Count("id", filter=Q(established_on__gte=start_of_year)),
    )
    locked = scope_to_user(
        EnterpriseLock.objects.filter(released_at__isnull=True), user, field="enterprise__authority"
    ).count()
    return [
        {
            "key": "enterprises_total",
            "label": _("在册商事主体"),
            "value": figures["total"],
            "url": "/enterprises/",
        },
        {
            "key": "enterprises_active",
            "label": _("存续"),
            "value": figures["active"],
            "url": "/enterprises/?status=active",
        },
        {
            "key": "enterprises_ftz",
            "label": _("自贸区存续主体"),
            "value": figures["ftz"],
            "url": "/enterprises/?status=active&in_ftz=1",
        },
        {
            "key": "enterprises_new_this_year",
            "label": _("%(year)d 年新设立") % {"year": start_of_year.year},
            "value": figures["new"],
            "url": f"/enterprises/?established_from={start_of_year.isoformat()}",
        },
        {"key": "enterprises_locked", "label": _("锁定中"), "value": locked, "url": "/enterprises/?locked=1"},
    ]


# --- what the register publishes (国家企业信用信息公示系统), for other apps' public pages -------------------

# The columns anyone may see: never the legal representative's ID number.
PUBLIC_COLUMNS = (
    "id",
    "authority_id",
    "name",
    "uscc",
    "entity_type",
    "legal_rep_name",
    "established_on",
    "address",
    "status",
    "in_ftz",
    "ftz_area",
)


def public_register_matches(*, uscc: str = "", name: str = "", limit: int = 5) -> list[Enterprise]:
    """Enterprises with this (normalised) USCC, else this exact name, loaded with the public columns only."""
    queryset = Enterprise.objects.only(*PUBLIC_COLUMNS)
    if uscc:
        queryset = queryset.filter(uscc=uscc)
    elif name:
        queryset = queryset.filter(name=name)
    else:
        return []
    return list(queryset.order_by("id")[:limit])


def register_name_for_uscc(uscc: str) -> tuple[int, str] | None:
    """(authority id, name) of the enterprise with this USCC, or None."""
    found = Enterprise.objects.filter(uscc=uscc).values_list("authority_id", "name").first()
    return (found[0], found[1]) if found else None


# --- person-roles (登记的人员事项) -------------------------------------------------------------------------

FULL_PERSONAL_DATA_PERM = "core.view_full_personal_data"


@dataclass(frozen=True)
class PersonRoleView:
    """One person-role as a page shows it: ID number and phone masked unless shown in full (logged)."""

    pk: int
    role: str
    role_label: str
    name: str
    id_number: str
    phone: str
    address: str
    share_ratio: Any
    started_on: Any
    ended_on: Any
    end_reason: str

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


def enterprise_persons(*, enterprise: Enterprise, user, full: bool = False) -> list[PersonRoleView]:
    """The enterprise's person-roles, current ones first (legal representative first), then ended ones.

    `full` shows whole ID numbers, phones and addresses, and only to a user holding
    core.view_full_personal_data (the view records the access); everyone else gets them masked whatever is
    asked.
    """
    full = full and user.has_perm(FULL_PERSONAL_DATA_PERM)
    order = {role: n for n, role in enumerate(PersonRole.values)}
    rows = sorted(
        EnterprisePerson.objects.filter(enterprise=enterprise),
        key=lambda p: (
            p.ended_on is not None,
            order.get(p.role, 99),
            -(p.ended_on or p.started_on).toordinal(),
            p.pk,
        ),
    )
    return [
        PersonRoleView(
            pk=p.pk,
            role=p.role,
            role_label=p.get_role_display(),
            name=p.name,
            id_number=p.id_number if full else mask_id_number(p.id_number),
            phone=p.phone if full else mask_phone(p.phone),
            address=p.address if full else mask_address(p.address),
            share_ratio=p.share_ratio,
            started_on=p.started_on,
            ended_on=p.ended_on,
            end_reason=p.end_reason,
        )
        for p in rows
    ]


def enterprise_rescissions(*, enterprise: Enterprise) -> list[RegistrationRescission]:
    return list(enterprise.rescissions.select_related("actor").order_by("-decided_on", "-id"))


def _person_roles_visible(user) -> QuerySet[EnterprisePerson]:
    queryset = EnterprisePerson.objects.select_related("enterprise")
    if user is None:
        return queryset
    return scope_to_user(queryset, user, field="enterprise__authority")


def person_roles_by_id_number(*, id_number: str, user=None) -> QuerySet[EnterprisePerson]:
    """Every person-role (ended ones too) held under this ID number, scoped to the user when given."""
    return _person_roles_visible(user).filter(id_number=(id_number or "").strip().upper())


def person_roles_by_phone(*, phone: str, user=None) -> QuerySet[EnterprisePerson]:
    digits = normalize_phone(phone)
    if not digits:
        return EnterprisePerson.objects.none()
    return _person_roles_visible(user).filter(phone=digits)


def person_roles_by_address(*, address: str, user=None) -> QuerySet[EnterprisePerson]:
    """Person-roles at this address, however it is spelled (compared by rules.address_key)."""
    key = address_key(address)
    if not key:
        return EnterprisePerson.objects.none()
    return _person_roles_visible(user).filter(address_key=key)


# --- set-based reads for the link analysis (investigations) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonRoleLink:
    pk: int
    enterprise_id: int
    role: str
    name: str
    id_number: str
    phone: str
    address: str
    address_key: str
    ended_on: Any


@dataclass(frozen=True, slots=True)
class EnterpriseLink:
    pk: int
    name: str
    uscc: str
    status: str
    address: str
    address_key: str
    established_on: Any


_LINK_COLUMNS = (
    "pk",
    "enterprise_id",
    "role",
    "name",
    "id_number",
    "phone",
    "address",
    "address_key",
    "ended_on",
)
_ENTERPRISE_LINK_COLUMNS = ("pk", "name", "uscc", "status", "address", "address_key", "established_on")


def person_role_links(
    *,
    id_numbers: Iterable[str] = (),
    enterprise_ids: Iterable[int] = (),
    phones: Iterable[str] = (),
    address_keys: Iterable[str] = (),
    limit: int = 1000,
) -> list[PersonRoleLink]:
    """Person-roles (ended ones too) matching any of the keys: one indexed query per kind of key given.

    Each query returns at most `limit` rows, unordered: the caller caps its graph anyway, and an ORDER BY
    would let the planner walk a whole index to satisfy it.
    """
    found: dict[int, PersonRoleLink] = {}
    for field, keys in (
        ("id_number", id_numbers),
        ("enterprise_id", enterprise_ids),
        ("phone", phones),
        ("address_key", address_keys),
    ):
        keys = sorted({k for k in keys if k})
        if not keys:
            continue
        queryset = EnterprisePerson.objects.filter(**{f"{field}__in": keys}).order_by()
        if field in ("phone", "address_key"):
            queryset = queryset.exclude(**{field: ""})  # lets the partial index serve the query
        for row in queryset.values_list(*_LINK_COLUMNS)[:limit]:
            found.setdefault(row[0], PersonRoleLink(*row))
    return list(found.values())


def enterprise_links(
    *, ids: Iterable[int] = (), address_keys: Iterable[str] = (), limit: int = 1000
) -> list[EnterpriseLink]:
    """Enterprises by id and enterprises at any of the address keys (at most `limit` rows per kind)."""
    found: dict[int, EnterpriseLink] = {}
    ids = sorted(set(ids))
    if ids:
        for row in Enterprise.objects.filter(pk__in=ids).order_by().values_list(*_ENTERPRISE_LINK_COLUMNS):
            found[row[0]] = EnterpriseLink(*row)
    keys = sorted({k for k in address_keys if k})
    if keys:
        queryset = Enterprise.objects.filter(address_key__in=keys).exclude(address_key="").order_by()
        for row in queryset.values_list(*_ENTERPRISE_LINK_COLUMNS)[:limit]:
            found.setdefault(row[0], EnterpriseLink(*row))
    return list(found.values())


# --- matching an enterprise named in a report (investigations intake) -------------------------------------


def register_match(*, authority_id: int | None = None, uscc: str = "", name: str = "") -> Enterprise | None:
    """The register entry a report names: by (normalised) USCC first, else by its exact current name, else
    by an exact former name; within one authority when given. None when nothing matches."""
    queryset = Enterprise.objects.all()
    if authority_id is not None:
        queryset = queryset.filter(authority_id=authority_id)
    if uscc:
        found = queryset.filter(uscc=uscc).first()
        if found is not None:
            return found
    if not name:
        return None
    found = queryset.filter(name=name).order_by("-established_on", "id").first()
    if found is not None:
        return found
    return queryset.filter(former_names__name=name).order_by("-established_on", "id").distinct().first()


def enterprises_with_ids(ids: Iterable[int]) -> QuerySet[Enterprise]:
    """The enterprises with these ids (another module's records name them; it has already scoped them)."""
    return Enterprise.objects.filter(pk__in=list(ids)).select_related("street")


# --- enterprise tracking: what visit-plan generation reads from the register (issue 8) --------------------
# Appended by the tracking app; the imports stay here so this section can be read (and moved) as one piece.
import datetime as dt  # noqa: E402
from decimal import Decimal  # noqa: E402

# Sqlite allows 999 parameters a statement; name prefixes are looked up in chunks below that.
_NAME_CHUNK = 900


@dataclass(frozen=True)
class RegisterVersion:
    """One recorded version of an enterprise's register entry (django-simple-history), the fields the
    growth rules compare."""

    enterprise_id: int
    history_id: int
    recorded_at: dt.datetime
    registered_capital: Decimal | None
    business_scope: str


@dataclass(frozen=True)
class BranchOfParent:
    branch_id: int
    branch_name: str
    established_on: dt.date
    parent_id: int
    parent_name: str


def active_established_between(
    *, authority_id: int, since: dt.date, until: dt.date, exclude_types: tuple[str, ...] = ()
) -> list[tuple[int, str, dt.date]]:
    """(id, name, established_on) of the authority's active entries established in [since, until], leaving
    out the entity types named in `exclude_types`."""
    return list(
        Enterprise.objects.filter(
            authority_id=authority_id,
            status=EnterpriseStatus.ACTIVE,
            established_on__gte=since,
            established_on__lte=until,
        )
        .exclude(entity_type__in=exclude_types)
        .order_by("established_on", "id")
        .values_list("id", "name", "established_on")
    )


def register_versions_changed_since(
    *, authority_id: int, since: dt.datetime
) -> dict[int, list[RegisterVersion]]:
    """For every active enterprise of the authority whose entry was changed (not created) at or after
    `since`: its versions oldest first, starting with the last one recorded before `since` (the baseline the
    change is measured against). Three queries whatever the number of enterprises."""
    historical = Enterprise.history.model
    changed = historical.objects.filter(
        authority_id=authority_id, history_type="~", history_date__gte=since
    ).values("id")
    active = Enterprise.objects.filter(
        authority_id=authority_id, status=EnterpriseStatus.ACTIVE, pk__in=changed
    ).values("pk")
    rows = (
        historical.objects.filter(id__in=active)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_id", "history_date", "registered_capital", "business_scope")
    )
    versions: dict[int, list[RegisterVersion]] = {}
    for enterprise_id, history_id, recorded_at, capital, scope in rows.iterator(chunk_size=2000):
        chain = versions.setdefault(enterprise_id, [])
        version = RegisterVersion(enterprise_id, history_id, recorded_at, capital, scope or "")
        if recorded_at < since and chain:
            chain[-1] = version  # only the latest version before the window is the baseline
        else:
            chain.append(version)
    return versions


def branches_with_local_parent(*, authority_id: int, since: dt.date, until: dt.date) -> list[BranchOfParent]:
    """The authority's active branches (分公司) established in [since, until] whose name starts with the name
    of an active non-branch enterprise of the same authority (the longest such name is the parent)."""
    from bizreg.enterprises.models import EntityType

    branches = list(
        Enterprise.objects.filter(
            authority_id=authority_id,
            status=EnterpriseStatus.ACTIVE,
            entity_type=EntityType.BRANCH,
            established_on__gte=since,
            established_on__lte=until,
        )
        .order_by("established_on", "id")
        .values_list("id", "name", "established_on")
    )
    # A parent's name is a proper prefix of the branch's ("某某科技有限公司" → "某某科技有限公司广州分公司");
    # two characters are the shortest name the register allows.
    prefixes = sorted({name[:k] for _, name, _ in branches for k in range(2, len(name))})
    parents: dict[str, int] = {}
    candidates = Enterprise.objects.filter(authority_id=authority_id, status=EnterpriseStatus.ACTIVE).exclude(
        entity_type=EntityType.BRANCH
    )
    for start in range(0, len(prefixes), _NAME_CHUNK):
        chunk = prefixes[start : start + _NAME_CHUNK]
        for pk, name in candidates.filter(name__in=chunk).order_by("id").values_list("id", "name"):
            parents.setdefault(name, pk)
    found = []
    for branch_id, name, established_on in branches:
        for k in range(len(name) - 1, 1, -1):
            parent_id = parents.get(name[:k])
            if parent_id is not None:
                found.append(BranchOfParent(branch_id, name, established_on, parent_id, name[:k]))
                break
    return found


# --- enterprise tracking: what the move-out watch list reads from the register (issue 8) -------------------
# Appended by the tracking app (watch list).


@dataclass(frozen=True)
class StreetChange:
    """A recorded change of an enterprise's street (街道/镇) and the division the new street belongs to."""

    enterprise_id: int
    changed_at: dt.datetime
    old_street_id: int | None
    new_street_id: int
    new_street_name: str
    new_division_code: str
    address: str


def street_changes_since(*, authority_id: int, since: dt.datetime) -> list[StreetChange]:
    """Every change of street recorded in the history of the authority's enterprises at or after `since`,
    oldest first (any status: the caller decides which enterprises matter). Three queries: the versions of
    the enterprises changed in the window (with the one before it, to compare against) and their streets."""
    historical = Enterprise.history.model
    changed = historical.objects.filter(
        authority_id=authority_id, history_type="~", history_date__gte=since
    ).values("id")
    rows = (
        historical.objects.filter(id__in=changed)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", "street_id", "address")
    )
    found: list[tuple[int, object, int | None, int, str]] = []
    previous: dict[int, int | None] = {}
    for enterprise_id, recorded_at, street_id, address in rows.iterator(chunk_size=2000):
        if enterprise_id in previous and recorded_at >= since and street_id != previous[enterprise_id]:
            found.append((enterprise_id, recorded_at, previous[enterprise_id], street_id, address))
        previous[enterprise_id] = street_id
    streets = {
        pk: (name, division)
        for pk, name, division in Street.objects.filter(pk__in={f[3] for f in found}).values_list(
            "pk", "name", "division_code"
        )
    }
    return [
        StreetChange(eid, at, old, new, *streets.get(new, ("", "")), address or "")
        for eid, at, old, new, address in sorted(found, key=lambda f: (f[1], f[0]))
    ]
