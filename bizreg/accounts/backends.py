"""Permissions of a signed-in user in one query.

Django's ModelBackend reads a user's own permissions and their groups' permissions in two queries, on every
request that checks one. PermissionBackend, listed before it, reads both in one UNION and fills the same
per-request caches (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache`), so ModelBackend — still the
backend that signs people in, and the one their sessions name — answers from them without a query.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import CharField, Value


class PermissionBackend(ModelBackend):
    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs):
        return None  # ModelBackend checks passwords (once); this backend only answers permission checks

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            own, grouped = _permissions_of(user_obj)
            user_obj._user_perm_cache = own
            user_obj._group_perm_cache = grouped
            user_obj._perm_cache = own | grouped
        return user_obj._perm_cache


def _permissions_of(user: Any) -> tuple[set[str], set[str]]:
    """(own permissions, permissions through groups) as "app_label.codename", as ModelBackend reads them."""
    if user.is_superuser:
        every = {
            f"{app}.{codename}"
            for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
        }
        return every, set(every)

    def rows(source: str, **where: Any):
        return (
            Permission.objects.filter(**where)
            .annotate(source=Value(source, output_field=CharField()))
            .values_list("source", "content_type__app_label", "codename")
            .order_by()
        )

    own: set[str] = set()
    grouped: set[str] = set()
    for source, app, codename in rows("user", user=user).union(rows("group", group__user=user), all=True):
        (own if source == "user" else grouped).add(f"{app}.{codename}")
    return own, grouped
