"""Reads of the business-environment issues, scoped by the user: holders of tracking.view_businessissue see
their authorities' issues; an issue of another authority looks like one that does not exist (Http404)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date

from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.tracking.models import (
    Appeal,
    AppealCategory,
    BusinessIssue,
    Department,
    ImprovementMeasure,
    IssueState,
    MeasureState,
    Visit,
)
from bizreg.tracking.workflows import CHANGE_ISSUE

VIEW = "tracking.view_businessissue"
NOT_FOUND = "没有找到该问题。"


def issues_visible_to(user) -> QuerySet[BusinessIssue]:
    if not (getattr(user, "is_authenticated", False) and user.has_perm(VIEW)):
        return BusinessIssue.objects.none()
    return scope_to_user(BusinessIssue.objects.select_related("owner", "authority"), user)


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None


def issue_for(*, user, pk: Any) -> BusinessIssue:
    issue = issues_visible_to(user).filter(pk=_pk(pk)).first()
    if issue is None:
        raise Http404(NOT_FOUND)
    return issue


def measure_for(*, user, pk: Any) -> ImprovementMeasure:
    """A measure of a visible issue; Http404 alike for "not yours" and "does not exist"."""
    measure = (
        ImprovementMeasure.objects.select_related("issue", "issue__authority", "owner_department")
        .filter(pk=_pk(pk), issue__in=issues_visible_to(user))
        .first()
    )
    if measure is None:
        raise Http404("没有找到该改进措施。")
    return measure


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(str(value or "").strip())
    except ValueError:
        return None


def issue_listing(*, user, params: Mapping[str, Any]) -> QuerySet[BusinessIssue]:
    """The visible issues filtered by `params`: q (title, description, analysis), state, category,
    owner (a user id, or "me"), found_from/found_to (inclusive), overdue (1: an unfinished measure past its
    due date). Values that do not parse are ignored. Each row carries measure_count and measures_done."""
    queryset = issues_visible_to(user)
    q = str(params.get("q") or "").strip()[:100]
    if q:
        queryset = queryset.filter(
            Q(title__icontains=q) | Q(description__icontains=q) | Q(analysis__icontains=q)
        )
    state = str(params.get("state") or "")
    if state in IssueState.values:
        queryset = queryset.filter(state=state)
    category = str(params.get("category") or "")
    if category in AppealCategory.values:
        queryset = queryset.filter(category=category)
    owner = params.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner not in (None, ""):
        owner_id = getattr(owner, "pk", owner)
        with contextlib.suppress(TypeError, ValueError):
            queryset = queryset.filter(owner_id=int(owner_id))
    start, end = _date(params.get("found_from")), _date(params.get("found_to"))
    if start:
        queryset = queryset.filter(found_on__gte=start)
    if end:
        queryset = queryset.filter(found_on__lte=end)
    if str(params.get("overdue") or "") in ("1", "true", "True", "on"):
        late = ImprovementMeasure.objects.filter(due_on__lt=timezone.localdate()).exclude(
            state=MeasureState.DONE
        )
        queryset = queryset.filter(pk__in=late.values("issue_id"))
    # A GROUP BY query ignores Meta.ordering: the pages need a stable order.
    return queryset.annotate(
        measure_count=Count("measures", distinct=True),
        measures_done=Count("measures", filter=Q(measures__state=MeasureState.DONE), distinct=True),
    ).order_by("-found_on", "-id")


def issue_measures(*, issue: BusinessIssue) -> list[ImprovementMeasure]:
    return list(issue.measures.select_related("owner_department").order_by("due_on", "id"))


def issue_links(*, issue: BusinessIssue) -> dict[str, list]:
    return {
        "appeals": list(issue.appeals.select_related("enterprise").order_by("-raised_on", "-id")),
        "visits": list(issue.visits.select_related("enterprise").order_by("-visited_on", "-id")),
    }


def issue_history(*, issue: BusinessIssue) -> list:
    """The issue's recorded changes, newest first (simple_history), for the timeline on its page."""
    return list(issue.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])


def owner_choices(*, user, authority_id: int | None = None) -> QuerySet:
    """Users who may own an issue: active users of the user's authorities with tracking.change_businessissue
    (through their groups or directly)."""
    ids = [authority_id] if authority_id else authority_ids_for(user)
    app_label, codename = CHANGE_ISSUE.split(".")
    perm = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    direct = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    return (
        get_user_model()
        .objects.filter(is_active=True, authorities__in=ids)
        .filter(perm | direct)
        .distinct()
        .order_by("username")
    )


def department_choices(*, authority_id: int) -> QuerySet[Department]:
    return Department.objects.filter(authority_id=authority_id, is_active=True).order_by("name")


def resolve_numbers(*, authority_id: int, appeal_numbers: Iterable[str], visit_numbers: Iterable[str]):
    """Appeal and visit numbers typed in a form → (appeal ids, visit ids, unknown appeal numbers, unknown
    visit numbers), within the authority."""
    appeal_numbers = [n for n in dict.fromkeys(appeal_numbers) if n]
    visit_numbers = [n for n in dict.fromkeys(visit_numbers) if n]
    appeals = dict(
        Appeal.objects.filter(authority_id=authority_id, number__in=appeal_numbers).values_list(
            "number", "pk"
        )
    )
    visits = dict(
        Visit.objects.filter(authority_id=authority_id, number__in=visit_numbers).values_list("number", "pk")
    )
    return (
        list(appeals.values()),
        list(visits.values()),
        [n for n in appeal_numbers if n not in appeals],
        [n for n in visit_numbers if n not in visits],
    )
