"""Reads of the visits and the questionnaire, scoped by the user: officers and managers
(tracking.view_visit) see every visit of their authorities — an officer edits only their own, which the
services enforce — and another authority's visit is "not found" (Http404)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from bizreg.core.identifiers import normalize_uscc
from bizreg.core.scoping import scope_to_user
from bizreg.enterprises import selectors as register
from bizreg.tracking.models import (
    PlanReason,
    Question,
    Questionnaire,
    Visit,
    VisitMethod,
    VisitState,
)
from bizreg.tracking.services.questionnaires import answer_display

VIEW = "tracking.view_visit"
VIEW_QUESTIONNAIRE = "tracking.view_questionnaire"
NOT_FOUND = "没有找到该走访记录。"


def _may(user, permission: str) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(permission))


def visits_visible_to(user) -> QuerySet[Visit]:
    if not _may(user, VIEW):
        return Visit.objects.none()
    return scope_to_user(Visit.objects.select_related("enterprise", "officer", "plan", "authority"), user)


def visit_for(*, user, pk: Any) -> Visit:
    """The visit if the user may see it; Http404 alike for "not yours" and "does not exist"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    visit = visits_visible_to(user).select_related("questionnaire").filter(pk=pk).first()
    if visit is None:
        raise Http404(NOT_FOUND)
    return visit


def visit_listing(*, user, params: Mapping[str, Any]) -> QuerySet[Visit]:
    """The visible visits filtered by `params`: q (number, enterprise name, or its USCC exactly), state,
    method, reason (of the plan; "none" for visits without a plan), officer ("me" or a user id),
    visited_from/_to (dates). Values that do not parse are ignored. Latest visit first."""
    visits = visits_visible_to(user)
    q = str(params.get("q") or "").strip()[:100]
    if q:
        condition = Q(number__icontains=q) | Q(enterprise__name__icontains=q)
        uscc = normalize_uscc(q)
        if len(uscc) == 18:
            condition |= Q(enterprise__uscc=uscc)
        visits = visits.filter(condition)
    state = str(params.get("state") or "")
    if state in VisitState.values:
        visits = visits.filter(state=state)
    method = str(params.get("method") or "")
    if method in VisitMethod.values:
        visits = visits.filter(method=method)
    reason = str(params.get("reason") or "")
    if reason == "none":
        visits = visits.filter(plan__isnull=True)
    elif reason in PlanReason.values:
        visits = visits.filter(plan__reason=reason)
    officer = str(params.get("officer") or "")
    if officer == "me":
        visits = visits.filter(officer=user)
    elif officer.isdigit():
        visits = visits.filter(officer_id=int(officer))
    for name, lookup in (("visited_from", "visited_on__gte"), ("visited_to", "visited_on__lte")):
        value = params.get(name)
        if isinstance(value, dt.date):
            visits = visits.filter(**{lookup: value})
    return visits.order_by("-visited_on", "-id")


@dataclass(frozen=True)
class AnswerRow:
    code: str
    question: str
    answer: str
    answered: bool
    signals_move_out: bool


def visit_answers(*, visit: Visit) -> list[AnswerRow]:
    """Each question of the visit's own questionnaire version with the answer given (as shown on pages)."""
    if visit.questionnaire_id is None:
        return [
            AnswerRow(code, code, str(value), True, False) for code, value in (visit.answers or {}).items()
        ]
    answers = visit.answers or {}
    return [
        AnswerRow(
            q.code,
            q.text,
            answer_display(q, answers.get(q.code)),
            q.code in answers,
            q.signals_move_out,
        )
        for q in visit.questionnaire.questions.all()
    ]


def answers_for_export(visits: QuerySet[Visit]) -> dict[int, list[Question]]:
    """The questions of every questionnaire version the visits answered, by questionnaire id (one query)."""
    ids = set(visits.order_by().values_list("questionnaire_id", flat=True).distinct())
    questions: dict[int, list[Question]] = {}
    for question in Question.objects.filter(questionnaire_id__in=ids - {None}).order_by("order", "id"):
        questions.setdefault(question.questionnaire_id, []).append(question)
    return questions


def visit_appeals(*, visit: Visit) -> QuerySet:
    return visit.appeals.order_by("-raised_on", "-id")


def enterprise_to_visit(*, user, value: Any):
    """The enterprise a visit form names, by id or by USCC, among the user's authorities; None if not
    found (the service then refuses with its message)."""
    raw = "".join(str(value or "").split())
    queryset = register.enterprises_visible_to(user)
    if len(raw) == 18:
        return queryset.filter(uscc=normalize_uscc(raw)).first()
    if raw.isdigit():
        return queryset.filter(pk=int(raw)).first()
    return None


# --- questionnaire ---------------------------------------------------------------------------------------


def questionnaires_visible_to(user) -> QuerySet[Questionnaire]:
    if not _may(user, VIEW_QUESTIONNAIRE):
        return Questionnaire.objects.none()
    questions = Prefetch("questions", queryset=Question.objects.order_by("order", "id"))
    return scope_to_user(Questionnaire.objects.select_related("authority"), user).prefetch_related(questions)


def questionnaire_version(*, user, authority_id: int, version: Any) -> Questionnaire:
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise Http404("没有找到该问卷版本。") from None
    found = questionnaires_visible_to(user).filter(authority_id=authority_id, version=number).first()
    if found is None:
        raise Http404("没有找到该问卷版本。")
    return found


def questionnaire_versions(*, user, authority_id: int) -> QuerySet[Questionnaire]:
    return questionnaires_visible_to(user).filter(authority_id=authority_id).order_by("-version")
