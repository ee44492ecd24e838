"""Whom the registration lists offer in their staff filters (收件人, 工作人员, 负责人)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import Group
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from bizreg.core.scoping import authority_ids_for


def staff_doing(user, *, permission: str, did: Sequence[tuple[type[Model], str]]) -> QuerySet:
    """Active staff of the user's authorities who do a kind of work, by name: those whose role holds
    `permission` ("app_label.codename"), and anyone named in a `did` row ((model, user field), the model
    having an `authority`) of those authorities — one who changed role stays findable. Not the whole
    authority: the archivist, the hotline agent and the administrator do not receive cases.

    The `did` rows are looked up once, for the colleagues without the permission, by their ids. A join
    repeated each user once per permission of the user's roles (17 s on the demo year in SQLite); a
    correlated EXISTS per user made PostgreSQL read the whole case table for each colleague who never
    received a case, since it expects most users to have received some."""
    from bizreg.accounts.selectors import users_visible_to

    app_label, codename = permission.split(".", 1)
    ids = authority_ids_for(user)
    colleagues = users_visible_to(user).prefetch_related(None).filter(is_active=True)
    holds_permission = Exists(
        Group.objects.filter(
            user=OuterRef("pk"),
            permissions__codename=codename,
            permissions__content_type__app_label=app_label,
        )
    )
    without_permission = list(colleagues.filter(~holds_permission).values_list("pk", flat=True))
    did_the_work: set[int] = set()
    for model, field in did:
        if without_permission:
            did_the_work.update(
                model.objects.filter(authority_id__in=ids, **{f"{field}__in": without_permission})
                .order_by()
                .values_list(field, flat=True)
                .distinct()
            )
    return colleagues.filter(holds_permission | Q(pk__in=did_the_work)).order_by("display_name", "username")
