"""Reads of appeals and departments, always scoped by the user.

Who sees which appeals: the enterprise-service officer and the manager (tracking.change_appeal or
tracking.change_department) see every appeal of their authorities; a member of a department (holding only
tracking.view_appeal) sees the appeals routed to their departments and nothing else. "Not yours" answers
like "does not exist" (Http404).

The portal's look-up (appeal_public) needs the appeal number and the last four digits of the contact phone;
a wrong suffix answers exactly like an unknown number.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date

from bizreg.core.identifiers import normalize_uscc
from bizreg.core.scoping import authority_ids_for, scope_to_user
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.enterprises.models import Enterprise
from bizreg.tracking.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    AppealState,
    Department,
    Visit,
)
from bizreg.tracking.services.appeals import overdue_q
from bizreg.tracking.workflows import APPEAL, CHANGE_APPEAL, OPEN_APPEAL_STATES

VIEW = "tracking.view_appeal"
VIEW_DEPARTMENTS = "tracking.view_department"
CHANGE_DEPARTMENT = "tracking.change_department"
NOT_FOUND = "没有找到该诉求。"
TRUE_VALUES = frozenset({"1", "true", "on", "yes", "是"})
PUBLIC_NUMBER_RE = re.compile(r"^诉\d{9,12}$")
# What the enterprise reads on the portal for each state (no internal wording).
PUBLIC_STATE_LABELS = {
    AppealState.REGISTERED: "已受理，待转办",
    AppealState.ROUTED: "承办部门办理中",
    AppealState.ANSWERED: "承办部门已反馈，待办结",
    AppealState.CLOSED: "已办结",
    AppealState.WITHDRAWN: "已撤回",
}


def _may_view(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(VIEW))


def sees_whole_authority(user) -> bool:
    """Officers and managers see every appeal of their authorities; department members only their own."""
    return bool(
        getattr(user, "is_superuser", False)
        or user.has_perm(CHANGE_APPEAL)
        or user.has_perm(CHANGE_DEPARTMENT)
    )


def appeals_visible_to(user) -> QuerySet[Appeal]:
    if not _may_view(user):
        return Appeal.objects.none()
    queryset = scope_to_user(
        Appeal.objects.select_related("enterprise", "department", "raised_by", "authority"), user
    )
    if sees_whole_authority(user):
        return queryset
    return queryset.filter(department__in=user.tracking_departments.all())


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None


def appeal_for(*, user, pk: Any) -> Appeal:
    """The appeal if the user may see it; Http404 alike for "not yours" and "does not exist"."""
    appeal = appeals_visible_to(user).select_related("visit", "answered_by").filter(pk=_pk(pk)).first()
    if appeal is None:
        raise Http404(NOT_FOUND)
    return appeal


def appeal_timeline(*, appeal: Appeal) -> list[AppealEvent]:
    return list(appeal.events.select_related("actor").order_by("occurred_at", "id"))


def appeal_actions(*, appeal: Appeal, user) -> list:
    """The steps the user may take now (for the buttons and forms on the appeal page)."""
    actions = APPEAL.available(state=appeal.state, user=user)
    if (
        any(a.action == "answer" for a in actions)
        and not user.tracking_departments.filter(pk=appeal.department_id).exists()
    ):
        actions = [a for a in actions if a.action != "answer"]
    return actions


def may_see_contact(*, appeal: Appeal, user) -> bool:
    """The full contact phone: holders of the personal-data permission, and the members of the department
    handling the appeal (they call the enterprise back)."""
    if user.has_perm("core.view_full_personal_data"):
        return True
    return bool(appeal.department_id and user.tracking_departments.filter(pk=appeal.department_id).exists())


# --- the list ------------------------------------------------------------------------------------------


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


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_VALUES


def appeal_listing(*, user, params: Mapping[str, Any]) -> QuerySet[Appeal]:
    """The visible appeals filtered by `params` (a form's cleaned_data or a query string's values).

    q: number, title, enterprise name or USCC; state (an AppealState, or "open" for every open state);
    category; department (id); overdue; mine (routed to the user's departments); raised_from/raised_to and
    closed_from/closed_to (inclusive local dates); on_time (1/0) and satisfied (1: rating 4–5) for the
    figures' drill-downs. A value that does not parse is ignored.
    """
    queryset = appeals_visible_to(user)
    q = str(params.get("q") or "").strip()[:100]
    if q:
        condition = Q(number__icontains=q) | Q(title__icontains=q) | Q(enterprise__name__icontains=q)
        uscc = normalize_uscc(q)
        if len(uscc) == 18:
            condition |= Q(enterprise__uscc=uscc)
        queryset = queryset.filter(condition)
    state = str(params.get("state") or "")
    if state == "open":
        queryset = queryset.filter(state__in=OPEN_APPEAL_STATES)
    elif state in AppealState.values:
        queryset = queryset.filter(state=state)
    category = str(params.get("category") or "")
    if category in AppealCategory.values:
        queryset = queryset.filter(category=category)
    department = params.get("department")
    if isinstance(department, Department):
        queryset = queryset.filter(department=department)
    elif str(department or "").isdigit():
        queryset = queryset.filter(department_id=int(department))
    if _flag(params.get("overdue")):
        queryset = queryset.filter(overdue_q(timezone.localdate()))
    if _flag(params.get("mine")):
        queryset = queryset.filter(department__in=user.tracking_departments.all())
    start, end = _date(params.get("raised_from")), _date(params.get("raised_to"))
    if start:
        queryset = queryset.filter(raised_on__gte=start)
    if end:
        queryset = queryset.filter(raised_on__lte=end)
    start, end = _date(params.get("closed_from")), _date(params.get("closed_to"))
    tz = timezone.get_default_timezone()
    if start:
        queryset = queryset.filter(closed_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz))
    if end:
        until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        queryset = queryset.filter(closed_at__lt=until)
    on_time = str(params.get("on_time") or "")
    if on_time in ("1", "0"):
        queryset = queryset.filter(closed_on_time=(on_time == "1"))
    if str(params.get("satisfied") or "") == "1":
        queryset = queryset.filter(satisfaction__gte=4)
    return queryset


def appeal_counts(*, user, today: dt.date | None = None) -> dict[str, int]:
    """The badges of the home page and the navigation: open appeals, overdue ones, and those waiting for
    the user's departments to answer."""
    today = today or timezone.localdate()
    visible = appeals_visible_to(user)
    figures = visible.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_APPEAL_STATES)),
        overdue=Count("pk", filter=overdue_q(today)),
        registered=Count("pk", filter=Q(state=AppealState.REGISTERED)),
        answered=Count("pk", filter=Q(state=AppealState.ANSWERED)),
    )
    departments = list(user.tracking_departments.values_list("pk", flat=True)) if _may_view(user) else []
    figures["awaiting_my_answer"] = (
        visible.filter(state=AppealState.ROUTED, department_id__in=departments).count() if departments else 0
    )
    return figures


# --- what the forms need -------------------------------------------------------------------------------


def routing_departments(*, appeal: Appeal) -> QuerySet[Department]:
    """The active departments of the appeal's authority (the choices of the route form)."""
    return Department.objects.filter(authority_id=appeal.authority_id, is_active=True).order_by("name")


def enterprise_for_appeal(*, user, pk: Any = None, uscc: str = "") -> Enterprise | None:
    """An enterprise of the user's authorities by id or USCC; None when there is none (the service then
    refuses with its message)."""
    visible = enterprise_selectors.enterprises_visible_to(user)
    if pk not in (None, ""):
        try:
            return visible.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            return None
    code = normalize_uscc(uscc or "")
    return visible.filter(uscc=code).first() if code else None


def visit_for_appeal(*, user, pk: Any) -> Visit | None:
    """The visit an appeal is raised from (?visit=<pk>), when the user may see it."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return scope_to_user(Visit.objects.select_related("enterprise"), user).filter(pk=pk).first()


# --- departments ---------------------------------------------------------------------------------------


def departments_visible_to(user) -> QuerySet[Department]:
    if not (getattr(user, "is_authenticated", False) and user.has_perm(VIEW_DEPARTMENTS)):
        return Department.objects.none()
    return scope_to_user(Department.objects.select_related("authority"), user)


def department_listing(*, user, params: Mapping[str, Any]) -> QuerySet[Department]:
    queryset = departments_visible_to(user).annotate(
        member_count=Count("members", distinct=True),
        open_count=Count("appeals", filter=Q(appeals__state__in=OPEN_APPEAL_STATES), distinct=True),
        overdue_count=Count(
            "appeals",
            filter=Q(appeals__state=AppealState.ROUTED, appeals__due_on__lt=timezone.localdate()),
            distinct=True,
        ),
    )
    q = str(params.get("q") or "").strip()[:50]
    if q:
        queryset = queryset.filter(name__icontains=q)
    active = str(params.get("active") or "")
    if active in ("1", "0"):
        queryset = queryset.filter(is_active=(active == "1"))
    return queryset.order_by("authority_id", "-is_active", "name")


def department_for(*, user, pk: Any) -> Department:
    department = departments_visible_to(user).filter(pk=_pk(pk)).first()
    if department is None:
        raise Http404("没有找到该部门。")
    return department


def member_candidates(*, authority_id: int):
    """Active users of the authority who may answer appeals (the choices of the member list)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    permission = Permission.objects.filter(
        codename="answer_appeal", content_type__app_label="tracking"
    ).first()
    users = get_user_model().objects.filter(is_active=True, authorities__id=authority_id)
    if permission is None:
        return users.none()
    return (
        users.filter(
            Q(groups__permissions=permission) | Q(user_permissions=permission) | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )


def my_departments(*, user) -> list[Department]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(user.tracking_departments.filter(authority_id__in=authority_ids_for(user)).order_by("name"))


def department_choices(*, user) -> QuerySet[Department]:
    """The departments the appeal list may filter by: the authority's for whole-authority staff, a
    department member's own otherwise."""
    if sees_whole_authority(user):
        return departments_visible_to(user).order_by("name")
    if not getattr(user, "is_authenticated", False):
        return Department.objects.none()
    return user.tracking_departments.filter(authority_id__in=authority_ids_for(user)).order_by("name")


# --- the portal ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicAppeal:
    """What the enterprise sees: no staff names, no phone."""

    number: str
    title: str
    category: str
    status: str
    state: str
    raised_on: dt.date
    department: str
    routed_on: dt.date | None
    due_on: dt.date | None
    answered_on: dt.date | None
    closed_on: dt.date | None
    feedback: str
    steps: list[tuple[str, dt.date]] = field(default_factory=list)


def normalize_appeal_number(value: Any) -> str:
    """Spaces dropped; the leading 诉 added when only the digits were typed."""
    number = "".join(str(value or "").split())
    if number.isdigit():
        number = f"诉{number}"
    return number


def appeal_public(*, number: str, phone_suffix: str) -> PublicAppeal | None:
    """The appeal numbered `number` whose contact phone ends in `phone_suffix`, else None — for an unknown
    number and a wrong suffix alike, so the query cannot tell which numbers exist."""
    number = normalize_appeal_number(number)
    suffix = (phone_suffix or "").encode()
    found = None
    # Numbers are unique per authority: the suffix picks the enterprise's own among same-numbered ones.
    for appeal in Appeal.objects.filter(number=number).select_related("department").order_by("pk"):
        digits = "".join(ch for ch in appeal.contact_phone if ch.isdigit())
        # compare_digest: the answer time should not tell a near miss from a far one.
        if len(digits) >= 4 and hmac.compare_digest(digits[-4:].encode(), suffix) and found is None:
            found = appeal
    if found is None:
        return None
    events = found.events.exclude(to_state="").order_by("occurred_at", "id")
    steps = [(event.label, timezone.localdate(event.occurred_at)) for event in events]
    shows_feedback = found.state in (AppealState.ANSWERED, AppealState.CLOSED)
    return PublicAppeal(
        number=found.number,
        title=found.title,
        category=found.get_category_display(),
        status=PUBLIC_STATE_LABELS.get(found.state, found.get_state_display()),
        state=found.state,
        raised_on=found.raised_on,
        department=found.department.name if found.department_id else "",
        routed_on=found.routed_on,
        due_on=found.due_on,
        answered_on=timezone.localdate(found.answered_at) if found.answered_at else None,
        closed_on=timezone.localdate(found.closed_at) if found.closed_at else None,
        feedback=found.feedback if shows_feedback else "",
        steps=steps,
    )
