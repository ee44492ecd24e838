"""Appeals (诉求): raised by the officer (usually at a visit), routed to a department with a deadline in
working days, answered by a member of that department, closed by the officer with the enterprise's
satisfaction — or reopened when the answer falls short, or withdrawn by the enterprise.

Every step checks state and permission on the appeal as the caller saw it (workflows.APPEAL), then locks the
row, checks again and writes the change with exactly one AppealEvent in the same transaction: two officers
closing at once, one wins and the other is told someone was faster.

Closing needs feedback (the department's answer or the officer's own) and the enterprise's satisfaction, and
stores whether the appeal was handled on time, so the on-time figure adds up stored values.

The departments (承办部门) and their members are kept here too (the manager edits them).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.enterprises import selectors as enterprise_selectors
from bizreg.tracking.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    AppealState,
    Department,
    Satisfaction,
    Visit,
)
from bizreg.tracking.services.common import (
    Errors,
    assert_authority,
    assert_perm,
    clean_text,
    next_number,
    text,
)
from bizreg.tracking.workflows import ANSWER_APPEAL, APPEAL

logger = logging.getLogger(__name__)

ADD_APPEAL = "tracking.add_appeal"
ADD_DEPARTMENT = "tracking.add_department"
CHANGE_DEPARTMENT = "tracking.change_department"
# Mobile numbers, or landlines with an area code (020-12345678): the portal asks for the last four digits.
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
DESCRIPTION_MAX = 2000
FEEDBACK_MAX = 2000
OVERDUE_ALERT = "overdue_alert"
OVERDUE_ALERT_LABEL = "逾期提醒"
WHAT = "该诉求"


def _now() -> tuple[dt.datetime, dt.date]:
    now = timezone.now()
    return now, timezone.localdate(now)


def _is_person(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def record_event(
    *,
    appeal: Appeal,
    action: str,
    label: str,
    actor,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    occurred_at: dt.datetime | None = None,
) -> AppealEvent:
    """The one writer of AppealEvent; call inside the service's transaction."""
    return AppealEvent.objects.create(
        appeal=appeal,
        action=action,
        label=label,
        from_state=from_state,
        to_state=to_state,
        actor=actor if _is_person(actor) else None,
        occurred_at=occurred_at or timezone.now(),
        reason=reason or "",
    )


def _check(appeal: Appeal, action: str, actor):
    """Cheap refusals on the appeal as the caller saw it, before taking the lock."""
    assert_authority(appeal, actor, what=WHAT)
    return APPEAL.check(state=appeal.state, action=action, user=actor)


def _lock(appeal: Appeal, *, seen_state: str) -> Appeal:
    """The appeal row under select_for_update; whoever comes second waits here and, when the first changed
    the state meanwhile, is told so instead of acting on a stale page."""
    locked = Appeal.objects.select_for_update(of=("self",)).select_related("department").get(pk=appeal.pk)
    if locked.state != seen_state:
        raise TransitionNotAllowed(
            f"该诉求已被他人处理，当前状态为“{locked.get_state_display()}”，请刷新后再操作。"
        )
    return locked


def _transition(locked: Appeal, action: str, *, actor, reason: str = "", now: dt.datetime) -> AppealEvent:
    """Re-check `action` on the locked row, set the new state (saved by the caller) and record the event."""
    t = APPEAL.check(state=locked.state, action=action, user=actor)
    previous = locked.state
    locked.state = t.target
    locked._history_user = actor if _is_person(actor) else None
    locked._change_reason = t.label
    return record_event(
        appeal=locked,
        action=action,
        label=t.label,
        actor=actor,
        from_state=previous,
        to_state=t.target,
        reason=reason,
        occurred_at=now,
    )


def _reason(value: Any, *, required: bool, label: str = "理由") -> str:
    errors = Errors()
    result = clean_text(value, name="reason", label=label, max_length=300, errors=errors, required=required)
    errors.raise_if_any()
    return result


def clean_phone(value: Any, *, name: str, errors: Errors) -> str:
    phone = "".join(text(value).split())
    if not phone:
        errors.add(name, "请填写联系电话。")
    elif not PHONE_RE.match(phone):
        errors.add(name, "联系电话应为 11 位手机号码，或带区号的固定电话（如 020-12345678）。")
    return phone


def _as_date(value: Any, *, name: str, label: str, errors: Errors) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(name, f"{label}应为日期（如 2026-03-01）。")
        return None


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


# --- raising -------------------------------------------------------------------------------------------


def appeal_raise(
    *,
    authority: Authority,
    enterprise_id: Any,
    actor,
    category: str,
    title: str,
    description: str,
    contact_name: str,
    contact_phone: str,
    visit: Visit | None = None,
    raised_on: dt.date | None = None,
) -> Appeal:
    """Register an appeal of an enterprise of the authority (from a visit, or a call or letter)."""
    assert_perm(actor, ADD_APPEAL, "您的角色无权登记企业诉求。")
    if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
        raise PermissionDenied("您不属于该登记机关，不能为其登记诉求。")
    errors = Errors()
    enterprise = None
    try:
        pk = int(enterprise_id)
    except (TypeError, ValueError):
        pk = None
    if pk is not None:
        enterprise = enterprise_selectors.enterprises_with_ids([pk]).filter(authority=authority).first()
    if enterprise is None:
        errors.add("enterprise", "企业不存在或不属于本登记机关，请核对后重新选择。")
    if text(category) not in AppealCategory.values:
        errors.add("category", "请选择诉求类别。")
    title = clean_text(title, name="title", label="诉求标题", max_length=100, errors=errors)
    description = clean_text(
        description, name="description", label="诉求内容", max_length=DESCRIPTION_MAX, errors=errors
    )
    contact_name = clean_text(contact_name, name="contact_name", label="联系人", max_length=50, errors=errors)
    contact_phone = clean_phone(contact_phone, name="contact_phone", errors=errors)
    now, today = _now()
    day = _as_date(raised_on, name="raised_on", label="登记日期", errors=errors) or today
    if day > today:
        errors.add("raised_on", "登记日期不能晚于今天。")
    if visit is not None:
        if visit.authority_id != authority.pk or (
            enterprise is not None and visit.enterprise_id != enterprise.pk
        ):
            errors.add("visit", "来源走访须为同一企业的走访记录。")
        elif day < visit.visited_on:
            errors.add("raised_on", "登记日期不能早于来源走访的日期。")
    errors.raise_if_any()
    with transaction.atomic():
        appeal = Appeal(
            authority=authority,
            number=next_number(authority=authority, kind="appeal", year=day.year),
            enterprise=enterprise,
            visit=visit,
            category=category,
            title=title,
            description=description,
            contact_name=contact_name,
            contact_phone=contact_phone,
            state=AppealState.REGISTERED,
            raised_on=day,
            raised_by=actor,
        )
        appeal._history_user = actor
        appeal._change_reason = "登记诉求"
        appeal.save()
        record_event(
            appeal=appeal,
            action="raise",
            label="登记诉求",
            actor=actor,
            to_state=AppealState.REGISTERED,
            reason=f"来源走访 {visit.number}" if visit is not None else "",
            occurred_at=now,
        )
    return appeal


# --- the steps -----------------------------------------------------------------------------------------


def appeal_route(
    *, appeal: Appeal, department: Department, actor, due_on: dt.date | None = None, reason: str = ""
) -> Appeal:
    """Send the appeal to a department (or to another one while it has not answered yet). The deadline is
    the department's default number of working days from today unless given."""
    seen = appeal.state
    _check(appeal, "route", actor)
    reason = _reason(reason, required=False)
    errors = Errors()
    if department is None:
        errors.add("department", "请选择承办部门。")
    elif department.authority_id != appeal.authority_id:
        errors.add("department", "承办部门不属于该诉求的登记机关。")
    elif not department.is_active:
        errors.add("department", f"承办部门“{department.name}”已停用。")
    now, today = _now()
    due = _as_date(due_on, name="due_on", label="办理期限", errors=errors)
    if due is not None and due < today:
        errors.add("due_on", "办理期限不能早于今天。")
    errors.raise_if_any()
    if due is None:
        try:
            due = add_working_days(today, department.default_days)
        except CalendarDataMissing as exc:
            errors.add("due_on", f"无法按工作日计算办理期限（{exc}），请直接填写办理期限。")
            errors.raise_if_any()
    with transaction.atomic():
        locked = _lock(appeal, seen_state=seen)
        previous = locked.department.name if locked.department_id else ""
        note = f"转办至{department.name}，办理期限 {due.isoformat()}"
        if previous and locked.department_id != department.pk:
            note = f"由{previous}改为{note}"
        _transition(locked, "route", actor=actor, reason=f"{note}。{reason}" if reason else note, now=now)
        locked.department = department
        locked.routed_on = today
        locked.due_on = due
        locked.save()
    return locked


def is_department_member(user, department_id: int | None) -> bool:
    if department_id is None or not _is_person(user):
        return False
    return user.tracking_departments.filter(pk=department_id).exists()


def appeal_answer(*, appeal: Appeal, actor, feedback: str) -> Appeal:
    """The department's answer (办理反馈), given by a member of the department the appeal was routed to."""
    seen = appeal.state
    _check(appeal, "answer", actor)
    if not is_department_member(actor, appeal.department_id):
        raise PermissionDenied("该诉求未转办至您所在的部门。")
    errors = Errors()
    feedback = clean_text(feedback, name="feedback", label="办理反馈", max_length=FEEDBACK_MAX, errors=errors)
    errors.raise_if_any()
    now, _ = _now()
    with transaction.atomic():
        locked = _lock(appeal, seen_state=seen)
        # Re-checked under the lock: the appeal may have been sent to another department meanwhile.
        if locked.department_id != appeal.department_id:
            raise TransitionNotAllowed("该诉求已改转其他部门办理，请刷新后再操作。")
        _transition(locked, "answer", actor=actor, reason=feedback, now=now)
        locked.feedback = feedback
        locked.answered_at = now
        locked.answered_by = actor
        locked.save()
    return locked


def appeal_reopen(*, appeal: Appeal, actor, reason: str) -> Appeal:
    """The answer falls short: back to the department, which answers again (its first answer stays in the
    timeline). The deadline stands."""
    seen = appeal.state
    _check(appeal, "reopen", actor)
    reason = _reason(reason, required=True, label="退回理由")
    now, _ = _now()
    with transaction.atomic():
        locked = _lock(appeal, seen_state=seen)
        _transition(locked, "reopen", actor=actor, reason=reason, now=now)
        locked.feedback = ""
        locked.answered_at = None
        locked.answered_by = None
        locked.save()
    return locked


def _closed_on_time(appeal: Appeal, closed_on: dt.date) -> bool:
    """Answered (or, without an answer, closed) on or before the deadline; an appeal never routed counts
    as on time only when it was settled on the day it was raised."""
    if appeal.due_on is None:
        return closed_on <= appeal.raised_on
    handled_on = _local_date(appeal.answered_at) or closed_on
    return handled_on <= appeal.due_on


def appeal_close(
    *, appeal: Appeal, actor, satisfaction: Any, feedback: str = "", comment: str = ""
) -> Appeal:
    """Close the appeal with the enterprise's satisfaction. Feedback is required: the department's answer,
    or the officer's own when it was settled without one (added to the department's when both exist)."""
    seen = appeal.state
    _check(appeal, "close", actor)
    errors = Errors()
    own = clean_text(
        feedback, name="feedback", label="办理反馈", max_length=FEEDBACK_MAX, errors=errors, required=False
    )
    if not own and not appeal.feedback.strip():
        errors.add("feedback", "办结诉求须填写办理反馈。")
    score = None
    if satisfaction in (None, ""):
        errors.add("satisfaction", "请选择企业满意度。")
    else:
        try:
            score = int(satisfaction)
        except (TypeError, ValueError):
            score = None
        if score not in Satisfaction.values:
            errors.add("satisfaction", "企业满意度须为 1–5 分（非常不满意至非常满意）。")
    comment = clean_text(
        comment, name="comment", label="满意度说明", max_length=300, errors=errors, required=False
    )
    errors.raise_if_any()
    now, today = _now()
    with transaction.atomic():
        locked = _lock(appeal, seen_state=seen)
        if not own and not locked.feedback.strip():
            missing = Errors()
            missing.add("feedback", "办结诉求须填写办理反馈。")
            missing.raise_if_any()
        label = Satisfaction(score).label
        _transition(
            locked,
            "close",
            actor=actor,
            reason=f"企业满意度：{label}" + (f"（{comment}）" if comment else ""),
            now=now,
        )
        if own:
            locked.feedback = (
                f"{locked.feedback.strip()}\n\n办结说明：{own}" if locked.feedback.strip() else own
            )
        locked.satisfaction = score
        locked.satisfaction_comment = comment
        locked.closed_at = now
        locked.closed_on_time = _closed_on_time(locked, today)
        locked.save()
    return locked


def appeal_withdraw(*, appeal: Appeal, actor, reason: str) -> Appeal:
    """The enterprise no longer pursues the appeal (before the department answered)."""
    seen = appeal.state
    _check(appeal, "withdraw", actor)
    reason = _reason(reason, required=True, label="撤回原因")
    now, _ = _now()
    with transaction.atomic():
        locked = _lock(appeal, seen_state=seen)
        _transition(locked, "withdraw", actor=actor, reason=reason, now=now)
        locked.save()
    return locked


# --- overdue alerts (daily beat task) ------------------------------------------------------------------


def overdue_q(today: dt.date) -> Q:
    """Routed appeals the department has not answered by the deadline. An answered appeal waiting for the
    officer to close it is not overdue: the deadline is the department's, and the on-time figure counts
    the answer. (The list filter, the badges and the daily alert all use this one rule.)"""
    return Q(state=AppealState.ROUTED, due_on__lt=today)


def _alert_recipients(appeal: Appeal) -> list[str]:
    users = list(appeal.department.members.filter(is_active=True)) if appeal.department_id else []
    users.append(appeal.raised_by)
    addresses = []
    for user in users:
        address = (getattr(user, "email", "") or "").strip()
        if address and getattr(user, "is_active", True) and address not in addresses:
            addresses.append(address)
    return addresses


def _alert_mail(appeal: Appeal, today: dt.date) -> None:
    recipients = _alert_recipients(appeal)
    if not recipients:
        return
    days = (today - appeal.due_on).days
    department = appeal.department.name if appeal.department_id else ""
    subject = f"【诉求逾期】{appeal.number} {appeal.title}：已超过办理期限 {days} 天"
    body = (
        f"企业诉求 {appeal.number}（{appeal.title}）已于 {appeal.routed_on} 转办{department}，"
        f"办理期限为 {appeal.due_on.isoformat()}，至今尚未反馈办理结果，请尽快办理。\n本邮件由系统自动发送。"
    )
    send_mail(subject, body, None, recipients)


def _alert_time(today: dt.date) -> dt.datetime:
    now = timezone.now()
    if timezone.localdate(now) == today:
        return now
    # A run for another day (catch-up, tests) is recorded on that day, which is what makes it idempotent.
    return dt.datetime.combine(today, timezone.localtime(now).time(), tzinfo=timezone.get_current_timezone())


def _day_bounds(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def appeals_alert_overdue(*, today: dt.date | None = None) -> int:
    """Alert the department members (and the officer who raised it) of every overdue appeal, once per
    appeal per day: the alert is an AppealEvent on the appeal's timeline, written under the appeal's row
    lock, and mailed to those with an address. Returns how many appeals were alerted now."""
    today = today or timezone.localdate()
    start, end = _day_bounds(today)
    sent = 0
    for pk in Appeal.objects.filter(overdue_q(today)).order_by("pk").values_list("pk", flat=True):
        try:
            with transaction.atomic():
                appeal = (
                    Appeal.objects.select_for_update(of=("self",))
                    .select_related("department", "raised_by")
                    .get(pk=pk)
                )
                if appeal.state != AppealState.ROUTED or appeal.due_on is None or appeal.due_on >= today:
                    continue
                if appeal.events.filter(
                    action=OVERDUE_ALERT, occurred_at__gte=start, occurred_at__lt=end
                ).exists():
                    continue
                days = (today - appeal.due_on).days
                record_event(
                    appeal=appeal,
                    action=OVERDUE_ALERT,
                    label=OVERDUE_ALERT_LABEL,
                    actor=None,
                    reason=f"已超过办理期限（{appeal.due_on.isoformat()}）{days} 天，已提醒承办部门。",
                    occurred_at=_alert_time(today),
                )
                # Last step of the transaction: a failed mail leaves no event, so the next run tries again.
                _alert_mail(appeal, today)
        except Exception:
            logger.exception("overdue alert for appeal %s not sent", pk)
            continue
        sent += 1
    return sent


# --- departments ---------------------------------------------------------------------------------------


def department_save(
    *,
    authority: Authority,
    actor,
    name: str,
    default_days: Any = 10,
    is_active: bool = True,
    department: Department | None = None,
    members: Iterable | None = None,
) -> Department:
    """Create (department=None) or change a department of the authority; `members`, when given, replaces
    the member list (see department_set_members)."""
    if department is None:
        assert_perm(actor, ADD_DEPARTMENT, "您的角色无权新增承办部门。")
    else:
        assert_perm(actor, CHANGE_DEPARTMENT, "您的角色无权修改承办部门。")
        if department.authority_id != authority.pk:
            raise PermissionDenied("该部门不属于此登记机关。")
    if not getattr(actor, "is_superuser", False) and authority.pk not in authority_ids_for(actor):
        raise PermissionDenied("该部门不属于您所在的登记机关。")
    errors = Errors()
    name = clean_text(name, name="name", label="部门名称", max_length=100, errors=errors)
    days = None
    try:
        days = int(default_days)
    except (TypeError, ValueError):
        errors.add("default_days", "默认办理时限应为整数（工作日）。")
    if days is not None and not 1 <= days <= 180:
        errors.add("default_days", "默认办理时限应在 1 至 180 个工作日之间。")
    if name:
        same = Department.objects.filter(authority=authority, name=name)
        if department is not None:
            same = same.exclude(pk=department.pk)
        if same.exists():
            errors.add("name", f"已有名为“{name}”的承办部门。")
    member_list = _clean_members(authority, members, errors) if members is not None else None
    errors.raise_if_any()
    with transaction.atomic():
        if department is None:
            department = Department(authority=authority)
        else:
            department = Department.objects.select_for_update().get(pk=department.pk)
        department.name = name
        department.default_days = days
        department.is_active = bool(is_active)
        department.save()
        if member_list is not None:
            department.members.set(member_list)
    return department


def _clean_members(authority: Authority, members: Iterable, errors: Errors) -> list:
    """Members must work for the authority and hold the permission to answer appeals (业务部门人员)."""
    users = []
    model = get_user_model()
    for member in members:
        user = member if isinstance(member, model) else model.objects.filter(pk=member).first()
        if user is None:
            errors.add("members", "所选人员不存在。")
            continue
        label = str(user)
        if not user.is_active:
            errors.add("members", f"“{label}”的账号已停用。")
        elif not user.is_superuser and not user.authorities.filter(pk=authority.pk).exists():
            errors.add("members", f"“{label}”不属于本登记机关。")
        elif not user.has_perm(ANSWER_APPEAL):
            errors.add("members", f"“{label}”的角色不能答复诉求，请先为其分配业务部门人员角色。")
        else:
            users.append(user)
    return users


def department_set_members(*, department: Department, actor, members: Iterable) -> Department:
    """Replace the department's members (users of its authority who may answer appeals)."""
    assert_perm(actor, CHANGE_DEPARTMENT, "您的角色无权修改承办部门。")
    assert_authority(department, actor, what="该部门")
    errors = Errors()
    users = _clean_members(department.authority, members, errors)
    errors.raise_if_any()
    with transaction.atomic():
        department.members.set(users)
    return department
