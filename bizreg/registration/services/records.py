"""Writes of the information-entry / 一网通办 guidance records and of the follow-up of failed online cases.

Seed 7.1–7.2: every entry of an enterprise's information and every guidance session is one ServiceRecord
(the performance module counts them: 156,000 a year). Seed 7.6: an online application (一网通办 /
全程电子化) that was returned, rejected or withdrawn gets a FollowUpTask — staff contact the applicant,
log each contact and close the task with its outcome.

The case workflow calls `follow_up_open_for` after such a transition; the follow-up page also lists online
cases in those states that have no task yet (`follow_up_create` opens one), so nothing depends on every
caller remembering the hook.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.core.models import Authority
from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.registration.models import (
    CaseState,
    Channel,
    ContactLog,
    ContactMethod,
    FollowUpTask,
    RegistrationCase,
    ServiceRecord,
)

ONLINE_CHANNELS = (Channel.ONE_STOP_ONLINE, Channel.FULL_ELECTRONIC)
FOLLOW_UP_STATES = (CaseState.RETURNED, CaseState.REJECTED, CaseState.WITHDRAWN)
MAX_MINUTES = 480  # one working day: longer is a typing error
# A record may be entered a little after the fact, never for a moment that has not happened yet.
CLOCK_SKEW = dt.timedelta(minutes=5)


class FollowUpError(Exception):
    """A follow-up operation was refused; the message (Chinese) is meant for staff."""


def follow_up_due_working_days() -> int:
    return int(getattr(settings, "REGISTRATION_FOLLOW_UP_DUE_WORKING_DAYS", 2))


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# --- information entry and guidance records -------------------------------------------------------------


def service_record_create(
    *,
    authority: Authority,
    actor,
    kind: str,
    minutes,
    enterprise=None,
    enterprise_name: str = "",
    case: RegistrationCase | None = None,
    note: str = "",
    occurred_at: dt.datetime | None = None,
) -> ServiceRecord:
    """Record one information entry or guidance session done by `actor`.

    `enterprise` (a register row, resolved by the caller through the enterprises selectors) or
    `enterprise_name` (an enterprise not registered yet, e.g. guidance before establishment) names whom
    it was for; `case` optionally links the registration case. Raises ValidationError({field: [message]}).
    """
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    kind = _text(kind)
    if kind not in ServiceRecord.Kind.values:
        err("kind", _("请选择记录类型（企业信息录入或一网通办指引及协助录入）。"))
    try:
        minutes = int(str(minutes).strip())
    except (TypeError, ValueError):
        err("minutes", _("用时应为整数分钟。"))
        minutes = None
    else:
        if minutes < 1:
            err("minutes", _("用时至少 1 分钟。"))
        elif minutes > MAX_MINUTES:
            err("minutes", _("用时不能超过 %(max)d 分钟。") % {"max": MAX_MINUTES})
    if case is not None and case.authority_id != authority.pk:
        err("case", _("该业务不属于本登记机关。"))
    if enterprise is not None and enterprise.authority_id != authority.pk:
        err("enterprise", _("该商事主体不属于本登记机关。"))
    if enterprise is None and case is not None and case.enterprise_id is not None:
        enterprise = case.enterprise
    name = enterprise.name if enterprise is not None else _text(enterprise_name)
    if not name and case is not None:
        name = case.enterprise_name
    if not name:
        err("enterprise", _("请填写企业名称或统一社会信用代码。"))
    elif len(name) > 200:
        err("enterprise", _("企业名称不能超过 200 个字。"))
    note = _text(note)
    if len(note) > 300:
        err("note", _("备注不能超过 300 个字，当前 %(length)d 个字。") % {"length": len(note)})
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        err("occurred_at", _("记录时间不能晚于现在。"))
    if errors:
        raise ValidationError(errors)
    return ServiceRecord.objects.create(
        authority=authority,
        kind=kind,
        staff=actor,
        enterprise=enterprise,
        enterprise_name=name,
        case=case,
        occurred_at=occurred_at,
        minutes=minutes,
        note=note,
    )


# --- follow-up of failed online applications ------------------------------------------------------------


def _due_on(today: dt.date) -> dt.date:
    try:
        return add_working_days(today, follow_up_due_working_days())
    except CalendarDataMissing:
        # Not a statutory deadline: a calendar year nobody entered yet must not block opening the task.
        return today + dt.timedelta(days=follow_up_due_working_days() + 2)


def needs_follow_up(case: RegistrationCase) -> bool:
    return case.channel in ONLINE_CHANNELS and case.state in FOLLOW_UP_STATES


def follow_up_open_for(*, case: RegistrationCase, actor) -> FollowUpTask | None:
    """Hook for the case workflow, after a return, rejection or withdrawal: opens (or reopens) the task
    of an online case; returns None for cases that need no follow-up (window or mail, other states)."""
    if not needs_follow_up(case):
        return None
    return follow_up_create(case=case, actor=actor)


@transaction.atomic
def follow_up_create(*, case: RegistrationCase, actor, assignee=None) -> FollowUpTask:
    """Open the follow-up task of an online case that was returned, rejected or withdrawn.

    Idempotent: an open task is returned as it is; a finished one is reopened for the new event (a case
    returned a second time after the first contact).
    """
    row = RegistrationCase.objects.select_for_update().get(pk=case.pk)
    if row.channel not in ONLINE_CHANNELS:
        raise FollowUpError(_("只有一网通办、全程电子化渠道的业务需要跟进指导。"))
    if row.state not in FOLLOW_UP_STATES:
        raise FollowUpError(
            _("该业务当前状态为“%(state)s”，只有已退回补正、不予登记或已撤回的网办业务需要跟进。")
            % {"state": row.get_state_display()}
        )
    now = timezone.now()
    task = FollowUpTask.objects.select_for_update().filter(case=row).first()
    if task is not None:
        if task.status == FollowUpTask.Status.OPEN:
            return task
        task.status = FollowUpTask.Status.OPEN
        task.closed_at = None
        task.closed_by = None
        task.outcome = ""
    else:
        task = FollowUpTask(case=row, authority_id=row.authority_id)
    task.trigger_state = row.state
    task.opened_at = now
    task.opened_by = actor
    task.due_on = _due_on(timezone.localdate(now))
    if assignee is not None:
        task.assignee = assignee
    task._history_user = actor
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        # Two clerks opened it at the same moment (the case row lock covers PostgreSQL; this covers the
        # unique case column): the other one's task is the task.
        return FollowUpTask.objects.get(case=row)
    return task


def _open_task(task: FollowUpTask) -> FollowUpTask:
    row = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if row.status != FollowUpTask.Status.OPEN:
        when = timezone.localtime(row.closed_at).strftime("%Y-%m-%d %H:%M") if row.closed_at else ""
        raise FollowUpError(
            _("该跟进任务已于 %(when)s 由 %(user)s 完成，不能再修改。")
            % {"when": when, "user": row.closed_by}
        )
    return row


@transaction.atomic
def contact_log_add(
    *, task: FollowUpTask, actor, method: str, result: str, occurred_at: dt.datetime | None = None
) -> ContactLog:
    """Log one contact with the applicant (phone, SMS, e-mail or on site) and what came of it."""
    row = _open_task(task)
    errors: dict[str, list[str]] = {}
    method = _text(method)
    if method not in ContactMethod.values:
        errors["method"] = [_("请选择联系方式（电话、短信、邮件或现场）。")]
    result = _text(result)
    if not result:
        errors["result"] = [_("请填写联系结果。")]
    elif len(result) > 300:
        errors["result"] = [_("联系结果不能超过 300 个字，当前 %(length)d 个字。") % {"length": len(result)}]
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = [_("联系时间不能晚于现在。")]
    if errors:
        raise ValidationError(errors)
    contact = ContactLog.objects.create(
        task=row, staff=actor, occurred_at=occurred_at, method=method, result=result
    )
    if row.assignee_id is None:
        row.assignee = actor
        row._history_user = actor
        row.save(update_fields=["assignee", "updated_at"])
    return contact


@transaction.atomic
def follow_up_close(*, task: FollowUpTask, actor, outcome: str) -> FollowUpTask:
    """Finish a task: only after at least one logged contact, with its outcome."""
    row = _open_task(task)
    outcome = _text(outcome)
    if not outcome:
        raise ValidationError({"outcome": [_("请填写跟进结果。")]})
    if len(outcome) > 300:
        raise ValidationError({"outcome": [_("跟进结果不能超过 300 个字。")]})
    if not row.contacts.exists():
        raise FollowUpError(_("请先记录至少一次与申请人的联系，再完成跟进任务。"))
    row.status = FollowUpTask.Status.DONE
    row.closed_at = timezone.now()
    row.closed_by = actor
    row.outcome = outcome
    row._history_user = actor
    row.save()
    return row


@transaction.atomic
def follow_up_assign(*, task: FollowUpTask, actor, assignee) -> FollowUpTask:
    """Give an open task to a colleague of its authority (None: unassigned)."""
    if not actor.has_perm("registration.change_followuptask"):
        raise PermissionDenied(_("您的角色无权指派跟进任务。"))
    row = _open_task(task)
    if assignee is not None and not assignee.authorities.filter(pk=row.authority_id).exists():
        raise ValidationError({"assignee": [_("所选人员不属于本登记机关。")]})
    row.assignee = assignee
    row._history_user = actor
    row.save(update_fields=["assignee", "updated_at"])
    return row
