"""Whom the registration lists offer in their staff filters (收件人, 工作人员, 负责人)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from bizreg.core.scoping import authority_ids_for


def staff_doing(user, *, permission: str, did: Sequence[tuple[type[Model], str]]) -> QuerySet:
    """Active staff of the user's authorities who do a kind of work, by name: those whose role holds
    `permission` ("app_label.codename"), and anyone named in a `did` row ((model, user field), the model
    having an `authority`) of those authorities — one who changed role stays findable. Not the whole
    authority: the archivist, the hotline agent and the administrator do not receive cases."""
    from bizreg.accounts.selectors import users_visible_to

    app_label, codename = permission.split(".", 1)
    ids = authority_ids_for(user)
    doing = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    for model, field in did:
        doing |= Exists(model.objects.filter(authority_id__in=ids, **{field: OuterRef("pk")}))
    return (
        users_visible_to(user)
        .prefetch_related(None)
        .filter(is_active=True)
        .filter(doing)
        .distinct()
        .order_by("display_name", "username")
    )
