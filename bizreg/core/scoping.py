"""Tenancy: which registration authorities a user may see. Every selector filters through here."""

from __future__ import annotations

from django.db.models import QuerySet


def authority_ids_for(user) -> list[int]:
    """Ids of the authorities whose records the user may see; superusers see all."""
    from bizreg.core.models import Authority

    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return list(Authority.objects.values_list("id", flat=True))
    return [authority.pk for authority in _own_authorities(user)]


def _own_authorities(user) -> list:
    """The user's authorities (by code), read once per request's user object."""
    cached = getattr(user, "_authorities_cache", None)
    if cached is None:
        cached = user._authorities_cache = list(user.authorities.all())
    return cached


def scope_to_user(queryset: QuerySet, user, field: str = "authority") -> QuerySet:
    """Restrict a queryset of authority-scoped rows to the user's authorities."""
    if getattr(user, "is_superuser", False):
        return queryset
    return queryset.filter(**{f"{field}__in": authority_ids_for(user)})


def default_authority_for(user):
    """The authority a new record of this user belongs to when the user has exactly one (the usual case)."""
    from bizreg.core.models import Authority

    if getattr(user, "is_authenticated", False) and not user.is_superuser:
        own = _own_authorities(user)
        if own:
            return own[0]
    return Authority.objects.order_by("id").first()
