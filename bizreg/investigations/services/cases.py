"""The investigation case's steps (workflows.CASE) and its clock (实施细则 art. 53–57).

Every step is keyword-only with its actor, checks state and permission on the case as the caller saw it,
then locks the case row, checks again and changes it — all in one transaction with its CaseEvent — so two
investigators acting at once: one wins, the other is told who was faster; a refusal anywhere (an
enterprise locked by another case, a register that refuses the revocation) leaves nothing changed.

Clock: acceptance within 3 working days of receipt (set at intake); investigation 3 calendar months from
acceptance, one extension of 3 months with the manager's approval; a suspension (中止) moves the deadline by
its calendar days when the case resumes; where the enterprise cannot be reached, a 45-day public notice
before a revocation. Closing records whether the case ended within the deadline that applied.
"""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.core.identifiers import validate_resident_id
from bizreg.core.scoping import authority_ids_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import Enterprise
from bizreg.investigations.models import (
    OPEN_STATES,
    CaseEnterprise,
    CaseState,
    Decision,
    DecisionOutcome,
    FieldCheck,
    FieldCheckResult,
    FieldCheckState,
    InvestigationCase,
    NonRevocationGround,
    NoticeObjection,
    RegistrationBan,
    Report,
    Suspension,
    SuspensionGround,
    VictimSurvey,
)
from bizreg.investigations.services.events import (
    Errors,
    apply_transition,
    assert_authority,
    assert_not_finished,
    assert_state,
    check_transition,
    clean_text,
    lock_case,
    record_event,
    require_reason,
    text,
)
from bizreg.investigations.workflows import CHANGE, DECIDE

INVESTIGATION_MONTHS = 3
EXTENSION_MONTHS = 3
NOTICE_DAYS = 45
BAN_YEARS = 3
# Field-check results showing the enterprise cannot be reached at its registered address: the ground for
# the 45-day public notice instead of hearing the enterprise.
UNREACHABLE_RESULTS = frozenset(
    {FieldCheckResult.NOT_FOUND, FieldCheckResult.ADDRESS_MISSING, FieldCheckResult.VACANT}
)
REVOKING_OUTCOMES = frozenset({DecisionOutcome.REVOKE_ALL, DecisionOutcome.REVOKE_ITEMS})
# States in which the enterprises under investigation are locked (accepted and not yet decided).
LOCKING_STATES = frozenset({CaseState.INVESTIGATING, CaseState.SUSPENDED, CaseState.PUBLIC_NOTICE})


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later; the month's last day when it has no such day
    (31 Aug + 3 months = 30 Nov), as deadlines in months are counted."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _optional_reason(reason: Any) -> str:
    errors = Errors()
    result = clean_text(reason, name="reason", label="理由", max_length=300, errors=errors, required=False)
    errors.raise_if_any()
    return result


def _now() -> tuple[dt.datetime, dt.date]:
    now = timezone.now()
    return now, timezone.localdate(now)


# --- the enterprises under investigation and their locks -------------------------------------------------


def _lock_reason(case: InvestigationCase) -> str:
    return f"冒用身份虚假登记调查（案件 {case.number}），调查期间锁定"


def _lock(case: InvestigationCase, link: CaseEnterprise, actor) -> None:
    """Lock one enterprise for this case; a lock of this case already there is kept, a lock of anything
    else refuses the step (the investigation cannot proceed on an enterprise another case holds)."""
    locker = actor if getattr(actor, "is_authenticated", False) else case.assigned_to
    try:
        enterprise_services.enterprise_lock(
            enterprise=link.enterprise, actor=locker, reason=_lock_reason(case), case_reference=case.number
        )
    except enterprise_services.EnterpriseLockedError as exc:
        if exc.lock.case_reference != case.number:
            other = f"案件 {exc.lock.case_reference}" if exc.lock.case_reference else "其他原因"
            raise ValidationError(
                {"enterprises": [f"{link.enterprise.name} 已因{other}被锁定，不能由本案锁定：{exc}"]}
            ) from None
    if not link.locked:
        link.locked = True
        link.save(update_fields=["locked"])


def _unlock(case: InvestigationCase, link: CaseEnterprise, actor, reason: str) -> None:
    """Release this case's lock on the enterprise (a lock of anything else is left alone)."""
    lock = enterprise_services.enterprise_lock_state(link.enterprise)
    if lock is not None and lock.case_reference == case.number:
        enterprise_services.enterprise_unlock(enterprise=link.enterprise, actor=actor, reason=reason[:300])
    if link.locked:
        link.locked = False
        link.save(update_fields=["locked"])


def _unlock_all(case: InvestigationCase, actor, reason: str) -> int:
    links = list(case.enterprises.filter(locked=True).select_related("enterprise"))
    for link in links:
        _unlock(case, link, actor, reason)
    return len(links)


def attach_enterprises(
    *, case: InvestigationCase, enterprises: Iterable[Enterprise], actor, reason: str
) -> list[CaseEnterprise]:
    """Put enterprises under the (locked) case, skipping those already there; locked at once when the case
    is accepted. Used by intake, merge and case_add_enterprise, inside their transaction."""
    present = set(case.enterprises.values_list("enterprise_id", flat=True))
    added = []
    now = timezone.now()
    for enterprise in enterprises:
        if enterprise.pk in present:
            continue
        present.add(enterprise.pk)
        link = CaseEnterprise.objects.create(
            case=case,
            enterprise=enterprise,
            added_at=now,
            added_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if case.state in LOCKING_STATES:
            _lock(case, link, actor)
        added.append(link)
    if added:
        record_event(
            case=case,
            action="add_enterprise",
            label="列入涉案企业",
            actor=actor,
            reason=f"{'、'.join(link.enterprise.name for link in added)}（{reason}）"[:1000],
        )
    return added


def case_add_enterprise(
    *, case: InvestigationCase, enterprise: Enterprise, actor, reason: str
) -> CaseEnterprise:
    """Put one more enterprise of the register under the case (locked at once if the case is accepted)."""
    label = "列入涉案企业"
    if not actor.has_perm(CHANGE):
        raise PermissionDenied("您的角色无权变更涉案企业。")
    assert_authority(case, actor)
    assert_state(case, label, OPEN_STATES)
    reason = require_reason(reason)
    if enterprise.authority_id != case.authority_id:
        raise ValidationError({"uscc": ["该商事主体不属于本案的登记机关，不能列为涉案企业。"]})
    with transaction.atomic():
        locked = lock_case(case)
        assert_state(locked, label, OPEN_STATES)
        if locked.enterprises.filter(enterprise=enterprise).exists():
            raise ValidationError({"uscc": [f"{enterprise.name} 已是本案涉案企业。"]})
        (link,) = attach_enterprises(case=locked, enterprises=[enterprise], actor=actor, reason=reason)
    return link


def case_assign(*, case: InvestigationCase, assignee, actor) -> InvestigationCase:
    """Give the case to an investigator of its authority (the manager or an investigator may)."""
    label = "指定承办人"
    if not (actor.has_perm(CHANGE) or actor.has_perm(DECIDE)):
        raise PermissionDenied("您的角色无权指定承办人。")
    assert_authority(case, actor)
    assert_not_finished(case, label)
    if assignee is None or not assignee.is_active or not assignee.has_perm(CHANGE):
        raise ValidationError({"assignee": ["承办人须为在职的调查人员。"]})
    if not assignee.is_superuser and case.authority_id not in authority_ids_for(assignee):
        raise ValidationError({"assignee": ["承办人不属于本案的登记机关。"]})
    with transaction.atomic():
        locked = lock_case(case)
        assert_not_finished(locked, label)
        previous = locked.assigned_to
        locked.assigned_to = assignee
        locked._history_user = actor
        locked._change_reason = label
        locked.save(update_fields=["assigned_to", "updated_at"])
        was = f"（原承办人：{previous}）" if previous else ""
        record_event(
            case=locked, action="assign", label=label, actor=actor, reason=f"承办人：{assignee}{was}"
        )
    return locked


# --- acceptance ---------------------------------------------------------------------------------------


def case_accept(*, case: InvestigationCase, actor, reason: str = "") -> InvestigationCase:
    """Accept the case: the 3-month investigation clock starts and every enterprise under it is locked."""
    seen = case.state
    check_transition(case, "accept", actor)
    reason = _optional_reason(reason)
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, today = _now()
        locked.accepted_on = today
        locked.investigation_due_on = add_months(today, INVESTIGATION_MONTHS)
        if locked.assigned_to_id is None:
            locked.assigned_to = actor
        clock = f"调查期限 {locked.investigation_due_on.isoformat()}"
        apply_transition(
            locked, "accept", actor=actor, reason=f"{reason}（{clock}）" if reason else clock, now=now
        )
        locked.save()
        for link in locked.enterprises.select_related("enterprise"):
            _lock(locked, link, actor)
    return locked


def case_not_accept(*, case: InvestigationCase, actor, reason: str) -> InvestigationCase:
    seen = case.state
    check_transition(case, "not_accept", actor)
    reason = require_reason(reason, label="不予受理理由")
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, _today = _now()
        locked.not_accepted_reason = reason
        apply_transition(locked, "not_accept", actor=actor, reason=reason, now=now)
        locked.save()
    return locked


def case_merge(*, case: InvestigationCase, into: InvestigationCase, actor, reason: str) -> InvestigationCase:
    """Merge `case` into the open case `into`: its reports and enterprises move there (locks follow); the
    merged case keeps its history and points to `into`. Returns `into`."""
    seen = case.state
    check_transition(case, "merge", actor)
    reason = require_reason(reason, label="并案理由")
    if into.pk == case.pk:
        raise ValidationError({"into": ["不能并入本案自身。"]})
    if into.authority_id != case.authority_id:
        raise ValidationError({"into": ["只能并入同一登记机关的案件。"]})
    with transaction.atomic():
        # Both rows locked, the older first: two merges of the same pair in opposite directions wait, not
        # deadlock.
        first, second = sorted([case, into], key=lambda c: c.pk)
        locked_first = lock_case(first)
        locked_second = lock_case(second)
        source, target = (
            (locked_first, locked_second) if first.pk == case.pk else (locked_second, locked_first)
        )
        if source.state != seen:
            lock_case(source, seen_state=seen)  # raises with who was faster
        if target.state not in OPEN_STATES:
            raise ValidationError(
                {"into": [f"案件 {target.number} 当前状态为“{target.get_state_display()}”，不能并入。"]}
            )
        now, _today = _now()
        moved_reason = f"由案件 {source.number} 并入：{reason}"[:300]
        Report.objects.filter(case=source, merged_reason="").update(merged_reason=moved_reason)
        Report.objects.filter(case=source).update(case=target)
        links = list(source.enterprises.select_related("enterprise"))
        for link in links:
            if link.locked:
                _unlock(source, link, actor, f"案件 {source.number} 并入 {target.number}")
        attach_enterprises(
            case=target, enterprises=[link.enterprise for link in links], actor=actor, reason=moved_reason
        )
        source.merged_into = target
        apply_transition(source, "merge", actor=actor, reason=f"并入 {target.number}：{reason}", now=now)
        source.save()
        record_event(
            case=target,
            action="case_merged_in",
            label="他案并入",
            actor=actor,
            from_state=target.state,
            to_state=target.state,
            reason=moved_reason,
            occurred_at=now,
        )
    return target


# --- the clock: extension, suspension -----------------------------------------------------------------


def case_extend(*, case: InvestigationCase, actor, reason: str) -> InvestigationCase:
    """The one 3-month extension of the investigation, approved by the manager."""
    seen = case.state
    check_transition(case, "extend", actor)
    reason = require_reason(reason, label="延期理由")
    if case.extended:
        raise ValidationError({"__all__": ["调查期限只能延长一次。"]})
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        if locked.extended:
            raise ValidationError({"__all__": ["调查期限只能延长一次。"]})
        now, _today = _now()
        before = locked.investigation_due_on
        locked.investigation_due_on = add_months(before, EXTENSION_MONTHS)
        locked.extended = True
        apply_transition(
            locked,
            "extend",
            actor=actor,
            reason=f"{reason}（调查期限由 {before} 延至 {locked.investigation_due_on}）",
            now=now,
        )
        locked.save()
    return locked


def case_suspend(*, case: InvestigationCase, actor, ground: str, reason: str) -> InvestigationCase:
    """Suspend (中止) in one of the listed situations; the clock stops until the case resumes."""
    seen = case.state
    check_transition(case, "suspend", actor)
    errors = Errors()
    ground = text(ground)
    if ground not in SuspensionGround.values:
        errors.add("ground", "请选择中止情形。")
    reason = clean_text(reason, name="reason", label="中止说明", max_length=300, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, today = _now()
        Suspension.objects.create(case=locked, ground=ground, reason=reason, started_on=today)
        locked.suspended_since = today
        apply_transition(
            locked, "suspend", actor=actor, reason=f"{SuspensionGround(ground).label}：{reason}", now=now
        )
        locked.save()
    return locked


def case_resume(*, case: InvestigationCase, actor, reason: str) -> InvestigationCase:
    """Resume; the investigation deadline moves by the calendar days the case was suspended."""
    seen = case.state
    check_transition(case, "resume", actor)
    reason = require_reason(reason, label="恢复调查理由")
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, today = _now()
        suspension = Suspension.objects.select_for_update().filter(case=locked, ended_on__isnull=True).first()
        days = 0
        if suspension is not None:
            days = max((today - suspension.started_on).days, 0)
            suspension.ended_on = today
            suspension.days_added = days
            suspension.save(update_fields=["ended_on", "days_added"])
        if locked.investigation_due_on is not None:
            locked.investigation_due_on += dt.timedelta(days=days)
        locked.suspended_since = None
        due = locked.investigation_due_on.isoformat() if locked.investigation_due_on else "—"
        apply_transition(
            locked, "resume", actor=actor, reason=f"{reason}（中止 {days} 天，调查期限顺延至 {due}）", now=now
        )
        locked.save()
    return locked


# --- public notice and objections ---------------------------------------------------------------------


def unreachable_field_check(case: InvestigationCase) -> FieldCheck | None:
    """The latest submitted field check (current version) finding the enterprise unreachable, or None."""
    return (
        FieldCheck.objects.filter(case=case, state=FieldCheckState.SUBMITTED, result__in=UNREACHABLE_RESULTS)
        .order_by("-submitted_at", "-id")
        .first()
    )


def case_start_notice(*, case: InvestigationCase, actor, reason: str) -> InvestigationCase:
    """Publish the 45-day notice: only where a submitted field check shows the enterprise is unreachable."""
    seen = case.state
    check_transition(case, "start_notice", actor)
    reason = require_reason(reason, label="公示理由")
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        check = unreachable_field_check(locked)
        if check is None:
            raise ValidationError(
                {
                    "__all__": [
                        "发布公示须先有已提交的实地核查记录，且核查结果为登记住所无该企业、住所不存在或场所空置"
                        "（企业无法联系）。"
                    ]
                }
            )
        now, today = _now()
        locked.notice_started_on = today
        locked.notice_ends_on = today + dt.timedelta(days=NOTICE_DAYS)
        apply_transition(
            locked,
            "start_notice",
            actor=actor,
            reason=(
                f"{reason}（依据实地核查：{check.get_result_display()}；公示期 {today.isoformat()} 至 "
                f"{locked.notice_ends_on.isoformat()}）"
            ),
            now=now,
        )
        locked.save()
    return locked


def notice_objection_record(
    *, case: InvestigationCase, actor, objector: str, content: str, received_on: dt.date
) -> InvestigationCase:
    """An objection received during the notice: recorded, and the case goes back to investigation."""
    seen = case.state
    check_transition(case, "objection", actor)
    errors = Errors()
    objector = clean_text(objector, name="objector", label="异议人", max_length=100, errors=errors)
    content = clean_text(content, name="content", label="异议内容", max_length=5000, errors=errors)
    today = timezone.localdate()
    if not isinstance(received_on, dt.date) or isinstance(received_on, dt.datetime):
        errors.add("received_on", "请填写收到异议的日期。")
    elif received_on > today:
        errors.add("received_on", "收到日期不能晚于今天。")
    elif case.notice_started_on and received_on < case.notice_started_on:
        errors.add("received_on", f"收到日期不能早于公示开始日期 {case.notice_started_on.isoformat()}。")
    elif case.notice_ends_on and received_on > case.notice_ends_on:
        errors.add(
            "received_on",
            f"公示期已于 {case.notice_ends_on.isoformat()} 届满，此后收到的不是公示期内的异议。",
        )
    errors.raise_if_any()
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, _today = _now()
        NoticeObjection.objects.create(
            case=locked, received_on=received_on, objector=objector, content=content, recorded_by=actor
        )
        apply_transition(
            locked, "objection", actor=actor, reason=f"异议人：{objector}；{content}"[:2000], now=now
        )
        locked.save()
    return locked


def record_notice_end(case: InvestigationCase, *, today: dt.date) -> bool:
    """Record (once) the clock event of a notice period that ran out; True when recorded now."""
    if case.notice_ends_on is None or today <= case.notice_ends_on:
        return False
    if case.events.filter(action="notice_ended", occurred_at__date__gte=case.notice_started_on).exists():
        return False
    objections = case.objections.filter(received_on__gte=case.notice_started_on).count()
    record_event(
        case=case,
        action="notice_ended",
        label="公示期满",
        actor=None,
        from_state=case.state,
        to_state=case.state,
        reason=f"公示期 {case.notice_started_on.isoformat()} 至 {case.notice_ends_on.isoformat()} 届满，"
        + (f"收到异议 {objections} 件" if objections else "未收到异议"),
    )
    return True


# --- decision and closing ---------------------------------------------------------------------------


def _clean_persons(raw: Any, errors: Errors) -> list[dict[str, str]]:
    if raw is None:
        return []
    if isinstance(raw, Mapping | str | bytes) or not isinstance(raw, Iterable):
        errors.add("responsible_persons", "责任人格式错误：应为姓名、身份证号、身份的列表。")
        return []
    persons: list[dict[str, str]] = []
    seen: set[str] = set()
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            errors.add("responsible_persons", f"第 {n} 名责任人格式错误。")
            continue
        name = text(entry.get("name"))
        role = text(entry.get("role")) or "虚假登记责任人"
        if not name:
            errors.add("responsible_persons", f"第 {n} 名责任人：请填写姓名。")
        elif len(name) > 50:
            errors.add("responsible_persons", f"第 {n} 名责任人：姓名不能超过 50 个字。")
        if len(role) > 50:
            errors.add("responsible_persons", f"第 {n} 名责任人：身份不能超过 50 个字。")
        try:
            number = validate_resident_id(text(entry.get("id_number")))
        except ValidationError as exc:
            errors.add("responsible_persons", f"第 {n} 名责任人（{name or '未填姓名'}）：{exc.messages[0]}")
            continue
        if number in seen:
            continue
        seen.add(number)
        persons.append({"name": name, "id_number": number, "role": role})
    return persons


def _clean_decision(
    case: InvestigationCase,
    *,
    outcome: Any,
    legal_basis: Any,
    reasoning: Any,
    items: Any,
    non_revocation_ground: Any,
    police_reference: Any,
    responsible_persons: Any,
) -> dict:
    errors = Errors()
    outcome = text(outcome)
    if outcome not in DecisionOutcome.values:
        errors.add("outcome", "请选择处理决定。")
    basis = text(legal_basis)
    if not basis:
        errors.add("legal_basis", "请填写法律依据（如《市场主体登记管理条例》第四十条）。")
    elif len(basis) > 300:
        errors.add("legal_basis", "法律依据不能超过 300 个字。")
    reasoning = clean_text(reasoning, name="reasoning", label="决定理由", max_length=10000, errors=errors)
    if isinstance(items, str):
        items = [items]
    cleaned_items = [text(i) for i in (items or ()) if text(i)]
    ground = text(non_revocation_ground)
    police = text(police_reference)
    if outcome == DecisionOutcome.REVOKE_ITEMS and not cleaned_items:
        errors.add("items", "撤销部分登记事项时，请列明撤销的事项。")
    if outcome != DecisionOutcome.REVOKE_ITEMS and cleaned_items:
        errors.add("items", "只有撤销部分登记事项的决定才列举撤销事项。")
    if outcome == DecisionOutcome.NOT_REVOKED:
        if ground not in NonRevocationGround.values:
            errors.add("non_revocation_ground", "不予撤销须选择所依据的情形（条例第四十一条）。")
    elif ground:
        errors.add("non_revocation_ground", "只有不予撤销的决定才填写不予撤销依据。")
    if outcome == DecisionOutcome.REFER_POLICE and not police:
        errors.add("police_reference", "移送公安机关须填写移送编号。")
    elif len(police) > 60:
        errors.add("police_reference", "移送编号不能超过 60 个字。")
    persons = _clean_persons(responsible_persons, errors)
    if persons and outcome in DecisionOutcome.values and outcome not in REVOKING_OUTCOMES:
        errors.add("responsible_persons", "只有撤销登记的决定才将责任人列入限制登记名单。")
    if outcome in REVOKING_OUTCOMES and not case.enterprises.exists():
        errors.add("outcome", "本案没有涉案企业，不能作出撤销登记的决定。")
    errors.raise_if_any()
    return {
        "outcome": outcome,
        "legal_basis": basis,
        "reasoning": reasoning,
        "items": cleaned_items,
        "non_revocation_ground": ground if outcome == DecisionOutcome.NOT_REVOKED else "",
        "police_reference": police,
        "persons": persons,
    }


def _assert_notice_over(case: InvestigationCase, today: dt.date) -> None:
    if case.state != CaseState.PUBLIC_NOTICE:
        return
    if case.notice_ends_on is None or today <= case.notice_ends_on:
        ends = case.notice_ends_on.isoformat() if case.notice_ends_on else "—"
        raise TransitionNotAllowed(f"公示期至 {ends} 届满，公示期满且无异议后方可作出决定。")
    if case.objections.filter(received_on__gte=case.notice_started_on).exists():
        raise TransitionNotAllowed("公示期内收到异议，须先核查异议后再作出决定。")


def _revoke(case: InvestigationCase, *, actor, data: dict, today: dt.date) -> None:
    scope = "all" if data["outcome"] == DecisionOutcome.REVOKE_ALL else "items"
    reason = f"冒用身份虚假登记，依据{data['legal_basis']}"[:300]
    for link in case.enterprises.select_related("enterprise"):
        try:
            enterprise_services.enterprise_rescind(
                enterprise=link.enterprise,
                actor=actor,
                scope=scope,
                items=data["items"] if scope == "items" else [],
                decision_reference=case.number,
                decided_on=today,
                reason=reason,
            )
        except enterprise_services.EnterpriseError as exc:
            raise ValidationError({"outcome": [f"{link.enterprise.name}：{exc}"]}) from None
        except ValidationError as exc:
            messages = [f"{link.enterprise.name}：{m}" for m in exc.messages]
            key = "items" if scope == "items" else "outcome"
            raise ValidationError({key: messages}) from None
        if scope == "all" and link.locked:
            # The register releases its lock with the revocation (enterprise_rescind).
            link.locked = False
            link.save(update_fields=["locked"])


def case_decide(
    *,
    case: InvestigationCase,
    actor,
    outcome: str,
    legal_basis: str,
    reasoning: str,
    items: Iterable[str] = (),
    non_revocation_ground: str = "",
    police_reference: str = "",
    responsible_persons: Iterable[dict] = (),
) -> Decision:
    """The manager's decision. Revocations are applied to the register (enterprises.enterprise_rescind)
    and put the responsible persons on the 3-year list; a decision not to revoke or to refer the matter to
    the police releases the case's locks. From the public notice only once it ran out without objection."""
    seen = case.state
    check_transition(case, "decide", actor)
    data = _clean_decision(
        case,
        outcome=outcome,
        legal_basis=legal_basis,
        reasoning=reasoning,
        items=items,
        non_revocation_ground=non_revocation_ground,
        police_reference=police_reference,
        responsible_persons=responsible_persons,
    )
    _assert_notice_over(case, timezone.localdate())
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, today = _now()
        _assert_notice_over(locked, today)
        if locked.state == CaseState.PUBLIC_NOTICE:
            record_notice_end(locked, today=today)
        decision = Decision.objects.create(
            case=locked,
            outcome=data["outcome"],
            items=data["items"],
            legal_basis=data["legal_basis"],
            non_revocation_ground=data["non_revocation_ground"],
            police_reference=data["police_reference"],
            reasoning=data["reasoning"],
            decided_by=actor,
            decided_at=now,
        )
        label = DecisionOutcome(data["outcome"]).label
        apply_transition(
            locked, "decide", actor=actor, reason=f"{label}；依据：{data['legal_basis']}", now=now
        )
        locked.save()
        if data["outcome"] in REVOKING_OUTCOMES:
            _revoke(locked, actor=actor, data=data, today=today)
            ends = add_months(today, 12 * BAN_YEARS)
            for person in data["persons"]:
                ban = RegistrationBan(
                    authority=locked.authority,
                    id_number=person["id_number"],
                    name=person["name"],
                    role=person["role"],
                    case=locked,
                    starts_on=today,
                    ends_on=ends,
                )
                ban._history_user = actor
                ban.save()
            if data["persons"]:
                record_event(
                    case=locked,
                    action="ban",
                    label="列入限制登记名单",
                    actor=actor,
                    reason=f"{len(data['persons'])} 人，至 {ends.isoformat()}",
                    occurred_at=now,
                )
        else:
            _unlock_all(locked, actor, f"案件 {locked.number} 决定{label}，解除锁定")
    return decision


def _deadline(case: InvestigationCase) -> dt.date | None:
    if case.state == CaseState.NOT_ACCEPTED:
        return case.acceptance_due_on
    return case.investigation_due_on


def case_close(*, case: InvestigationCase, actor, reason: str = "") -> InvestigationCase:
    """Close a decided (or not accepted) case: within-deadline recorded, remaining locks released, the
    victim's satisfaction survey created."""
    seen = case.state
    check_transition(case, "close", actor)
    reason = _optional_reason(reason)
    with transaction.atomic():
        locked = lock_case(case, seen_state=seen)
        now, today = _now()
        deadline = _deadline(locked)
        locked.closed_at = now
        locked.closed_within_deadline = None if deadline is None else today <= deadline
        verdict = {True: "期限内办结", False: "超期办结", None: "无适用期限"}[locked.closed_within_deadline]
        apply_transition(
            locked, "close", actor=actor, reason=f"{reason}（{verdict}）" if reason else verdict, now=now
        )
        locked.save()
        _unlock_all(locked, actor, f"案件 {locked.number} 结案，解除锁定")
        VictimSurvey.objects.get_or_create(
            case=locked, defaults={"token": secrets.token_urlsafe(32), "sent_at": now}
        )
    return locked
