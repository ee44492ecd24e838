"""Field verification (实地核查): a task at an address, the attempts to reach the enterprise, and the report.

A submitted report is evidence: it never changes. A correction is a new version that supersedes it (the
old one stays, marked superseded), with the reason, so the file shows what was reported when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.core.scoping import authority_ids_for
from bizreg.enterprises.models import Enterprise
from bizreg.investigations.models import (
    CaseState,
    ContactAttempt,
    ContactMethod,
    FieldCheck,
    FieldCheckResult,
    FieldCheckState,
    InvestigationCase,
)
from bizreg.investigations.services.events import (
    Errors,
    assert_authority,
    assert_not_finished,
    assert_state,
    clean_text,
    lock_case,
    record_event,
    text,
)

PERM = "investigations.add_fieldcheck"
IMMUTABLE_MESSAGE = "已提交的核查记录不可修改，请提交更正版本。"
SUPERSEDED_MESSAGE = "该核查记录已有更正版本，请在最新版本上更正。"
# Field checks belong to the investigation proper: after acceptance, while it runs (and during the notice).
WORK_STATES = (CaseState.INVESTIGATING, CaseState.PUBLIC_NOTICE)
CLOCK_SKEW = dt.timedelta(minutes=5)


def _require(actor) -> None:
    if actor is None or not actor.has_perm(PERM):
        raise PermissionDenied("您的角色无权办理实地核查。")


def _past_moment(value: Any, *, name: str, label: str, errors: Errors) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        errors.add(name, f"请填写{label}。")
        return None
    moment = timezone.make_aware(value) if timezone.is_naive(value) else value
    if moment > timezone.now() + CLOCK_SKEW:
        errors.add(name, f"{label}不能晚于现在。")
    return moment


def _clean_report(visited_at: Any, result: Any, findings: Any, errors: Errors) -> dict:
    moment = _past_moment(visited_at, name="visited_at", label="核查时间", errors=errors)
    result = text(result)
    if result not in FieldCheckResult.values:
        errors.add("result", "请选择核查结果。")
    findings = clean_text(findings, name="findings", label="核查情况", max_length=10000, errors=errors)
    return {"visited_at": moment, "result": result, "findings": findings}


def _locked_check(field_check: FieldCheck) -> FieldCheck:
    return FieldCheck.objects.select_for_update(of=("self",)).select_related("case").get(pk=field_check.pk)


def field_check_assign(
    *,
    case: InvestigationCase,
    actor,
    enterprise: Enterprise | None = None,
    address: str,
    assigned_to,
    due_on: dt.date,
) -> FieldCheck:
    """A field-check task at `address` (an enterprise of the case's, or any place the case leads to)."""
    label = "派发实地核查"
    _require(actor)
    assert_authority(case, actor)
    assert_state(case, label, WORK_STATES)
    errors = Errors()
    address = clean_text(
        address, name="address", label="核查地址", max_length=300, errors=errors, required=False
    )
    if enterprise is not None:
        if not case.enterprises.filter(enterprise=enterprise).exists():
            errors.add("enterprise", "核查企业须为本案的涉案企业。")
        elif not address:
            address = enterprise.address
    if not address and "address" not in errors:
        errors.add("address", "请填写核查地址。")
    User = get_user_model()
    if not isinstance(assigned_to, User):
        errors.add("assigned_to", "请选择核查人。")
    elif not assigned_to.is_active or not assigned_to.has_perm(PERM):
        errors.add("assigned_to", "核查人须为在职的调查人员。")
    elif not assigned_to.is_superuser and case.authority_id not in authority_ids_for(assigned_to):
        errors.add("assigned_to", "核查人不属于本案的登记机关。")
    if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
        errors.add("due_on", "请填写要求完成日期。")
    elif due_on < timezone.localdate():
        errors.add("due_on", "要求完成日期不能早于今天。")
    errors.raise_if_any()
    with transaction.atomic():
        locked = lock_case(case)
        assert_state(locked, label, WORK_STATES)
        check = FieldCheck.objects.create(
            authority=locked.authority,
            case=locked,
            enterprise=enterprise,
            address=address,
            assigned_to=assigned_to,
            due_on=due_on,
        )
        record_event(
            case=locked,
            action="field_check_assign",
            label=label,
            actor=actor,
            reason=f"{address}；核查人 {assigned_to}；{due_on.isoformat()} 前完成",
        )
    return check


def contact_attempt_add(
    *,
    field_check: FieldCheck,
    actor,
    attempted_at: dt.datetime,
    method: str,
    target: str,
    reached: bool,
    note: str = "",
) -> ContactAttempt:
    """One attempt to reach the enterprise or a person, while the check is still being worked on."""
    _require(actor)
    assert_authority(field_check, actor)
    errors = Errors()
    moment = _past_moment(attempted_at, name="attempted_at", label="联系时间", errors=errors)
    method = text(method)
    if method not in ContactMethod.values:
        errors.add("method", "请选择联系方式。")
    target = clean_text(target, name="target", label="联系对象", max_length=100, errors=errors)
    note = clean_text(note, name="note", label="情况", max_length=300, errors=errors, required=False)
    with transaction.atomic():
        check = _locked_check(field_check)
        assert_not_finished(check.case, "登记联系情况")
        if check.state != FieldCheckState.ASSIGNED:
            raise ValidationError({"__all__": [IMMUTABLE_MESSAGE]})
        errors.raise_if_any()
        return ContactAttempt.objects.create(
            field_check=check,
            attempted_at=moment,
            method=method,
            target=target,
            reached=bool(reached),
            note=note,
        )


def field_check_submit(
    *, field_check: FieldCheck, actor, visited_at: dt.datetime, result: str, findings: str
) -> FieldCheck:
    """Submit the report; from now on it is immutable (a correction is a new version)."""
    label = "提交实地核查记录"
    _require(actor)
    assert_authority(field_check, actor)
    errors = Errors()
    report = _clean_report(visited_at, result, findings, errors)
    with transaction.atomic():
        check = _locked_check(field_check)
        assert_not_finished(check.case, label)
        if check.state != FieldCheckState.ASSIGNED:
            raise ValidationError({"__all__": [IMMUTABLE_MESSAGE]})
        errors.raise_if_any()
        now = timezone.now()
        check.visited_at = report["visited_at"]
        check.result = report["result"]
        check.findings = report["findings"]
        check.state = FieldCheckState.SUBMITTED
        check.submitted_at = now
        check.submitted_by = actor
        check.save()
        record_event(
            case=check.case,
            action="field_check_submit",
            label=label,
            actor=actor,
            reason=f"{check.address}：{check.get_result_display()}",
            occurred_at=now,
        )
    return check


def field_check_correct(
    *, field_check: FieldCheck, actor, reason: str, visited_at: dt.datetime, result: str, findings: str
) -> FieldCheck:
    """A corrected version of a submitted report; the old version stays, marked superseded."""
    label = "更正实地核查记录"
    _require(actor)
    assert_authority(field_check, actor)
    errors = Errors()
    reason = clean_text(reason, name="reason", label="更正理由", max_length=300, errors=errors)
    report = _clean_report(visited_at, result, findings, errors)
    with transaction.atomic():
        old = _locked_check(field_check)
        assert_not_finished(old.case, label)
        if old.state == FieldCheckState.ASSIGNED:
            raise ValidationError({"__all__": ["核查记录尚未提交，请直接提交核查记录。"]})
        if old.state == FieldCheckState.SUPERSEDED:
            raise ValidationError({"__all__": [SUPERSEDED_MESSAGE]})
        errors.raise_if_any()
        now = timezone.now()
        try:
            with transaction.atomic():
                new = FieldCheck.objects.create(
                    authority_id=old.authority_id,
                    case=old.case,
                    enterprise=old.enterprise,
                    address=old.address,
                    assigned_to=old.assigned_to,
                    due_on=old.due_on,
                    state=FieldCheckState.SUBMITTED,
                    version=old.version + 1,
                    supersedes=old,
                    correction_reason=reason,
                    submitted_at=now,
                    submitted_by=actor,
                    **report,
                )
        except IntegrityError:  # another correction of the same version won
            raise ValidationError({"__all__": [SUPERSEDED_MESSAGE]}) from None
        old.state = FieldCheckState.SUPERSEDED
        old.save(update_fields=["state", "updated_at"])
        record_event(
            case=old.case,
            action="field_check_correct",
            label=label,
            actor=actor,
            reason=f"第 {new.version} 版：{new.get_result_display()}；更正理由：{reason}",
            occurred_at=now,
        )
    return new
