"""Reads of the investigation cases, always scoped by the user: investigators and managers (with
investigations.view_investigationcase) see their authorities' cases; everyone else sees nothing, and "not
yours" looks the same as "does not exist" (Http404). The views log each refusal (views.common).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date

from bizreg.core.identifiers import normalize_resident_id, normalize_uscc
from bizreg.core.scoping import scope_to_user
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.enterprises.models import Enterprise
from bizreg.investigations.models import (
    OPEN_STATES,
    CaseDocument,
    CaseEnterprise,
    CaseEvent,
    CaseState,
    DeadlineKind,
    DeadlineReminder,
    Decision,
    DecisionOutcome,
    Evidence,
    FieldCheck,
    FieldCheckState,
    InvestigationCase,
    RegistrationBan,
    Report,
    ReportedEnterprise,
    ReportSource,
    VictimSurvey,
)

VIEW = "investigations.view_investigationcase"
VIEW_BANS = "investigations.view_registrationban"
NOT_FOUND = "没有找到该案件。"
# How far ahead the due list looks (calendar days); overdue items are always on it.
DUE_HORIZON_DAYS = 14
REVOKING = (DecisionOutcome.REVOKE_ALL, DecisionOutcome.REVOKE_ITEMS)
TRUE_VALUES = frozenset({"1", "true", "on", "yes", "是"})
FALSE_VALUES = frozenset({"0", "false", "off", "no", "否"})


def _may_view(user, permission: str = VIEW) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(permission))


def cases_visible_to(user) -> QuerySet[InvestigationCase]:
    """The cases the user may see: none without investigations.view_investigationcase."""
    if not _may_view(user):
        return InvestigationCase.objects.none()
    return scope_to_user(InvestigationCase.objects.select_related("assigned_to", "authority"), user)


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None


def case_for(*, user, pk: Any) -> InvestigationCase:
    """The case if the user may see it; Http404 alike for "not yours" and "does not exist"."""
    case = cases_visible_to(user).select_related("merged_into").filter(pk=_pk(pk)).first()
    if case is None:
        raise Http404(NOT_FOUND)
    return case


def case_by_number(*, user, number: str) -> InvestigationCase | None:
    """A visible case by its number (the merge form names the target case by number)."""
    number = "".join(str(number or "").split())
    if not number:
        return None
    return cases_visible_to(user).filter(number=number).first()


# --- the list -----------------------------------------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return parse_date(value.strip())
        except ValueError:
            return None
    return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    return None


def _bounds(params: Mapping, prefix: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The inclusive local dates `<prefix>_from` / `<prefix>_to` as a half-open datetime range."""
    tz = timezone.get_default_timezone()
    start, end = _date(params.get(f"{prefix}_from")), _date(params.get(f"{prefix}_to"))
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None
    return since, until


def _range(queryset: QuerySet, field: str, since, until) -> QuerySet:
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gte": since})
    if until is not None:
        queryset = queryset.filter(**{f"{field}__lt": until})
    return queryset


def overdue_q(today: dt.date) -> Q:
    """Open cases past the deadline that runs now (a suspended case's clock stands still)."""
    return Q(state=CaseState.RECEIVED, acceptance_due_on__lt=today) | Q(
        state__in=(CaseState.INVESTIGATING, CaseState.PUBLIC_NOTICE), investigation_due_on__lt=today
    )


def _text_search(queryset: QuerySet, q: str) -> QuerySet:
    named = ReportedEnterprise.objects.filter(report__case=OuterRef("pk"), name_as_given__icontains=q)
    under = CaseEnterprise.objects.filter(case=OuterRef("pk"), enterprise__name__icontains=q)
    condition = (
        Q(number__icontains=q)
        | Q(summary__icontains=q)
        | Q(victim_name__icontains=q)
        | Q(Exists(named))
        | Q(Exists(under))
    )
    identifier = normalize_resident_id(q)
    if len(identifier) == 18:
        condition |= Q(victim_id_number=identifier)
        uscc = normalize_uscc(q)
        condition |= Q(Exists(CaseEnterprise.objects.filter(case=OuterRef("pk"), enterprise__uscc=uscc)))
    return queryset.filter(condition)


def case_listing(*, user, params: Mapping[str, Any]) -> QuerySet[InvestigationCase]:
    """The visible cases filtered by `params` (a form's cleaned_data or a query string's values).

    Filters: q (number, summary, victim name, enterprise name as reported or as registered; an 18-character
    ID number or USCC exactly), state, source, overdue, assigned=me, received_from/_to, closed_from/_to,
    decided_from/_to with outcome (a DecisionOutcome or "revoke" for both revocations), within_deadline
    (1/0), answered_from/_to (survey answered) with satisfied (1: score 4–5). Dates are inclusive local
    dates; a value that does not parse is ignored.
    """
    queryset = cases_visible_to(user)
    q = str(params.get("q") or "").strip()[:100]
    if q:
        queryset = _text_search(queryset, q)
    state = str(params.get("state") or "")
    if state in CaseState.values:
        queryset = queryset.filter(state=state)
    source = str(params.get("source") or "")
    if source in ReportSource.values:
        queryset = queryset.filter(source=source)
    if _flag(params.get("overdue")):
        queryset = queryset.filter(overdue_q(timezone.localdate()))
    if str(params.get("assigned") or "") == "me":
        queryset = queryset.filter(assigned_to=user)
    start, end = _date(params.get("received_from")), _date(params.get("received_to"))
    if start:
        queryset = queryset.filter(received_on__gte=start)
    if end:
        queryset = queryset.filter(received_on__lte=end)
    queryset = _range(queryset, "closed_at", *_bounds(params, "closed"))
    within = _flag(params.get("within_deadline"))
    if within is not None:
        queryset = queryset.filter(closed_within_deadline=within)
    since, until = _bounds(params, "decided")
    outcome = str(params.get("outcome") or "")
    if since or until or outcome:
        decisions = _range(Decision.objects.filter(case=OuterRef("pk")), "decided_at", since, until)
        if outcome == "revoke":
            decisions = decisions.filter(outcome__in=REVOKING)
        elif outcome in DecisionOutcome.values:
            decisions = decisions.filter(outcome=outcome)
        queryset = queryset.filter(Exists(decisions))
    since, until = _bounds(params, "answered")
    satisfied = _flag(params.get("satisfied"))
    if since or until or satisfied is not None:
        surveys = _range(
            VictimSurvey.objects.filter(case=OuterRef("pk"), answered_at__isnull=False),
            "answered_at",
            since,
            until,
        )
        if satisfied is True:
            surveys = surveys.filter(score__gte=4)
        elif satisfied is False:
            surveys = surveys.filter(score__lte=3)
        queryset = queryset.filter(Exists(surveys))
    return queryset


# --- one case's parts ---------------------------------------------------------------------------------


def case_reports(*, case: InvestigationCase) -> list[Report]:
    """The reports of the case, oldest first, with the enterprises each names (matched or flagged)."""
    named = ReportedEnterprise.objects.select_related("enterprise").order_by("id")
    return list(
        case.reports.select_related("submitted_by").prefetch_related(
            Prefetch("named_enterprises", queryset=named)
        )
    )


def case_enterprises(*, case: InvestigationCase) -> list[CaseEnterprise]:
    return list(case.enterprises.select_related("enterprise", "enterprise__street", "added_by"))


def case_enterprise_choices(*, case: InvestigationCase) -> QuerySet[Enterprise]:
    """The case's enterprises as a queryset (the field-check form chooses among them)."""
    return enterprise_selectors.enterprises_with_ids(case.enterprises.values_list("enterprise_id", flat=True))


def case_field_checks(*, case: InvestigationCase) -> QuerySet[FieldCheck]:
    """The current version of each field check of the case (superseded versions: field_check_versions)."""
    return (
        case.field_checks.exclude(state=FieldCheckState.SUPERSEDED)
        .select_related("enterprise", "assigned_to", "submitted_by")
        .order_by("created_at", "id")
    )


def field_check_versions(*, field_check: FieldCheck) -> list[FieldCheck]:
    """Every version of the field check's report, first to latest."""
    first = field_check
    while first.supersedes_id is not None:
        first = FieldCheck.objects.get(pk=first.supersedes_id)
    versions = [first]
    while True:
        following = FieldCheck.objects.filter(supersedes=versions[-1]).select_related("submitted_by").first()
        if following is None:
            return versions
        versions.append(following)


def case_evidence(*, case: InvestigationCase) -> QuerySet[Evidence]:
    """Every piece of evidence with every version (the page marks the superseded ones)."""
    return (
        case.evidence.select_related("uploaded_by", "field_check")
        .annotate(is_superseded=Exists(Evidence.objects.filter(supersedes=OuterRef("pk"))))
        .order_by("uploaded_at", "id")
    )


def case_documents(*, case: InvestigationCase) -> QuerySet[CaseDocument]:
    return case.documents.select_related("issued_by").order_by("issued_at", "id")


def case_timeline(case: InvestigationCase) -> list[CaseEvent]:
    """Every transition and clock event of the case, with the cases merged into it, oldest first."""
    return list(
        CaseEvent.objects.filter(Q(case=case) | Q(case__merged_into=case))
        .select_related("actor", "case")
        .order_by("occurred_at", "id")
    )


def field_check_for(*, user, pk: Any) -> FieldCheck:
    check = (
        FieldCheck.objects.filter(pk=_pk(pk), case__in=cases_visible_to(user))
        .select_related("case", "case__authority", "enterprise", "assigned_to", "submitted_by")
        .first()
    )
    if check is None:
        raise Http404("没有找到该实地核查记录。")
    return check


def evidence_for(*, user, pk: Any) -> Evidence:
    item = (
        Evidence.objects.filter(pk=_pk(pk), case__in=cases_visible_to(user))
        .select_related("case", "case__authority", "uploaded_by", "field_check")
        .first()
    )
    if item is None:
        raise Http404("没有找到该证据。")
    return item


def report_for(*, user, pk: Any) -> Report:
    report = Report.objects.filter(pk=_pk(pk), case__in=cases_visible_to(user)).select_related("case").first()
    if report is None:
        raise Http404("没有找到该申请。")
    return report


def document_for(*, user, pk: Any) -> CaseDocument:
    document = (
        CaseDocument.objects.filter(pk=_pk(pk), case__in=cases_visible_to(user))
        .select_related("case", "authority", "issued_by")
        .first()
    )
    if document is None:
        raise Http404("没有找到该文书。")
    return document


def enterprise_by_uscc(uscc: str) -> Enterprise | None:
    """The register entry with this USCC (the service checks it belongs to the case's authority)."""
    code = normalize_uscc(uscc)
    return enterprise_selectors.register_match(uscc=code) if code else None


def survey_by_token(token: str) -> VictimSurvey | None:
    token = str(token or "").strip()
    if not token or len(token) > 64:
        return None
    return VictimSurvey.objects.select_related("case").filter(token=token).first()


# --- deadlines --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    case: InvestigationCase
    kind: str
    due_on: dt.date
    today: dt.date
    field_check: FieldCheck | None = None

    @property
    def label(self) -> str:
        return str(DeadlineKind(self.kind).label)

    @property
    def days_left(self) -> int:
        return (self.due_on - self.today).days

    @property
    def overdue(self) -> bool:
        return self.due_on < self.today


def due_cases(*, user, today: dt.date | None = None, horizon_days: int = DUE_HORIZON_DAYS) -> list[DueItem]:
    """The deadlines of the user's visible open cases falling due within `horizon_days` (and those already
    past), nearest first: acceptance, investigation, notice end, field checks."""
    today = today or timezone.localdate()
    limit = today + dt.timedelta(days=horizon_days)
    cases = cases_visible_to(user).filter(state__in=OPEN_STATES)
    items: list[DueItem] = []
    for case in cases.filter(state=CaseState.RECEIVED, acceptance_due_on__lte=limit):
        items.append(DueItem(case, DeadlineKind.ACCEPTANCE, case.acceptance_due_on, today))
    for case in cases.filter(state=CaseState.INVESTIGATING, investigation_due_on__lte=limit):
        items.append(DueItem(case, DeadlineKind.INVESTIGATION, case.investigation_due_on, today))
    for case in cases.filter(state=CaseState.PUBLIC_NOTICE, notice_ends_on__lte=limit):
        items.append(DueItem(case, DeadlineKind.NOTICE, case.notice_ends_on, today))
    checks = (
        FieldCheck.objects.filter(state=FieldCheckState.ASSIGNED, case__in=cases, due_on__lte=limit)
        .select_related("case", "case__assigned_to", "assigned_to")
        .order_by("due_on", "id")
    )
    for check in checks:
        items.append(DueItem(check.case, DeadlineKind.FIELD_CHECK, check.due_on, today, field_check=check))
    return sorted(items, key=lambda item: (item.due_on, item.case.number, item.kind))


def reminders_for(user) -> QuerySet[DeadlineReminder]:
    """The user's reminders of cases still open (the to-do list), nearest deadline first."""
    if not _may_view(user):
        return DeadlineReminder.objects.none()
    return (
        DeadlineReminder.objects.filter(
            recipient=user, case__in=cases_visible_to(user).filter(state__in=OPEN_STATES)
        )
        .select_related("case")
        .order_by("due_on", "id")
    )


# --- the 3-year list --------------------------------------------------------------------------------------


def _bans_visible_to(user) -> QuerySet[RegistrationBan]:
    if not _may_view(user, VIEW_BANS):
        return RegistrationBan.objects.none()
    return scope_to_user(RegistrationBan.objects.select_related("case", "authority"), user)


def bans_active(on_date: dt.date | None = None, *, user=None) -> QuerySet[RegistrationBan]:
    """Bans in force on the date (today by default); scoped to the user when one is given."""
    day = on_date or timezone.localdate()
    queryset = _bans_visible_to(user) if user is not None else RegistrationBan.objects.select_related("case")
    return queryset.filter(starts_on__lte=day, ends_on__gte=day)


def ban_search(
    *, user, q: str = "", active_only: bool = False, on_date: dt.date | None = None
) -> QuerySet[RegistrationBan]:
    """The visible list, newest first; q finds a name (contains), an ID number (exact) or a case number."""
    queryset = _bans_visible_to(user)
    q = str(q or "").strip()[:50]
    if q:
        identifier = normalize_resident_id(q)
        condition = Q(name__icontains=q) | Q(case__number__icontains=q)
        if len(identifier) == 18:
            condition |= Q(id_number=identifier)
        queryset = queryset.filter(condition)
    if active_only:
        day = on_date or timezone.localdate()
        queryset = queryset.filter(starts_on__lte=day, ends_on__gte=day)
    return queryset.order_by("-starts_on", "-id")
