"""Whom the registration lists offer in their staff filters (收件人, 工作人员, 负责人)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import Group
from django.db.models import Exists, Model, OuterRef, QuerySet

from bizreg.core.scoping import authority_ids_for


def staff_doing(user, *, permission: str, did: Sequence[tuple[type[Model], str]]) -> QuerySet:
    """Active staff of the user's authorities who do a kind of work, by name: those whose role holds
    `permission` ("app_label.codename"), and anyone named in a `did` row ((model, user field), the model
    having an `authority`) of those authorities — one who changed role stays findable. Not the whole
    authority: the archivist, the hotline agent and the administrator do not receive cases.

    Each test is an EXISTS per user, not a join: joined, every user row was repeated once per permission
    of the user's roles, and the `did` test ran again for each repeat (17 s on the demo year in SQLite)."""
    from bizreg.accounts.selectors import users_visible_to

    app_label, codename = permission.split(".", 1)
    ids = authority_ids_for(user)
    holds_permission = Exists(
        Group.objects.filter(
            user=OuterRef("pk"),
            permissions__codename=codename,
            permissions__content_type__app_label=app_label,
        )
    )
    doing = holds_permission
    for model, field in did:
        doing |= Exists(model.objects.filter(authority_id__in=ids, **{field: OuterRef("pk")}))
    return (
        users_visible_to(user)
        .prefetch_related(None)
        .filter(is_active=True)
        .filter(doing)
        .order_by("display_name", "username")
    )
