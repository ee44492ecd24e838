"""The transition trail of an archives object, for its detail page."""

from __future__ import annotations

from django.db import models

from bizreg.archives.models import ArchiveEvent
from bizreg.core.statemachine import StateMachine


def events_of(obj: models.Model) -> models.QuerySet[ArchiveEvent]:
    return ArchiveEvent.objects.filter(object_type=obj._meta.model_name, object_id=obj.pk).select_related(
        "actor"
    )


def labelled_events(
    obj: models.Model,
    *,
    machine: StateMachine,
    labels: dict[str, str] | None = None,
    states: dict[str, str] | None = None,
    latest: int | None = None,
) -> list[ArchiveEvent]:
    """The trail for a page, oldest first (only the `latest` ones if given): each event gets `label` (the
    transition's, or from `labels` for actions that are not transitions) and `from_label` / `to_label`
    (the machine's state names, or from `states` for events on the object's parts)."""
    action_labels = (labels or {}) | {action: t.label for action, t in machine.transitions.items()}
    state_labels = (states or {}) | machine.state_labels
    trail = events_of(obj)
    if latest is not None:
        trail = trail.order_by("-occurred_at", "-id")[:latest]
    events = sorted(trail, key=lambda e: (e.occurred_at, e.pk))
    for event in events:
        event.label = action_labels.get(event.action, event.action)
        event.from_label = state_labels.get(event.from_state, event.from_state)
        event.to_label = state_labels.get(event.to_state, event.to_state)
    return events
