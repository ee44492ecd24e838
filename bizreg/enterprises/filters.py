"""The register's search and filters, shared by the list page, the export and the REST API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from bizreg.core.identifiers import USCC_ALPHABET
from bizreg.core.scoping import authority_ids_for
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterpriseLock,
    EnterpriseStatus,
    EntityType,
    IndustrySection,
    Street,
)

YES_NO = (("1", _("是")), ("0", _("否")))
MAX_TERMS = 5
MAX_FORMER_NAME_HITS = 200
MIN_CONTAINS_LENGTH = 2  # shorter words are not searched inside names
MIN_USCC_PREFIX_LENGTH = 6  # a shorter run of digits is as likely a part of a name as of a code
# sort value → order_by; every ordering ends with the primary key so pages never overlap.
SORTS = {
    "-established_on": ("-established_on", "-id"),
    "established_on": ("established_on", "id"),
    "name": ("name_initials", "name", "id"),
    "-name": ("-name_initials", "-name", "-id"),
    "-registered_capital": ("-registered_capital", "-id"),
    "registered_capital": ("registered_capital", "id"),
    "uscc": ("uscc",),
}
SORT_CHOICES = (
    ("-established_on", _("成立日期（新→旧）")),
    ("established_on", _("成立日期（旧→新）")),
    ("name", _("名称拼音（A→Z）")),
    ("-name", _("名称拼音（Z→A）")),
    ("-registered_capital", _("注册资本（大→小）")),
    ("registered_capital", _("注册资本（小→大）")),
    ("uscc", _("统一社会信用代码")),
)
DEFAULT_SORT = "-established_on"


def active_lock_exists():
    return Exists(EnterpriseLock.objects.filter(enterprise=OuterRef("pk"), released_at__isnull=True))


def _contains(model, field: str, term: str, *, upper: bool = True) -> Q:
    """`field` contains `term`, case-insensitively when `upper`.

    On PostgreSQL a two-character term is matched through the character-pair (bigram) GIN indexes of
    migrations 0004/0005 (for names, the stored `name_bigrams` column), because a trigram index cannot
    serve a pattern shorter than three characters. Longer terms use the trigram indexes of 0003.
    """
    if len(term) != 2 or connection.vendor != "postgresql":
        return Q(**{f"{field}__icontains" if upper else f"{field}__contains": term})
    value = term.upper() if upper else term
    column = f'"{model._meta.db_table}"."{field}"'
    if model is Enterprise and field == "name":
        sql = '"enterprises_enterprise"."name_bigrams" @> ARRAY[%s]::text[]'  # generated column
    else:
        expression = f"UPPER(({column})::text)" if upper else f"({column})::text"
        sql = f"ent_bigrams({expression}) @> ARRAY[%s]::text[]"
    return Q(RawSQL(sql, (value,), output_field=BooleanField()))


def _uscc_prefix(code: str) -> Q:
    # A range rather than LIKE 'prefix%': the unique index serves it under any collation, and it is an
    # exact index condition, so PostgreSQL need not re-check the whole OR row by row.
    return Q(uscc__gte=code, uscc__lt=code[:-1] + chr(ord(code[-1]) + 1))


def is_uscc_shaped(term: str) -> bool:
    """Whether a search word can only be (the start of) a USCC: 6–18 characters of the USCC alphabet whose
    first eight are digits, as every code in the register has (department, type, division code).

    Such a word is looked up in the USCC index alone: names, former names and pinyin initials with a run
    of six digits are not what a clerk typing a code looks for, and their trigram scans cost more than
    the code lookup itself. The legal representative is a person's name, never a code.
    """
    code = term.upper()
    return (
        MIN_USCC_PREFIX_LENGTH <= len(code) <= 18
        and code.isascii()
        and code[:8].isdigit()
        and all(c in USCC_ALPHABET for c in code)
    )


def search_condition(term: str, *, authority_ids: list[int] | None) -> Q:
    """What one search word matches: name or former name (contains), pinyin initials, USCC, legal rep.

    A USCC or a USCC prefix (see is_uscc_shaped) matches the code only. Former names are looked up first
    (their own index) and joined in as ids, so the whole condition stays an OR of indexed predicates the
    planner can combine.
    """
    if is_uscc_shaped(term):
        code = term.upper()
        return Q(uscc=code) if len(code) == 18 else _uscc_prefix(code)
    condition = Q(legal_rep_name=term)
    if len(term) < MIN_CONTAINS_LENGTH:
        # One character is in a large share of all names and no index can find it: such a word matches
        # only what starts with it (a USCC) or equals it.
        if term.isascii() and term.isalnum():
            condition |= _uscc_prefix(term.upper())
        return condition
    condition |= _contains(Enterprise, "name", term)
    former = EnterpriseFormerName.objects.filter(_contains(EnterpriseFormerName, "name", term))
    if authority_ids is not None:
        former = former.filter(enterprise__authority_id__in=authority_ids)
    # No ORDER BY (the model's default "-used_until" would otherwise apply): ordering makes PostgreSQL
    # join every former name containing a common word before keeping 200 (≈ 280 ms for 有限 at 1M
    # enterprises, 3 ms without). Only a word with more than 200 former-name hits is affected, and such a
    # word matches thousands of current names as well.
    former_ids = list(former.order_by().values_list("enterprise_id", flat=True)[:MAX_FORMER_NAME_HITS])
    if former_ids:
        condition |= Q(pk__in=former_ids)
    if term.isascii() and term.isalnum():
        condition |= _contains(Enterprise, "name_initials", term.lower(), upper=False)
        code = term.upper()
        condition |= Q(uscc=code) if len(code) == 18 else _uscc_prefix(code)
    return condition


class EnterpriseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label=_("关键词"),
        max_length=100,
        help_text=_("名称/曾用名（至少 2 个字）、拼音首字母（如 gzns）、统一社会信用代码或法定代表人姓名"),
    )
    entity_type = django_filters.ChoiceFilter(
        choices=EntityType.choices, label=_("主体类型"), empty_label=_("全部")
    )
    status = django_filters.ChoiceFilter(
        choices=EnterpriseStatus.choices, label=_("登记状态"), empty_label=_("全部")
    )
    street = django_filters.ModelChoiceFilter(
        queryset=Street.objects.all(), label=_("街道/镇"), empty_label=_("全部")
    )
    industry = django_filters.ChoiceFilter(
        choices=IndustrySection.choices, label=_("行业门类"), empty_label=_("全部")
    )
    in_ftz = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_yes_no", label=_("自贸区"), empty_label=_("全部")
    )
    locked = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_locked", label=_("锁定"), empty_label=_("全部")
    )
    uscc_exception = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_exception", label=_("代码校验例外"), empty_label=_("全部")
    )
    established_from = django_filters.DateFilter(
        field_name="established_on",
        lookup_expr="gte",
        label=_("成立日期起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    established_to = django_filters.DateFilter(
        field_name="established_on",
        lookup_expr="lte",
        label=_("成立日期止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=_("排序"), empty_label=None
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data=data, queryset=queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)
        for form_field in self.form.fields.values():
            css = "form-select" if isinstance(form_field.widget, forms.Select) else "form-control"
            form_field.widget.attrs["class"] = (
                f"{css} form-select-sm" if css == "form-select" else f"{css} form-control-sm"
            )
        if self.user is not None:
            from bizreg.enterprises.selectors import streets_visible_to

            streets = streets_visible_to(self.user)
            self.filters["street"].queryset = streets
            self.form.fields["street"].queryset = streets

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        # The sort filter is skipped when its value is invalid or absent; the default order applies then.
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS[DEFAULT_SORT])
        return queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        terms = value.split()[:MAX_TERMS]
        if not terms:
            return queryset
        user = self.user
        authority_ids = None if (user is None or user.is_superuser) else authority_ids_for(user)
        for term in terms:
            queryset = queryset.filter(search_condition(term, authority_ids=authority_ids))
        return queryset

    def filter_yes_no(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value not in ("0", "1"):
            return queryset
        return queryset.filter(**{name: value == "1"})

    def filter_locked(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "1":
            return queryset.filter(active_lock_exists())
        if value == "0":
            return queryset.filter(~active_lock_exists())
        return queryset

    def filter_exception(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value not in ("0", "1"):
            return queryset
        return queryset.filter(uscc_is_exception=value == "1")

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS.get(value or DEFAULT_SORT, SORTS[DEFAULT_SORT]))

    @property
    def short_words(self) -> list[str]:
        """Search words too short to be looked for inside names (the page says so)."""
        if not self.has_search:
            return []
        return [w for w in self.form.cleaned_data["q"].split() if len(w) < MIN_CONTAINS_LENGTH]

    @property
    def has_search(self) -> bool:
        """Whether a (valid) search word narrows the list; plain column filters do not count here."""
        if not self.is_bound:
            return False
        self.form.is_valid()  # validates once; an invalid field is left out of cleaned_data
        return bool((self.form.cleaned_data.get("q") or "").strip())
