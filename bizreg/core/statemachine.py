"""State machines declared once per model and enforced in its service.

A model lists its transitions (`action`, allowed source states, target state, permission) in one
`StateMachine`. The service asks the machine before changing anything: a wrong state raises
TransitionNotAllowed (HTTP 409), a missing permission raises PermissionDenied (HTTP 403), each with a
Chinese message that names the reason. Views and the API map these two exceptions to responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


class TransitionNotAllowed(Exception):
    """The action is not allowed from the object's current state (HTTP 409)."""


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str
    permission: str | None


class StateMachine:
    def __init__(self, *, state_labels: dict[str, str], transitions: Iterable[Transition]) -> None:
        self.state_labels = state_labels
        self.transitions = {t.action: t for t in transitions}
        for t in self.transitions.values():
            unknown = (set(t.sources) | {t.target}) - set(state_labels)
            if unknown:
                raise ValueError(f"transition {t.action} names unknown states {unknown}")

    def transition(self, action: str) -> Transition:
        try:
            return self.transitions[action]
        except KeyError:
            raise TransitionNotAllowed(f"未知的操作：{action}") from None

    def check(self, *, state: str, action: str, user) -> Transition:
        """Return the transition if `user` may do `action` from `state`, else raise with the reason."""
        t = self.transition(action)
        if state not in t.sources:
            allowed = "、".join(self.state_labels[s] for s in sorted(t.sources))
            raise TransitionNotAllowed(
                f"当前状态为“{self.state_labels.get(state, state)}”，不能执行“{t.label}”（仅限：{allowed}）。"
            )
        if t.permission and not user.has_perm(t.permission):
            raise PermissionDenied(f"您的角色无权执行“{t.label}”。")
        return t

    def available(self, *, state: str, user) -> list[Transition]:
        """The actions `user` may take now, for showing buttons."""
        return [
            t
            for t in self.transitions.values()
            if state in t.sources and (not t.permission or user.has_perm(t.permission))
        ]


def transition(
    action: str, label: str, sources: Iterable[str], target: str, permission: str | None
) -> Transition:
    return Transition(
        action=action, label=label, sources=frozenset(sources), target=target, permission=permission
    )
