"""Reads of the visit plans and their rules, scoped by the user: holders of tracking.view_visitplan (officers,
managers) see their authorities' plans; everyone else sees none, and another authority's plan is "not found"
(Http404) exactly like one that does not exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.identifiers import normalize_uscc
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.tracking.models import PlanReason, PlanRule, PlanState, VisitPlan

VIEW = "tracking.view_visitplan"
VIEW_RULES = "tracking.view_planrule"
NOT_FOUND = "没有找到该走访计划。"
OPEN_STATES = (PlanState.OPEN, PlanState.ASSIGNED)
SOON_DAYS = 7
# "due" filter values: what the list can narrow the open plans to.
DUE_FILTERS = {"overdue": "已超期", "soon": f"{SOON_DAYS} 天内到期", "open": "未完成"}


def _may(user, permission: str) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(permission))


def plans_visible_to(user) -> QuerySet[VisitPlan]:
    if not _may(user, VIEW):
        return VisitPlan.objects.none()
    return scope_to_user(VisitPlan.objects.select_related("enterprise", "officer", "authority"), user)


def plan_for(*, user, pk: Any) -> VisitPlan:
    """The plan if the user may see it; Http404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    plan = plans_visible_to(user).filter(pk=pk).first()
    if plan is None:
        raise Http404(NOT_FOUND)
    return plan


def plan_listing(*, user, params: Mapping[str, Any], today: dt.date | None = None) -> QuerySet[VisitPlan]:
    """The visible plans filtered by `params`: q (enterprise name, or its USCC exactly), state, reason,
    officer ("me", "none" for unassigned, or a user id), due ("overdue", "soon", "open"), planned_from/_to.
    Values that do not parse are ignored. Nearest due date first."""
    today = today or timezone.localdate()
    plans = plans_visible_to(user)
    q = str(params.get("q") or "").strip()[:100]
    if q:
        uscc = normalize_uscc(q)
        condition = Q(enterprise__name__icontains=q)
        if len(uscc) == 18:
            condition |= Q(enterprise__uscc=uscc)
        plans = plans.filter(condition)
    state = str(params.get("state") or "")
    if state in PlanState.values:
        plans = plans.filter(state=state)
    reason = str(params.get("reason") or "")
    if reason in PlanReason.values:
        plans = plans.filter(reason=reason)
    officer = str(params.get("officer") or "")
    if officer == "me":
        plans = plans.filter(officer=user)
    elif officer == "none":
        plans = plans.filter(officer__isnull=True)
    elif officer.isdigit():
        plans = plans.filter(officer_id=int(officer))
    due = str(params.get("due") or "")
    if due in DUE_FILTERS:
        plans = plans.filter(state__in=OPEN_STATES)
        if due == "overdue":
            plans = plans.filter(due_on__lt=today)
        elif due == "soon":
            plans = plans.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=SOON_DAYS))
    for name, lookup in (("planned_from", "planned_on__gte"), ("planned_to", "planned_on__lte")):
        value = params.get(name)
        if isinstance(value, dt.date):
            plans = plans.filter(**{lookup: value})
    return plans.order_by("due_on", "id")


def officers_for(*, authority_id: int) -> QuerySet:
    """The active enterprise-service officers of the authority (whom a plan may be assigned to)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            authorities__id=authority_id,
            groups__name=ROLE_BY_CODE["enterprise_officer"].name,
        )
        .distinct()
        .order_by("display_name", "username")
    )


def officers_visible_to(user) -> QuerySet:
    """The officers of the user's authorities (the plan and visit lists filter by them)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            authorities__id__in=authority_ids_for(user),
            groups__name=ROLE_BY_CODE["enterprise_officer"].name,
        )
        .distinct()
        .order_by("display_name", "username")
    )


def plan_visits(*, plan: VisitPlan) -> QuerySet:
    return plan.visits.select_related("officer").order_by("-visited_on", "-id")


def plan_rules_visible(*, user) -> QuerySet[PlanRule]:
    if not _may(user, VIEW_RULES):
        return PlanRule.objects.none()
    return scope_to_user(PlanRule.objects.select_related("authority"), user)


def plan_counts(*, user, today: dt.date | None = None) -> dict[str, int]:
    """Open, unassigned and overdue plan counts for the list's header."""
    today = today or timezone.localdate()
    plans = plans_visible_to(user).filter(state__in=OPEN_STATES).order_by()
    return {
        "open": plans.count(),
        "unassigned": plans.filter(state=PlanState.OPEN).count(),
        "overdue": plans.filter(due_on__lt=today).count(),
    }
