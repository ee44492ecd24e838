"""Business-environment issues (营商环境问题) and their improvement measures.

An issue is logged from what visits and appeals revealed (linked to them), analysed (the analysis text is
required), given improvement measures (each with its owner department and due date; the first one moves
the issue to 整改中), and resolved only when every measure is done; a resolved issue can be reopened with a
reason. Every issue step goes through workflows.ISSUE, every measure step through MEASURE below; the issue
and its measures keep their history (simple_history, with the actor and the step as the change reason).

Refusals: TransitionNotAllowed (409) for a step the state does not allow, PermissionDenied (403) for a
missing permission or another authority's record, ValidationError({field: [message]}) for bad input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.core.statemachine import StateMachine, TransitionNotAllowed, transition
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
from bizreg.tracking.services.common import Errors, assert_authority, assert_perm, clean_text, text
from bizreg.tracking.workflows import CHANGE_ISSUE, ISSUE

ADD_ISSUE = "tracking.add_businessissue"
ADD_MEASURE = "tracking.add_improvementmeasure"
CHANGE_MEASURE = "tracking.change_improvementmeasure"

MEASURE = StateMachine(
    state_labels=dict(MeasureState.choices),
    transitions=[
        transition("start", "开始实施", [MeasureState.PLANNED], MeasureState.IN_PROGRESS, CHANGE_MEASURE),
        transition(
            "done",
            "确认完成",
            [MeasureState.PLANNED, MeasureState.IN_PROGRESS],
            MeasureState.DONE,
            CHANGE_MEASURE,
        ),
    ],
)


# --- input ------------------------------------------------------------------------------------------------


def _date(value: Any, *, name: str, label: str, errors: Errors, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value)
    if not raw:
        if required:
            errors.add(name, f"请填写{label}。")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.add(name, f"{label}格式不正确（应为 YYYY-MM-DD）。")
        return None


def _not_future(day: dt.date | None, *, name: str, label: str, errors: Errors) -> None:
    if day is not None and day > timezone.localdate():
        errors.add(name, f"{label}不能晚于今天。")


def _category(value: Any, errors: Errors) -> str:
    category = text(value)
    if not category:
        errors.add("category", "请选择问题类别。")
    elif category not in AppealCategory.values:
        errors.add("category", "问题类别不正确。")
    return category


def _owner(owner, authority: Authority, errors: Errors):
    """The person responsible: an active user of the authority who may work on issues."""
    if owner is None:
        errors.add("owner", "请选择责任人。")
        return None
    if not isinstance(owner, get_user_model()):
        owner = get_user_model().objects.filter(pk=owner).first()
    if owner is None or not owner.is_active:
        errors.add("owner", "责任人不存在或已停用。")
        return None
    if not owner.is_superuser and authority.pk not in authority_ids_for(owner):
        errors.add("owner", "责任人不属于本登记机关。")
        return None
    if not owner.has_perm(CHANGE_ISSUE):
        errors.add("owner", "责任人须为可办理营商环境问题的人员（企业服务专员）。")
        return None
    return owner


def _ids(values: Iterable[Any] | None, *, name: str, label: str, errors: Errors) -> list[int]:
    result = []
    for value in values or ():
        try:
            result.append(int(value))
        except (TypeError, ValueError):
            errors.add(name, f"{label}编号不正确：{value}")
    return sorted(set(result))


def _linked(model, ids: list[int], authority: Authority, *, name: str, label: str, errors: Errors) -> list:
    """The linked appeals or visits: every one must exist and belong to the issue's authority."""
    if not ids:
        return []
    found = list(model.objects.filter(pk__in=ids, authority=authority))
    missing = sorted(set(ids) - {obj.pk for obj in found})
    if missing:
        errors.add(name, f"以下{label}不存在或不属于本登记机关：{'、'.join(map(str, missing))}。")
    return found


def _department(department, authority: Authority, errors: Errors) -> Department | None:
    if department is None or department == "":
        return None
    if not isinstance(department, Department):
        department = Department.objects.filter(pk=department).first()
    if department is None or department.authority_id != authority.pk:
        errors.add("owner_department", "责任部门不存在或不属于本登记机关。")
        return None
    if not department.is_active:
        errors.add("owner_department", f"责任部门“{department.name}”已停用。")
        return None
    return department


# --- locking and transitions -------------------------------------------------------------------------


def _lock(issue: BusinessIssue, *, seen_state: str | None = None) -> BusinessIssue:
    locked = BusinessIssue.objects.select_for_update().get(pk=issue.pk)
    if seen_state is not None and locked.state != seen_state:
        raise TransitionNotAllowed(
            f"该问题已被他人处理，当前状态为“{locked.get_state_display()}”，请刷新后再操作。"
        )
    return locked


def _check(issue: BusinessIssue, action: str, actor) -> None:
    """The cheap guards before locking: authority, then state and permission (workflows.ISSUE)."""
    assert_authority(issue, actor, what="该问题")
    ISSUE.check(state=issue.state, action=action, user=actor)


def _apply(issue: BusinessIssue, action: str, actor, *, reason: str = "") -> None:
    """Check `action` again on the locked issue and set its new state (saved by the caller)."""
    t = ISSUE.check(state=issue.state, action=action, user=actor)
    issue.state = t.target
    issue._history_user = actor
    issue._change_reason = f"{t.label}：{reason}"[:100] if reason else t.label


def _save_measure(measure: ImprovementMeasure, actor, reason: str) -> None:
    measure._history_user = actor
    measure._change_reason = reason[:100]
    measure.save()


# --- issues -----------------------------------------------------------------------------------------------


def issue_create(
    *,
    authority: Authority,
    actor,
    title: str,
    category: str,
    description: str,
    owner,
    found_on: dt.date | str | None = None,
    appeal_ids: Iterable[Any] | None = None,
    visit_ids: Iterable[Any] | None = None,
) -> BusinessIssue:
    """Log a problem found in the business environment, with the appeals and visits that revealed it (all of
    `authority`). `owner` is a user (or its id) of the authority who may work on issues; `found_on`
    defaults to today and may not be in the future."""
    assert_perm(actor, ADD_ISSUE, "您的角色无权登记营商环境问题。")
    if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
        raise ValidationError({"authority": ["您不属于该登记机关，不能为其登记问题。"]})
    errors = Errors()
    title = clean_text(title, name="title", label="问题", max_length=200, errors=errors)
    category = _category(category, errors)
    description = clean_text(
        description, name="description", label="问题描述", max_length=5000, errors=errors
    )
    owner = _owner(owner, authority, errors)
    if found_on in (None, ""):
        found_on = timezone.localdate()
    found_on = _date(found_on, name="found_on", label="发现日期", errors=errors)
    _not_future(found_on, name="found_on", label="发现日期", errors=errors)
    appeals = _linked(
        Appeal,
        _ids(appeal_ids, name="appeals", label="诉求", errors=errors),
        authority,
        name="appeals",
        label="诉求",
        errors=errors,
    )
    visits = _linked(
        Visit,
        _ids(visit_ids, name="visits", label="走访记录", errors=errors),
        authority,
        name="visits",
        label="走访记录",
        errors=errors,
    )
    errors.raise_if_any()
    with transaction.atomic():
        issue = BusinessIssue(
            authority=authority,
            title=title,
            category=category,
            description=description,
            owner=owner,
            found_on=found_on,
            state=IssueState.OPEN,
        )
        issue._history_user = actor
        issue._change_reason = "登记问题"
        issue.save()
        if appeals:
            issue.appeals.set(appeals)
        if visits:
            issue.visits.set(visits)
    return issue


def issue_update(
    *,
    issue: BusinessIssue,
    actor,
    title: str,
    category: str,
    description: str,
    owner,
    appeal_ids: Iterable[Any] | None = None,
    visit_ids: Iterable[Any] | None = None,
) -> BusinessIssue:
    """Correct an unresolved issue's title, category, description, owner and links."""
    assert_authority(issue, actor, what="该问题")
    assert_perm(actor, CHANGE_ISSUE, "您的角色无权修改营商环境问题。")
    if issue.state == IssueState.RESOLVED:
        raise TransitionNotAllowed("问题已解决，不能再修改；如需继续整改请先重新打开。")
    authority = issue.authority
    errors = Errors()
    title = clean_text(title, name="title", label="问题", max_length=200, errors=errors)
    category = _category(category, errors)
    description = clean_text(
        description, name="description", label="问题描述", max_length=5000, errors=errors
    )
    owner = _owner(owner, authority, errors)
    appeals = _linked(
        Appeal,
        _ids(appeal_ids, name="appeals", label="诉求", errors=errors),
        authority,
        name="appeals",
        label="诉求",
        errors=errors,
    )
    visits = _linked(
        Visit,
        _ids(visit_ids, name="visits", label="走访记录", errors=errors),
        authority,
        name="visits",
        label="走访记录",
        errors=errors,
    )
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(issue)
        if locked.state == IssueState.RESOLVED:
            raise TransitionNotAllowed("问题已解决，不能再修改；如需继续整改请先重新打开。")
        locked.title, locked.category, locked.description, locked.owner = title, category, description, owner
        locked._history_user = actor
        locked._change_reason = "修改问题"
        locked.save()
        locked.appeals.set(appeals)
        locked.visits.set(visits)
    return locked


def issue_analyse(*, issue: BusinessIssue, actor, analysis: str) -> BusinessIssue:
    """Record (or revise) the analysis of the causes; required text."""
    seen = issue.state
    _check(issue, "analyse", actor)
    errors = Errors()
    analysis = clean_text(analysis, name="analysis", label="原因分析", max_length=5000, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(issue, seen_state=seen)
        _apply(locked, "analyse", actor)
        locked.analysis = analysis
        locked.save()
    return locked


def measure_add(
    *,
    issue: BusinessIssue,
    actor,
    description: str,
    due_on: dt.date | str | None,
    owner_department: Department | int | None = None,
) -> ImprovementMeasure:
    """Add an improvement measure to an analysed issue (the first one moves it to 整改中). The due date may
    not precede the day the issue was found; the department must be an active one of the authority."""
    assert_perm(actor, ADD_MEASURE, "您的角色无权制定改进措施。")
    seen = issue.state
    if seen == IssueState.OPEN:
        raise TransitionNotAllowed("请先完成原因分析，再制定改进措施。")
    _check(issue, "start_measures", actor)
    errors = Errors()
    description = clean_text(
        description, name="description", label="改进措施", max_length=2000, errors=errors
    )
    due_on = _date(due_on, name="due_on", label="完成期限", errors=errors)
    if due_on is not None and due_on < issue.found_on:
        errors.add("due_on", "完成期限不能早于问题发现日期。")
    department = _department(owner_department, issue.authority, errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(issue, seen_state=seen)
        if locked.state != IssueState.IMPROVING:
            _apply(locked, "start_measures", actor)
            locked.save()
            # The caller's copy follows, so the next step on it (resolve) sees 整改中.
            issue.state = locked.state
        measure = ImprovementMeasure(
            issue=locked, description=description, owner_department=department, due_on=due_on
        )
        _save_measure(measure, actor, "制定改进措施")
    return measure


def _measure_step(measure: ImprovementMeasure, action: str, actor, **changes) -> ImprovementMeasure:
    issue = measure.issue
    assert_authority(issue, actor, what="该问题")
    if issue.state == IssueState.RESOLVED:
        raise TransitionNotAllowed("问题已解决，其改进措施不能再变更；如需继续整改请先重新打开。")
    seen = measure.state
    MEASURE.check(state=seen, action=action, user=actor)
    with transaction.atomic():
        locked_issue = _lock(issue)
        if locked_issue.state == IssueState.RESOLVED:
            raise TransitionNotAllowed("问题已解决，其改进措施不能再变更；如需继续整改请先重新打开。")
        locked = ImprovementMeasure.objects.select_for_update().get(pk=measure.pk)
        if locked.state != seen:
            raise TransitionNotAllowed(
                f"该措施已被他人处理，当前状态为“{locked.get_state_display()}”，请刷新后再操作。"
            )
        t = MEASURE.check(state=locked.state, action=action, user=actor)
        locked.state = t.target
        for name, value in changes.items():
            setattr(locked, name, value)
        _save_measure(locked, actor, t.label)
    return locked


def measure_start(*, measure: ImprovementMeasure, actor) -> ImprovementMeasure:
    """The measure is being carried out (计划中 → 实施中)."""
    return _measure_step(measure, "start", actor)


def measure_done(
    *, measure: ImprovementMeasure, actor, done_on: dt.date | str | None = None
) -> ImprovementMeasure:
    """The measure is done (on `done_on`, default today; not in the future nor before the issue was found)."""
    errors = Errors()
    if done_on in (None, ""):
        done_on = timezone.localdate()
    done_on = _date(done_on, name="done_on", label="完成日期", errors=errors)
    _not_future(done_on, name="done_on", label="完成日期", errors=errors)
    if done_on is not None and done_on < measure.issue.found_on:
        errors.add("done_on", "完成日期不能早于问题发现日期。")
    errors.raise_if_any()
    return _measure_step(measure, "done", actor, done_on=done_on)


def issue_resolve(*, issue: BusinessIssue, actor, resolved_on: dt.date | str | None = None) -> BusinessIssue:
    """Confirm the issue resolved: only when every measure is done (else the open ones are named)."""
    seen = issue.state
    _check(issue, "resolve", actor)
    errors = Errors()
    if resolved_on in (None, ""):
        resolved_on = timezone.localdate()
    resolved_on = _date(resolved_on, name="resolved_on", label="解决日期", errors=errors)
    _not_future(resolved_on, name="resolved_on", label="解决日期", errors=errors)
    if resolved_on is not None and resolved_on < issue.found_on:
        errors.add("resolved_on", "解决日期不能早于问题发现日期。")
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(issue, seen_state=seen)
        measures = list(locked.measures.order_by("due_on", "id"))
        if not measures:
            raise ValidationError({"measures": ["尚未制定改进措施，不能确认解决。"]})
        unfinished = [m for m in measures if m.state != MeasureState.DONE]
        if unfinished:
            names = "；".join(f"“{m.description[:30]}”（{m.get_state_display()}）" for m in unfinished)
            raise ValidationError({"measures": [f"以下改进措施尚未完成，不能确认解决：{names}"]})
        _apply(locked, "resolve", actor)
        locked.resolved_on = resolved_on
        locked.save()
    return locked


def issue_reopen(*, issue: BusinessIssue, actor, reason: str) -> BusinessIssue:
    """Reopen a resolved issue (back to 整改中) with the reason, e.g. the problem came back."""
    seen = issue.state
    _check(issue, "reopen", actor)
    errors = Errors()
    reason = clean_text(reason, name="reason", label="重新打开的原因", max_length=300, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(issue, seen_state=seen)
        _apply(locked, "reopen", actor, reason=reason)
        locked.resolved_on = None
        locked.save()
    return locked
