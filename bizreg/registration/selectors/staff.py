"""Whom the registration lists offer in their staff filters (收件人, 工作人员, 负责人)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import Group
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery

from bizreg.core.scoping import authority_ids_for


def staff_doing(user, *, permission: str, did: Sequence[tuple[type[Model], str, str]]) -> QuerySet:
    """Active staff of the user's authorities who do a kind of work, by name: those whose role holds
    `permission` ("app_label.codename"), and anyone named in a `did` row ((model, user field, date field),
    the model having an `authority`) of those authorities — one who changed role stays findable. Not the
    whole authority: the archivist, the hotline agent and the administrator do not receive cases.

    One lazy query. "Named in a row" is each user's latest row by the date field (LIMIT 1), which an index
    (authority, user field, date) answers at once. Written as a join, each user came back once per
    permission of the user's roles and the test ran per repeat (17 s on the demo year in SQLite); written
    as EXISTS, PostgreSQL expects every user to have rows and scans the table for each who has none."""
    from bizreg.accounts.selectors import users_visible_to

    app_label, codename = permission.split(".", 1)
    ids = authority_ids_for(user)
    doing = Q(
        Exists(
            Group.objects.filter(
                user=OuterRef("pk"),
                permissions__codename=codename,
                permissions__content_type__app_label=app_label,
            )
        )
    )
    qs = users_visible_to(user).prefetch_related(None).filter(is_active=True)
    for n, (model, field, date_field) in enumerate(did):
        latest = (
            model.objects.filter(authority_id__in=ids, **{field: OuterRef("pk")})
            .order_by(f"-{date_field}")
            .values(date_field)[:1]
        )
        qs = qs.annotate(**{f"_did_{n}": Subquery(latest)})
        doing |= Q(**{f"_did_{n}__isnull": False})
    return qs.filter(doing).order_by("display_name", "username")
