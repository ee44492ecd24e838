"""The one writer of ArchiveEvent: every transition of an archives object is recorded here."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from bizreg.archives.models import ArchiveEvent
from bizreg.core.statemachine import StateMachine


def record_event(
    *, obj: models.Model, action: str, actor, from_state: str = "", to_state: str = "", reason: str = ""
) -> ArchiveEvent:
    """Record an action on `obj` (which must carry authority_id). Call inside the service's transaction."""
    return ArchiveEvent.objects.create(
        occurred_at=timezone.now(),
        authority_id=obj.authority_id,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=(reason or "")[:300],
    )


def apply_transition(
    *, machine: StateMachine, obj: models.Model, action: str, actor, reason: str = "", field: str = "state"
) -> str:
    """Check `action` against the machine for `actor`, set the new state on `obj` (not saved) and record
    the event; returns the previous state. Raises TransitionNotAllowed / PermissionDenied."""
    previous = getattr(obj, field)
    t = machine.check(state=previous, action=action, user=actor)
    setattr(obj, field, t.target)
    record_event(obj=obj, action=action, actor=actor, from_state=previous, to_state=t.target, reason=reason)
    return previous
