"""What every investigations service shares: the one writer of CaseEvent, the guards every action runs
first (closed case, authority, permission), and the locked re-read of the case inside the transaction.

Refusals: TransitionNotAllowed (HTTP 409) for a state that does not allow the step — with
"案件已结案，不能再执行…" for a closed or merged case —, PermissionDenied (403) for a missing
permission or a case of another authority, ValidationError({field: [message]}) for bad input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.utils import timezone

from bizreg.core.scoping import authority_ids_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.validation import Errors, clean_text, text  # noqa: F401 — re-exported
from bizreg.investigations.models import CaseEvent, CaseState, InvestigationCase
from bizreg.investigations.workflows import CASE

FINISHED_STATES = frozenset({CaseState.CLOSED, CaseState.MERGED})


def require_reason(reason: Any, *, label: str = "理由", max_length: int = 300) -> str:
    errors = Errors()
    result = clean_text(reason, name="reason", label=label, max_length=max_length, errors=errors)
    errors.raise_if_any()
    return result


def record_event(
    *,
    case: InvestigationCase,
    action: str,
    label: str,
    actor,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    occurred_at: dt.datetime | None = None,
) -> CaseEvent:
    """Record one transition or clock event of `case`; call inside the service's transaction."""
    return CaseEvent.objects.create(
        case=case,
        action=action,
        label=label,
        from_state=from_state,
        to_state=to_state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        occurred_at=occurred_at or timezone.now(),
        reason=reason or "",
    )


def assert_not_finished(case: InvestigationCase, label: str) -> None:
    """A closed (or merged) case takes no further action of any kind."""
    if case.state == CaseState.CLOSED:
        raise TransitionNotAllowed(f"案件已结案，不能再执行“{label}”。")
    if case.state == CaseState.MERGED:
        into = case.merged_into.number if case.merged_into_id else ""
        raise TransitionNotAllowed(f"案件已结案，不能再执行“{label}”（本案已并入 {into}）。")


def assert_state(case: InvestigationCase, label: str, states: Iterable[str]) -> None:
    """For the actions outside the state machine (field checks, evidence, enterprises): the states in
    which the action applies."""
    assert_not_finished(case, label)
    allowed = tuple(states)
    if case.state not in allowed:
        names = "、".join(str(CaseState(s).label) for s in allowed)
        raise TransitionNotAllowed(
            f"当前状态为“{case.get_state_display()}”，不能执行“{label}”（仅限：{names}）。"
        )


def assert_authority(case_or_obj: Model, actor) -> None:
    """The actor works for the case's authority (the views scope by it too; a task or API call may not)."""
    if getattr(actor, "is_superuser", False):
        return
    if case_or_obj.authority_id not in authority_ids_for(actor):
        raise PermissionDenied("该案件不属于您所在的登记机关。")


def assert_perm(actor, permission: str, message: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(message)


def check_transition(case: InvestigationCase, action: str, actor):
    """Guards of a state-machine step on the case as the caller saw it (cheap refusals before locking)."""
    t = CASE.transition(action)
    assert_not_finished(case, t.label)
    assert_authority(case, actor)
    return CASE.check(state=case.state, action=action, user=actor)


def lock_case(case: InvestigationCase, *, seen_state: str | None = None) -> InvestigationCase:
    """The case row under select_for_update; two investigators acting at once: the second waits here and
    is told, when the first changed the state, that someone was faster."""
    locked = (
        InvestigationCase.objects.select_for_update(of=("self",)).select_related("authority").get(pk=case.pk)
    )
    if seen_state is not None and locked.state != seen_state:
        if locked.state in FINISHED_STATES:
            assert_not_finished(locked, "该操作")
        raise TransitionNotAllowed(
            f"该案件已被他人处理，当前状态为“{locked.get_state_display()}”，请刷新后再操作。"
        )
    return locked


def apply_transition(
    case: InvestigationCase, action: str, *, actor, reason: str = "", now: dt.datetime | None = None
) -> CaseEvent:
    """Check `action` on the locked case, set its new state (not saved) and record the event."""
    t = CASE.transition(action)
    assert_not_finished(case, t.label)
    t = CASE.check(state=case.state, action=action, user=actor)
    previous = case.state
    case.state = t.target
    case._history_user = actor
    case._change_reason = t.label
    return record_event(
        case=case,
        action=action,
        label=t.label,
        actor=actor,
        from_state=previous,
        to_state=t.target,
        reason=reason,
        occurred_at=now,
    )
