"""Reads of users and roles, scoped to the viewer's authorities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizreg.accounts.models import User
from bizreg.accounts.roles import ROLE_BY_CODE, ROLES, Role
from bizreg.core.masking import mask_phone
from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for

USER_PAGE_SIZE = 25


def users_visible_to(viewer: User) -> QuerySet[User]:
    """Users who belong to at least one of the viewer's authorities (superusers see everyone)."""
    qs = User.objects.prefetch_related(
        Prefetch("groups"), Prefetch("authorities", queryset=Authority.objects.order_by("code"))
    )
    if viewer.is_superuser:
        return qs
    visible_ids = User.objects.filter(authorities__in=authority_ids_for(viewer)).values("pk")
    return qs.filter(pk__in=visible_ids)


def authorities_of(viewer: User) -> QuerySet[Authority]:
    if viewer.is_superuser:
        return Authority.objects.order_by("code")
    return Authority.objects.filter(pk__in=authority_ids_for(viewer)).order_by("code")


def user_search(*, viewer: User, filters: dict) -> QuerySet[User]:
    """The visible users matching the cleaned filter form's values, by username."""
    qs = users_visible_to(viewer)
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(display_name__icontains=q)
            | Q(employer__icontains=q)
            | Q(email__icontains=q)
        )
    role = filters.get("role")
    if role:
        qs = qs.filter(groups__name=ROLE_BY_CODE[role].name)
    authority = filters.get("authority")
    if authority:
        qs = qs.filter(authorities=authority)
    active = filters.get("active")
    if active in ("1", "0"):
        qs = qs.filter(is_active=active == "1")
    return qs.distinct().order_by("username")


def user_page(*, viewer: User, filters: dict, page: str | int | None = None) -> Page:
    return Paginator(user_search(viewer=viewer, filters=filters), USER_PAGE_SIZE).get_page(page)


def user_for(*, viewer: User, pk: int) -> User:
    """The user if visible to the viewer; 404 otherwise (other authorities' staff are not revealed)."""
    user = users_visible_to(viewer).filter(pk=pk).first()
    if user is None:
        raise Http404(_("没有找到该用户。"))
    return user


def roles_of(user: User) -> list[Role]:
    names = {g.name for g in user.groups.all()}
    return [role for role in ROLES if role.name in names]


def role_catalogue() -> list[Role]:
    return list(ROLES)


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    actor: str
    kind: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


_KINDS = {"+": gettext_lazy("创建"), "~": gettext_lazy("修改"), "-": gettext_lazy("删除")}
# Staff phone numbers are personal data: the history shows them masked like every list does.
_MASKED_FIELDS = {"phone": mask_phone}
_HIDDEN_FIELDS = {"date_joined"}


def _m2m_labels(field_name: str, rows: list[dict]) -> list[str]:
    if field_name == "groups":
        from django.contrib.auth.models import Group

        return sorted(Group.objects.filter(pk__in=[r["group"] for r in rows]).values_list("name", flat=True))
    if field_name == "authorities":
        return sorted(
            Authority.objects.filter(pk__in=[r["authority"] for r in rows]).values_list("name", flat=True)
        )
    return [str(r) for r in rows]


def _show(field_name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field_name in _MASKED_FIELDS:
        return _MASKED_FIELDS[field_name](value)
    return str(value)


def user_history(*, viewer: User, user: User, limit: int = 100) -> list[HistoryEntry]:
    """The user's audited changes, newest first, each with the fields that changed (old → new).

    `user` must come from user_for(viewer=...), which already checked the viewer may see it.
    """
    records = list(
        user.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    entries = []
    for index, record in enumerate(records[:limit]):
        older = records[index + 1] if index + 1 < len(records) else None
        changes: list[FieldChange] = []
        if older is not None:
            delta = record.diff_against(older)
            for change in delta.changes:
                if change.field in _HIDDEN_FIELDS:
                    continue
                label = _field_label(change.field)
                if change.field in ("groups", "authorities"):
                    old = "、".join(_m2m_labels(change.field, change.old)) or "—"
                    new = "、".join(_m2m_labels(change.field, change.new)) or "—"
                else:
                    old, new = _show(change.field, change.old), _show(change.field, change.new)
                changes.append(FieldChange(label=label, old=old, new=new))
            if not changes:
                continue  # a save that changed nothing audited
        entries.append(
            HistoryEntry(
                when=record.history_date,
                actor=str(record.history_user) if record.history_user else _("系统"),
                kind=str(_KINDS.get(record.history_type, record.history_type)),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def _field_label(name: str) -> str:
    if name == "groups":
        return _("角色")
    try:
        return str(User._meta.get_field(name).verbose_name)
    except Exception:
        return name
