"""Reads of registration cases, always scoped by the user's authorities (another authority's case does not
exist for the user: 404), for the case pages, the API, the due warnings and the home page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from bizreg.core.dates import on_local_days
from bizreg.core.masking import mask_id_number, mask_person_name, mask_phone
from bizreg.core.money import format_wan
from bizreg.core.scoping import scope_to_user
from bizreg.core.statemachine import Transition
from bizreg.core.workdays import CalendarDataMissing, add_working_days, working_days_between
from bizreg.registration.models import (
    CASE_WORKFLOW,
    CaseExtension,
    CaseMaterial,
    CaseState,
    CaseTransitionLog,
    CaseType,
    Channel,
    LicenceSheet,
    MailHandover,
    MailPackage,
    Notice,
    RegistrationCase,
)
from bizreg.registration.selectors.mail import packages_visible_to
from bizreg.registration.selectors.staff import staff_doing
from bizreg.registration.services.cases import (
    REQUESTED_CHANGE_LABELS,
    action_refusal,
    case_allowed_working_days,
    case_working_days,
    enterprise_statuses_for,
    local_date,
)

PAGE_SIZE = 50
# Counting stops here: past it the list says "10,000+" and only that many rows can be paged (counting
# every case of a year for each page view would cost more than the page).
COUNT_CAP = 10_000
EXPORT_MAX_ROWS = 50_000

EXTRA_ACTION_LABELS = {
    "request_extension": gettext_lazy("申请延长办理期限"),
    "approve_extension": gettext_lazy("批准延长办理期限"),
    "refuse_extension": gettext_lazy("不批准延长办理期限"),
}

DUE_CHOICES = (
    ("warning", gettext_lazy("需预警（超期、今日或下一工作日到期）")),
    ("overdue", gettext_lazy("已超期")),
    ("due_today", gettext_lazy("今日到期")),
    ("due_soon", gettext_lazy("下一工作日到期")),
    ("on_track", gettext_lazy("期限内")),
)
DUE_LABELS = dict(DUE_CHOICES)
SORTS = {
    "-received_at": ("-received_at", "-id"),
    "received_at": ("received_at", "id"),
    "due_on": (F("due_on").asc(nulls_last=True), "id"),
    "-due_on": (F("due_on").desc(nulls_last=True), "-id"),
    "number": ("number",),
    "-number": ("-number",),
}
SORT_CHOICES = (
    ("-received_at", gettext_lazy("收件时间（新→旧）")),
    ("received_at", gettext_lazy("收件时间（旧→新）")),
    ("due_on", gettext_lazy("法定办结日（早→晚）")),
    ("-due_on", gettext_lazy("法定办结日（晚→早）")),
    ("number", gettext_lazy("业务编号（小→大）")),
    ("-number", gettext_lazy("业务编号（大→小）")),
)
DEFAULT_SORT = "-received_at"


# --- the working-day reference points of today --------------------------------------------------------


@dataclass(frozen=True)
class DueDates:
    today: dt.date
    next_working_day: dt.date
    calendar_missing: str = ""


def due_dates(today: dt.date | None = None) -> DueDates:
    """Today and the next working day (the "due soon" horizon of the warnings)."""
    today = today or timezone.localdate()
    try:
        return DueDates(today=today, next_working_day=add_working_days(today, 1))
    except CalendarDataMissing as exc:
        # Only a warning horizon depends on this (never a deadline): without next year's calendar the next
        # calendar weekday stands in, and the page says why.
        day = today + dt.timedelta(days=1)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return DueDates(today=today, next_working_day=day, calendar_missing=str(exc))


def due_condition(status: str, dates: DueDates) -> Q:
    running = Q(state=CaseState.ACCEPTED)
    if status == "overdue":
        return running & Q(due_on__lt=dates.today)
    if status == "due_today":
        return running & Q(due_on=dates.today)
    if status == "due_soon":
        return running & Q(due_on__gt=dates.today, due_on__lte=dates.next_working_day)
    if status == "warning":
        return running & Q(due_on__lte=dates.next_working_day)
    if status == "on_track":
        return running & Q(due_on__gt=dates.next_working_day)
    return Q()


def case_due_status(case: RegistrationCase, dates: DueDates) -> str:
    """overdue / due_today / due_soon / on_track for a case on the clock; "" otherwise."""
    return due_status(state=case.state, due_on=case.due_on, dates=dates)


def due_status(*, state: str, due_on: dt.date | None, dates: DueDates) -> str:
    if state != CaseState.ACCEPTED or due_on is None:
        return ""
    if due_on < dates.today:
        return "overdue"
    if due_on == dates.today:
        return "due_today"
    if due_on <= dates.next_working_day:
        return "due_soon"
    return "on_track"


def case_export_rows(cases: QuerySet[RegistrationCase], dates: DueDates) -> Iterator[tuple]:
    """One tuple per case of the list export, streamed as plain values; personal data always masked (full
    values are shown one case at a time, logged)."""
    case_types = {value: str(label) for value, label in CaseType.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    states = {value: str(label) for value, label in CaseState.choices}
    values = cases.values_list(
        "number",
        "case_type",
        "channel",
        "state",
        "enterprise_name",
        "uscc",
        "applicant_name",
        "applicant_id_number",
        "applicant_phone",
        "agent_name",
        "received_at",
        "received_by__display_name",
        "received_by__username",
        "accepted_at",
        "due_on",
        "decided_at",
        "licensed_at",
        "on_the_spot",
        "extended",
    )
    for (
        number,
        case_type,
        channel,
        state,
        enterprise_name,
        uscc,
        applicant_name,
        applicant_id_number,
        applicant_phone,
        agent_name,
        received_at,
        received_by_name,
        received_by_username,
        accepted_at,
        due_on,
        decided_at,
        licensed_at,
        on_the_spot,
        extended,
    ) in values.iterator(chunk_size=2000):
        yield (
            number,
            case_types.get(case_type, case_type),
            channels.get(channel, channel),
            states.get(state, state),
            enterprise_name,
            uscc,
            mask_person_name(applicant_name),
            mask_id_number(applicant_id_number),
            mask_phone(applicant_phone),
            mask_person_name(agent_name),
            received_at,
            received_by_name or received_by_username or "",
            accepted_at,
            due_on,
            str(DUE_LABELS.get(due_status(state=state, due_on=due_on, dates=dates), "")),
            decided_at,
            licensed_at,
            "是" if on_the_spot else "",
            "是" if extended else "",
        )


# --- scope ----------------------------------------------------------------------------------------------


def cases_visible_to(user) -> QuerySet[RegistrationCase]:
    return scope_to_user(RegistrationCase.objects.all(), user)


def case_for(*, user, pk: Any) -> RegistrationCase:
    """The case if the user may see it; 404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该登记业务。")) from None
    case = (
        cases_visible_to(user).select_related("authority", "enterprise", "received_by").filter(pk=pk).first()
    )
    if case is None:
        raise Http404(_("没有找到该登记业务。"))
    return case


# --- list, search, filters ------------------------------------------------------------------------------


def _number_prefix(code: str) -> Q:
    # A range rather than LIKE 'prefix%': the unique index serves it under any collation.
    return Q(number__gte=code, number__lt=code[:-1] + chr(ord(code[-1]) + 1))


def _enterprise_name_contains(term: str) -> Q:
    """`enterprise_name__icontains=term`, served by an index on PostgreSQL for every length.

    The trigram index (migration 0002) cannot serve a two-character pattern, the commonest Chinese search,
    so such a term is matched through the stored character-pair column of migration 0005: the name
    contains the two characters exactly when its pairs include them. UPPER is applied in SQL on both
    sides, as icontains does, so the two forms match the same rows.
    """
    if len(term) != 2 or connection.vendor != "postgresql":
        return Q(enterprise_name__icontains=term)
    sql = '"registration_registrationcase"."enterprise_name_bigrams" @> ARRAY[UPPER(%s)]::text[]'
    return Q(RawSQL(sql, (term,), output_field=BooleanField()))


def search_condition(term: str) -> Q:
    """What the search box matches: case number (or its beginning), USCC, enterprise name, applicant."""
    term = term.strip()
    condition = Q(applicant_name=term)
    code = term.upper()
    if code.isascii() and code.isalnum():
        if len(code) == 18:
            condition |= Q(uscc=code)
        if code.isdigit() and len(code) >= 6:
            condition |= _number_prefix(code)
    if len(term) >= 2:
        condition |= _enterprise_name_contains(term)
    return condition


class CaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label=gettext_lazy("关键词"),
        max_length=100,
        help_text=gettext_lazy("业务编号、统一社会信用代码、企业名称（至少 2 个字）或申请人姓名"),
    )
    case_type = django_filters.ChoiceFilter(
        choices=CaseType.choices, label=gettext_lazy("业务类型"), empty_label=gettext_lazy("全部")
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, label=gettext_lazy("办理渠道"), empty_label=gettext_lazy("全部")
    )
    state = django_filters.ChoiceFilter(
        choices=CaseState.choices, label=gettext_lazy("状态"), empty_label=gettext_lazy("全部")
    )
    received_from = django_filters.DateFilter(
        method="filter_received_from",
        label=gettext_lazy("收件日期起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_to = django_filters.DateFilter(
        method="filter_received_to",
        label=gettext_lazy("收件日期止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    decided_from = django_filters.DateFilter(
        method="filter_decided_from",
        label=gettext_lazy("决定日期起"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    decided_to = django_filters.DateFilter(
        method="filter_decided_to",
        label=gettext_lazy("决定日期止"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due = django_filters.ChoiceFilter(
        choices=DUE_CHOICES,
        method="filter_due",
        label=gettext_lazy("办理时限"),
        empty_label=gettext_lazy("全部"),
    )
    received_by = django_filters.ModelChoiceFilter(
        queryset=None, label=gettext_lazy("收件人"), empty_label=gettext_lazy("全部")
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=gettext_lazy("排序"), empty_label=None
    )

    class Meta:
        model = RegistrationCase
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        self.user = user if user is not None else getattr(request, "user", None)
        super().__init__(data=data, queryset=queryset, request=request, prefix=prefix)
        if self.user is None:  # the OpenAPI schema is built without a user
            from bizreg.accounts.models import User

            receivers = User.objects.none()
        else:
            receivers = staff_doing(
                self.user,
                permission="registration.add_registrationcase",
                did=((RegistrationCase, "received_by", "received_at"),),
            )
        self.filters["received_by"].queryset = receivers
        self.form.fields["received_by"].queryset = receivers
        for form_field in self.form.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(form_field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            form_field.widget.attrs["class"] = css
        self._dates: DueDates | None = None

    @property
    def dates(self) -> DueDates:
        if self._dates is None:
            self._dates = due_dates()
        return self._dates

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS[DEFAULT_SORT])
        return queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        return queryset.filter(search_condition(value)) if value else queryset

    def filter_received_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        start = timezone.make_aware(dt.datetime.combine(value, dt.time.min))
        return queryset.filter(received_at__gte=start)

    def filter_received_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        end = timezone.make_aware(dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min))
        return queryset.filter(received_at__lt=end)

    # The cases behind the processing-time figures (decided in a period, after an acceptance).
    def filter_decided_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        start = timezone.make_aware(dt.datetime.combine(value, dt.time.min))
        return queryset.filter(decided_at__gte=start, accepted_at__isnull=False)

    def filter_decided_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        end = timezone.make_aware(dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min))
        return queryset.filter(decided_at__lt=end, accepted_at__isnull=False)

    def filter_due(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(due_condition(value, self.dates)) if value else queryset

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS.get(value or DEFAULT_SORT, SORTS[DEFAULT_SORT]))


def case_filterset(*, user, params: Mapping[str, str]) -> CaseFilterSet:
    queryset = cases_visible_to(user).select_related("received_by")
    return CaseFilterSet(params or None, queryset=queryset, user=user)


def case_search(*, user, params: Mapping[str, str]) -> QuerySet[RegistrationCase]:
    """The cases matching `params`, ordered, not paginated (invalid filter values are ignored here; the
    page shows them as form errors and the API answers 400)."""
    return case_filterset(user=user, params=params).qs


class CasePaginator(Paginator):
    """Counts at most COUNT_CAP rows; pages beyond the cap are not offered."""

    def __init__(self, object_list, per_page, *args, count_cap: int = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_cap = count_cap
        self.count_is_capped = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by().values("pk")[: self.count_cap + 1].count()
        if counted > self.count_cap:
            self.count_is_capped = True
            return self.count_cap
        return counted

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, max(1, self.count_cap // self.per_page))


@dataclass
class CaseListing:
    filterset: CaseFilterSet
    page: Page
    dates: DueDates
    rows: list[tuple[RegistrationCase, str]]


def case_listing(*, user, params: Mapping[str, str]) -> CaseListing:
    filterset = case_filterset(user=user, params=params)
    paginator = CasePaginator(filterset.qs, PAGE_SIZE)
    page = paginator.get_page(params.get("page"))
    dates = filterset.dates
    rows = [(case, case_due_status(case, dates)) for case in page.object_list]
    return CaseListing(filterset=filterset, page=page, dates=dates, rows=rows)


# --- statutory clock: warnings and due lists -----------------------------------------------------------


def due_summary(*, user, dates: DueDates | None = None) -> dict[str, int]:
    """How many of the user's cases on the clock are overdue, due today, due on the next working day."""
    dates = dates or due_dates()
    running = cases_visible_to(user).filter(state=CaseState.ACCEPTED, due_on__lte=dates.next_working_day)
    return running.order_by().aggregate(
        overdue=Count("id", filter=Q(due_on__lt=dates.today)),
        due_today=Count("id", filter=Q(due_on=dates.today)),
        due_soon=Count("id", filter=Q(due_on__gt=dates.today)),
    )


def due_lists(*, user, limit: int = 200) -> dict[str, Any]:
    """The three warning lists of the 到期预警 page, each ordered by due date, at most `limit` rows."""
    dates = due_dates()
    base = cases_visible_to(user).select_related("received_by").order_by("due_on", "received_at", "id")
    lists = {}
    for status in ("overdue", "due_today", "due_soon"):
        lists[status] = list(base.filter(due_condition(status, dates))[:limit])
    return {"dates": dates, "lists": lists, "summary": {k: len(v) for k, v in lists.items()}}


def home_figures(*, user) -> list[dict]:
    """The statutory-clock warnings of the home page, and the extensions waiting for the head: one
    aggregate over the cases on the clock (an open case with a pending extension is on the clock)."""
    dates = due_dates()
    running = cases_visible_to(user).filter(state=CaseState.ACCEPTED).order_by()
    summary = running.aggregate(
        overdue=Count("id", filter=Q(due_on__lt=dates.today)),
        due_today=Count("id", filter=Q(due_on=dates.today)),
        due_soon=Count("id", filter=Q(due_on__gt=dates.today, due_on__lte=dates.next_working_day)),
        extensions=Count("id", filter=Q(extension__status=CaseExtension.Status.REQUESTED)),
    )
    base = "/registration/cases/?due="
    figures = [
        {
            "key": "cases_overdue",
            "label": _("登记业务已超期"),
            "value": summary["overdue"],
            "url": base + "overdue",
        },
        {
            "key": "cases_due_today",
            "label": _("今日到期"),
            "value": summary["due_today"],
            "url": base + "due_today",
        },
        {
            "key": "cases_due_soon",
            "label": _("下一工作日到期"),
            "value": summary["due_soon"],
            "url": base + "due_soon",
        },
    ]
    if user.has_perm("registration.approve_extension"):
        figures.append(
            {
                "key": "extensions_pending",
                "label": _("待审批延期"),
                "value": summary["extensions"],
                "url": "/registration/extensions/",
            }
        )
    return figures


# --- detail ---------------------------------------------------------------------------------------------


def case_materials(*, case: RegistrationCase) -> list[CaseMaterial]:
    return list(case.materials.select_related("requirement").order_by("requirement__order", "requirement_id"))


def case_deficiencies(*, case: RegistrationCase) -> list:
    return list(case.deficiencies.select_related("requirement").order_by("-round", "id"))


def case_open_deficiencies(*, case: RegistrationCase) -> list:
    """What the 一次性告知 asked to correct and is not corrected yet, in the notice's order."""
    return list(case.deficiencies.filter(resolved=False).order_by("round", "id"))


def case_requested_changes(*, case: RegistrationCase, user) -> list[tuple[str, str]]:
    """The requested changes (or the new entry's data) as (label, shown value); ID numbers masked."""
    from bizreg.enterprises.models import EntityType, IndustrySection
    from bizreg.enterprises.selectors import streets_visible_to

    changes = case.requested_changes or {}
    rows = []
    for key, value in changes.items():
        label = str(REQUESTED_CHANGE_LABELS.get(key, key))
        if key == "legal_rep_id_number":
            shown = mask_id_number(str(value))
        elif key == "street":
            street = streets_visible_to(user).filter(pk=value).first()
            shown = street.name if street is not None else str(value)
        elif key == "registered_capital":
            try:
                shown = format_wan(value)
            except ValueError:
                shown = str(value)
        elif key == "entity_type":
            shown = str(dict(EntityType.choices).get(value, value))
        elif key == "industry":
            shown = str(dict(IndustrySection.choices).get(value, value))
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows


def case_available_actions(*, case: RegistrationCase, user) -> list[Transition]:
    """The workflow steps the user may take now (role and state), less those the case type rules out."""
    return [
        t
        for t in CASE_WORKFLOW.available(state=case.state, user=user)
        if action_refusal(case, t.action) is None
    ]


def case_notices(*, case: RegistrationCase) -> list[Notice]:
    return list(case.notices.select_related("issued_by").order_by("issued_at", "id"))


def case_licences(*, case: RegistrationCase) -> list[LicenceSheet]:
    return list(case.licences.select_related("used_by").order_by("used_at", "serial"))


def case_extension(*, case: RegistrationCase) -> CaseExtension | None:
    return CaseExtension.objects.filter(case=case).select_related("requested_by", "decided_by").first()


@dataclass
class Clock:
    accepted_on: dt.date | None
    due_on: dt.date | None
    used: int | None
    allowed: int
    status: str  # on_the_spot / on_time / late / overdue / due_today / due_soon / on_track / not_started
    label: str


def case_clock(*, case: RegistrationCase) -> Clock:
    """Working days used against the days allowed (3, or 6 after an approved extension)."""
    allowed = case_allowed_working_days(case)
    if case.accepted_at is None:
        return Clock(None, None, None, allowed, "not_started", _("尚未受理，未开始计时"))
    accepted_on = local_date(case.accepted_at)
    try:
        if case.due_on is not None:
            allowed = working_days_between(accepted_on, case.due_on)
        if case.decided_at is not None:
            used = case_working_days(case)
            decided_on = local_date(case.decided_at)
            if case.on_the_spot:
                return Clock(accepted_on, case.due_on, used, allowed, "on_the_spot", _("当场办结"))
            if case.due_on is not None and decided_on > case.due_on:
                return Clock(accepted_on, case.due_on, used, allowed, "late", _("超期办结"))
            return Clock(accepted_on, case.due_on, used, allowed, "on_time", _("按期办结"))
        if case.state != CaseState.ACCEPTED:  # withdrawn before a decision
            return Clock(accepted_on, case.due_on, None, allowed, "stopped", _("已撤回，停止计时"))
        used = case_working_days(case)
    except CalendarDataMissing as exc:
        # The page still shows; the clock says which year's calendar staff must register first.
        return Clock(accepted_on, case.due_on, None, allowed, "calendar_missing", str(exc))
    status = case_due_status(case, due_dates())
    return Clock(accepted_on, case.due_on, used, allowed, status, str(DUE_LABELS.get(status, "")))


@dataclass
class TimelineEntry:
    when: dt.datetime
    kind: str  # intake / transition / notice / licence
    label: str
    actor: Any = None
    detail: str = ""
    from_state: str = ""
    to_state: str = ""
    link: Any = None


def case_timeline(*, case: RegistrationCase, user=None) -> list[TimelineEntry]:
    """Intake, every transition (and extension step), every notice and licence, oldest first; with `user`,
    also the mail of the case that user may see (packages received or sent, and every hand-over)."""
    entries = [
        TimelineEntry(
            when=case.received_at,
            kind="intake",
            label=_("收件"),
            actor=case.received_by,
            detail=_("%(channel)s收件，业务编号 %(number)s")
            % {"channel": case.get_channel_display(), "number": case.number},
        )
    ]
    labels = dict(CaseState.choices)
    for log in (
        CaseTransitionLog.objects.filter(case=case).select_related("actor").order_by("occurred_at", "id")
    ):
        if log.action in CASE_WORKFLOW.transitions:
            label = CASE_WORKFLOW.transitions[log.action].label
        else:
            label = str(EXTRA_ACTION_LABELS.get(log.action, log.action))
        entries.append(
            TimelineEntry(
                when=log.occurred_at,
                kind="transition",
                label=label,
                actor=log.actor,
                detail=log.reason,
                from_state=labels.get(log.from_state, log.from_state),
                to_state=labels.get(log.to_state, log.to_state),
            )
        )
    for notice in case_notices(case=case):
        entries.append(
            TimelineEntry(
                when=notice.issued_at,
                kind="notice",
                label=_("签发%(kind)s") % {"kind": notice.get_kind_display()},
                actor=notice.issued_by,
                detail=notice.number,
                link=notice,
            )
        )
    for sheet in case_licences(case=case):
        if sheet.used_at is None:
            continue
        entries.append(
            TimelineEntry(
                when=sheet.used_at,
                kind="licence",
                label=_("打印营业执照%(kind)s") % {"kind": sheet.get_kind_display()},
                actor=sheet.used_by,
                detail=_("编号 %(serial)s（%(status)s）")
                % {"serial": sheet.serial, "status": sheet.get_status_display()},
            )
        )
    if user is not None and user.has_perm("registration.view_mailpackage"):
        entries.extend(_mail_timeline(case=case, user=user))
    order = {"intake": 0, "transition": 1, "notice": 2, "licence": 3, "mail": 4}
    entries.sort(key=lambda e: (e.when, order[e.kind]))
    return entries


def _mail_timeline(*, case: RegistrationCase, user) -> Iterator[TimelineEntry]:
    packages = (
        packages_visible_to(user)
        .filter(case=case)
        .order_by("recorded_at", "id")
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("handovers", queryset=MailHandover.objects.select_related("from_user", "to_user"))
        )
    )
    for package in packages:
        tracking = f"{package.get_courier_display()} {package.tracking_number}"
        inbound = package.direction == MailPackage.Direction.INBOUND
        yield TimelineEntry(
            when=package.recorded_at,
            kind="mail",
            label=_("收到邮寄件") if inbound else _("寄出营业执照"),
            actor=package.recorded_by,
            detail=tracking,
        )
        for handover in package.handovers.all():
            yield TimelineEntry(
                when=handover.occurred_at,
                kind="mail",
                label=_("邮寄件交接"),
                actor=handover.from_user,
                detail=_("%(tracking)s 交 %(to)s（%(purpose)s）")
                % {"tracking": tracking, "to": handover.to_user, "purpose": handover.purpose},
            )


def case_pauses(*, case: RegistrationCase) -> list[dict]:
    rows = []
    for pause in case.pauses.order_by("started_on", "id"):
        days = working_days_between(pause.started_on, pause.ended_on) if pause.ended_on else None
        rows.append({"started_on": pause.started_on, "ended_on": pause.ended_on, "working_days": days})
    return rows


# --- extensions -----------------------------------------------------------------------------------------


def extensions_visible_to(user) -> QuerySet[CaseExtension]:
    return scope_to_user(CaseExtension.objects.all(), user, field="case__authority")


def extensions_pending(*, user) -> QuerySet[CaseExtension]:
    """Requests waiting for the head, of cases still on the clock (a request of a case decided or withdrawn
    meanwhile has nothing left to extend)."""
    return (
        extensions_visible_to(user)
        .filter(status=CaseExtension.Status.REQUESTED, case__state=CaseState.ACCEPTED)
        .select_related("case", "requested_by")
        .order_by("case__due_on", "created_at")
    )


def extensions_decided(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[CaseExtension]:
    """Decided requests matching the cleaned history filter (result, decision dates, case number or
    enterprise name), the latest decision first."""
    filters = filters or {}
    qs = extensions_visible_to(user).exclude(status=CaseExtension.Status.REQUESTED)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    qs = qs.filter(on_local_days("decided_at", filters.get("date_from"), filters.get("date_to")))
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(case__number=q.upper()) | Q(case__enterprise_name__icontains=q))
    # The head's comment is kept with the decision's transition (a refusal must give one); an approval
    # without one is logged with the request's reason, which is no comment.
    logged = (
        CaseTransitionLog.objects.filter(
            case=OuterRef("case"), action__in=("approve_extension", "refuse_extension")
        )
        .order_by("-occurred_at", "-id")
        .values("reason")[:1]
    )
    return (
        qs.select_related("case", "requested_by", "decided_by")
        .annotate(logged_comment=Subquery(logged))
        .annotate(
            decision_comment=Case(
                When(logged_comment=F("reason"), then=Value("")),
                default=F("logged_comment"),
                output_field=CharField(),
            )
        )
        .order_by("-decided_at", "-id")
    )


def extensions_decided_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(extensions_decided(user=user, filters=filters), PAGE_SIZE).get_page(page)


EXTENSION_EXPORT_HEADERS = (
    gettext_noop("业务编号"),
    gettext_noop("业务类型"),
    gettext_noop("企业名称"),
    gettext_noop("受理时间"),
    gettext_noop("延长理由"),
    gettext_noop("申请人（经办）"),
    gettext_noop("申请时间"),
    gettext_noop("审批结果"),
    gettext_noop("审批人"),
    gettext_noop("审批时间"),
    gettext_noop("审批意见"),
    gettext_noop("法定办结日"),
    gettext_noop("核准/不予登记时间"),
)


def extension_export_rows(extensions: QuerySet[CaseExtension]) -> Iterator[tuple]:
    for extension in extensions.iterator(chunk_size=2000):
        case = extension.case
        yield (
            case.number,
            case.get_case_type_display(),
            case.enterprise_name,
            case.accepted_at,
            extension.reason,
            str(extension.requested_by),
            extension.created_at,
            extension.get_status_display(),
            str(extension.decided_by or ""),
            extension.decided_at,
            extension.decision_comment or "",
            case.due_on,
            case.decided_at,
        )


def extension_for(*, user, pk: Any) -> CaseExtension:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该延长申请。")) from None
    extension = extensions_visible_to(user).select_related("case").filter(pk=pk).first()
    if extension is None:
        raise Http404(_("没有找到该延长申请。"))
    return extension


# --- intake helpers -------------------------------------------------------------------------------------


def enterprise_matches(*, user, q: str, case_type: str = "", limit: int = 10) -> list:
    """Register entries for the intake form's enterprise lookup (name, pinyin initials or USCC), those the
    chosen case type can be received for first; each says whether it can (`selectable`)."""
    from bizreg.enterprises import selectors as enterprise_selectors

    q = (q or "").strip()[:100]
    if len(q) < 2:
        return []
    statuses = enterprise_statuses_for(case_type if case_type in CaseType.values else "")
    found = list(enterprise_selectors.enterprise_search(user=user, params={"q": q})[: limit * 3])
    for entry in found:
        entry.selectable = entry.status in statuses
    found.sort(key=lambda entry: not entry.selectable)  # stable: the search's order within each group
    return found[:limit]


def api_queryset(*, user) -> QuerySet[RegistrationCase]:
    return cases_visible_to(user).select_related("received_by")


def api_detail_queryset(*, user) -> QuerySet[RegistrationCase]:
    return cases_visible_to(user).prefetch_related(
        Prefetch(
            "materials",
            queryset=CaseMaterial.objects.select_related("requirement").order_by("requirement__order"),
        ),
        "deficiencies",
        Prefetch(
            "transitions",
            queryset=CaseTransitionLog.objects.select_related("actor").order_by("occurred_at", "id"),
        ),
    )
