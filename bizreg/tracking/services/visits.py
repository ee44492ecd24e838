"""Visits (走访记录): an officer's on-site or phone visit of an enterprise, with the questionnaire's answers,
the findings and — for an enterprise moving out — the reason learnt. A visit is saved as a draft (answers
checked for type only), then submitted (every required answer and the findings present), which completes its
plan through workflows.PLAN. Only the visit's own officer edits or submits it; a submitted visit is final.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises import selectors as register
from bizreg.tracking.models import (
    MoveOutReason,
    PlanReason,
    Visit,
    VisitMethod,
    VisitPlan,
    VisitState,
)
from bizreg.tracking.services.common import Errors, assert_perm, clean_text, next_number, text
from bizreg.tracking.services.questionnaires import answers_clean, questionnaire_active
from bizreg.tracking.workflows import PLAN

ADD = "tracking.add_visit"
CHANGE = "tracking.change_visit"
# A mobile number, or a landline with its area code (020-12345678).
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
EDITABLE = frozenset(
    {"method", "visited_on", "contact_name", "contact_phone", "answers", "findings", "move_out_reason"}
)
NOT_OWN = "只能修改本人的走访记录。"
NOT_OWN_SUBMIT = "只能提交本人的走访记录。"


def _date(value: Any, errors: Errors) -> dt.date | None:
    if value in (None, ""):
        errors.add("visited_on", "请填写走访日期。")
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(text(value))
        except ValueError:
            errors.add("visited_on", "走访日期须为日期（YYYY-MM-DD）。")
            return None
    if value > timezone.localdate():
        errors.add("visited_on", "走访日期不能晚于今天。")
        return None
    return value


def _phone(value: Any, errors: Errors) -> str:
    phone = "".join(text(value).split())
    if phone and not PHONE_RE.match(phone):
        errors.add("contact_phone", "联系电话须为 11 位手机号或带区号的固定电话（如 020-12345678）。")
    return phone


def _clean(fields: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    """The visit's own fields (everything but the answers), each checked when present."""
    cleaned: dict[str, Any] = {}
    if "method" in fields:
        method = text(fields["method"])
        if method not in VisitMethod.values:
            errors.add("method", "请选择走访方式（现场走访或电话访问）。")
        cleaned["method"] = method
    if "visited_on" in fields:
        cleaned["visited_on"] = _date(fields["visited_on"], errors)
    if "contact_name" in fields:
        cleaned["contact_name"] = clean_text(
            fields["contact_name"],
            name="contact_name",
            label="企业联系人",
            max_length=50,
            errors=errors,
            required=False,
        )
    if "contact_phone" in fields:
        cleaned["contact_phone"] = _phone(fields["contact_phone"], errors)
    if "findings" in fields:
        cleaned["findings"] = clean_text(
            fields["findings"],
            name="findings",
            label="走访发现",
            max_length=5000,
            errors=errors,
            required=False,
        )
    if "move_out_reason" in fields:
        reason = text(fields["move_out_reason"])
        if reason and reason not in MoveOutReason.values:
            errors.add("move_out_reason", "请从列表中选择拟迁出原因。")
        cleaned["move_out_reason"] = reason
    return cleaned


def _answers(questionnaire, answers: Any, errors: Errors, *, require_all: bool) -> dict:
    if answers is None:
        answers = {}
    if not isinstance(answers, Mapping):
        errors.add("answers", "问卷答案格式不正确。")
        return {}
    try:
        return answers_clean(questionnaire=questionnaire, answers=answers, require_all=require_all)
    except ValidationError as exc:
        for code, messages in exc.message_dict.items():
            for message in messages:
                errors.add(code, message)
        return {}


def visit_create(
    *,
    authority: Authority,
    enterprise_id: Any,
    actor,
    method: str,
    visited_on: dt.date,
    plan: VisitPlan | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    answers: Mapping | None = None,
    findings: str = "",
    move_out_reason: str = "",
) -> Visit:
    """A draft visit by `actor` (an enterprise-service officer) of an enterprise of the authority, for `plan`
    when given (the plan's enterprise; a plan assigned to someone else is not theirs to visit). The active
    questionnaire is attached; answers are checked for type, the required ones only on submitting."""
    assert_perm(actor, ADD, "您的角色无权登记走访记录。")
    if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
        raise PermissionDenied("该登记机关不在您的权限范围内。")
    errors = Errors()
    try:
        pk = int(enterprise_id)
    except (TypeError, ValueError):
        pk = None
    enterprise = (
        register.enterprises_with_ids([pk]).filter(authority_id=authority.pk).first()
        if pk is not None
        else None
    )
    if enterprise is None:
        errors.add("enterprise", "企业不存在或不属于本登记机关，请核对后重新选择。")
    if plan is not None:
        if plan.authority_id != authority.pk:
            errors.add("plan", "该走访计划不属于本登记机关。")
        elif enterprise is not None and plan.enterprise_id != enterprise.pk:
            errors.add("plan", "走访计划与所选企业不一致。")
        else:
            PLAN.check(state=plan.state, action="complete", user=actor)
            if plan.officer_id and plan.officer_id != actor.pk:
                raise PermissionDenied(f"该走访计划已分派给 {plan.officer}，不能由您登记走访。")
            draft = plan.visits.filter(state=VisitState.DRAFT, officer=actor).first()
            if draft is not None:
                errors.add("plan", f"该计划已有您的走访草稿 {draft.number}，请在原记录上继续填写。")
    cleaned = _clean(
        {
            "method": method,
            "visited_on": visited_on,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "findings": findings,
            "move_out_reason": move_out_reason,
        },
        errors,
    )
    if enterprise is not None and cleaned["visited_on"] and cleaned["visited_on"] < enterprise.established_on:
        errors.add("visited_on", f"走访日期不能早于企业成立日期（{enterprise.established_on:%Y-%m-%d}）。")
    questionnaire = questionnaire_active(authority=authority)
    answers = _answers(questionnaire, answers, errors, require_all=False)
    errors.raise_if_any()
    with transaction.atomic():
        visit = Visit(
            authority=authority,
            number=next_number(authority=authority, kind="visit", year=cleaned["visited_on"].year),
            plan=plan,
            enterprise=enterprise,
            officer=actor,
            questionnaire=questionnaire,
            answers=answers,
            state=VisitState.DRAFT,
            **cleaned,
        )
        visit._history_user = actor
        visit.save()
    return visit


def _guard_own(visit: Visit, actor, message: str) -> None:
    """Only the officer who made the visit changes it: the permission, the authority, then the person."""
    assert_perm(actor, CHANGE, "您的角色无权修改走访记录。")
    if not getattr(actor, "is_superuser", False) and visit.authority_id not in authority_ids_for(actor):
        raise PermissionDenied("该走访记录不属于您所在的登记机关。")
    if visit.officer_id != actor.pk:
        raise PermissionDenied(message)


def _guard_draft(state: str) -> None:
    if state != VisitState.DRAFT:
        raise TransitionNotAllowed("走访记录已提交，不能再修改。")


def visit_update(*, visit: Visit, actor, **fields: Any) -> Visit:
    """Change a draft visit (its own officer only): method, visited_on, contact_name, contact_phone, answers
    (replacing the previous ones), findings, move_out_reason."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"visit_update() got unexpected fields {sorted(unknown)}")
    _guard_own(visit, actor, NOT_OWN)
    _guard_draft(visit.state)
    errors = Errors()
    cleaned = _clean(fields, errors)
    if cleaned.get("visited_on") and cleaned["visited_on"] < visit.enterprise.established_on:
        errors.add(
            "visited_on", f"走访日期不能早于企业成立日期（{visit.enterprise.established_on:%Y-%m-%d}）。"
        )
    if "answers" in fields:
        questionnaire = visit.questionnaire or questionnaire_active(authority=visit.authority)
        cleaned["questionnaire"] = questionnaire
        cleaned["answers"] = _answers(questionnaire, fields["answers"], errors, require_all=False)
    errors.raise_if_any()
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        _guard_draft(locked.state)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked._history_user = actor
        locked.save()
    return locked


def visit_submit(*, visit: Visit, actor) -> Visit:
    """Submit the draft (its own officer only): every required answer of its questionnaire, the findings and
    — for a move-out plan — the move-out reason must be there. Completes the plan."""
    _guard_own(visit, actor, NOT_OWN_SUBMIT)
    _guard_draft(visit.state)
    plan = visit.plan
    if plan is not None:
        PLAN.check(state=plan.state, action="complete", user=actor)
    errors = Errors()
    questionnaire = visit.questionnaire or questionnaire_active(authority=visit.authority)
    answers = _answers(questionnaire, visit.answers, errors, require_all=True)
    if not text(visit.findings):
        errors.add("findings", "请填写走访发现（企业经营情况、反映的问题等）。")
    if plan is not None and plan.reason == PlanReason.MOVE_OUT and not visit.move_out_reason:
        errors.add("move_out_reason", "拟迁出企业的走访须填写拟迁出原因。")
    errors.raise_if_any()
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        _guard_draft(locked.state)
        if plan is not None:
            locked_plan = VisitPlan.objects.select_for_update().get(pk=plan.pk)
            PLAN.check(state=locked_plan.state, action="complete", user=actor)
            locked_plan.state = PLAN.transition("complete").target
            locked_plan._history_user = actor
            locked_plan.save()
        locked.questionnaire = questionnaire
        locked.answers = answers
        locked.state = VisitState.SUBMITTED
        locked.submitted_at = timezone.now()
        locked._history_user = actor
        locked.save()
    return locked
