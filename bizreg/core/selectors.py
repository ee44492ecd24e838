"""Reads owned by core, scoped by the user's authorities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizreg.core.dates import on_local_days
from bizreg.core.models import AccessLog, BackgroundJob
from bizreg.core.scoping import authority_ids_for, scope_to_user

ACCESS_LOG_PAGE_SIZE = 50


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int
    note: str = ""
    url: str = ""


def home_figures(*, user) -> list[Figure]:
    """The figures of the home page, each computed from real records by the app that owns them."""
    from bizreg.accounts import selectors as account_selectors
    from bizreg.enterprises import selectors as enterprise_selectors

    figures: list[Figure] = []
    if user.has_perm("enterprises.view_enterprise"):
        for row in enterprise_selectors.home_figures(user=user):
            figures.append(
                Figure(
                    key=row["key"],
                    label=row["label"],
                    value=row["value"],
                    note=row.get("note", ""),
                    url=row.get("url", ""),
                )
            )
    if user.has_perm("registration.review_case") or user.has_perm("registration.approve_extension"):
        # The statutory-clock warnings of those who handle cases or approve extensions.
        from bizreg.registration.selectors import cases as case_selectors

        for row in case_selectors.home_figures(user=user):
            figures.append(Figure(key=row["key"], label=row["label"], value=row["value"], url=row["url"]))
    if user.has_perm("registration.print_licence") or user.has_perm("registration.manage_licence_stock"):
        # Blank licence sheets left, with the reorder warning, for those who print or restock them.
        from bizreg.registration.selectors import licences as licence_selectors

        for row in licence_selectors.home_figures(user=user):
            figures.append(Figure(**row))
    if user.has_perm("accounts.view_user"):
        active_users = account_selectors.users_visible_to(user).filter(is_active=True).count()
        figures.append(Figure(key="users_active", label=_("在岗用户"), value=active_users))
    if user.has_perm("core.view_accesslog"):
        since = timezone.now() - dt.timedelta(days=30)
        count = scope_to_user(AccessLog.objects.filter(occurred_at__gte=since), user).count()
        figures.append(
            Figure(key="access_log_30d", label=_("近 30 天个人信息访问"), value=count, note=_("次"))
        )
    return figures


def established_chart(*, user) -> list[dict] | None:
    """Enterprises established per year for the home chart, or None when the user may not see them."""
    if not user.has_perm("enterprises.view_enterprise"):
        return None
    from bizreg.enterprises import stats

    return stats.established_per_year(user=user)


def entity_type_chart(*, user) -> list[dict] | None:
    if not user.has_perm("enterprises.view_enterprise"):
        return None
    from bizreg.enterprises import stats

    return stats.count_by_entity_type(user=user)


@dataclass(frozen=True)
class RecentAction:
    when: dt.datetime
    verb: str
    model_label: str
    object_label: str


_HISTORY_VERBS = {"+": gettext_lazy("新增"), "~": gettext_lazy("修改"), "-": gettext_lazy("删除")}


def _history_models() -> list:
    """Every django-simple-history model that records who made the change."""
    return [
        model
        for model in apps.get_models()
        if getattr(model, "instance_type", None) is not None
        and any(f.name == "history_user" for f in model._meta.fields)
    ]


def recent_actions(*, user, limit: int = 8) -> list[RecentAction]:
    """The user's own latest changes to any audited record, newest first.

    One UNION query over the history tables finds the latest rows, then only those rows are loaded, so
    the cost does not grow with the number of audited models.
    """
    models = {model._meta.label_lower: model for model in _history_models()}
    if not models:
        return []
    parts = [
        model.objects.filter(history_user=user)
        .annotate(_history_model_label=Value(label, output_field=CharField()))
        .values_list("history_id", "history_date", "_history_model_label")
        .order_by()
        for label, model in sorted(models.items())
    ]
    latest = parts[0].union(*parts[1:], all=True).order_by("-history_date")[:limit]
    actions = []
    for history_id, _when, source in latest:
        record = models[source].objects.filter(history_id=history_id).first()
        if record is None:
            continue
        try:
            label = str(record.instance)[:80]
        except Exception:  # a __str__ that follows a since-deleted relation must not break the home page
            label = f"#{record.instance.pk}"
        actions.append(
            RecentAction(
                when=record.history_date,
                verb=str(_HISTORY_VERBS.get(record.history_type, record.history_type)),
                model_label=str(record.instance_type._meta.verbose_name),
                object_label=label,
            )
        )
    return actions


def jobs_visible_to(user) -> QuerySet[BackgroundJob]:
    """Jobs of the user's authorities that the user submitted, or any of them for those who oversee jobs."""
    qs = BackgroundJob.objects.select_related("created_by", "authority")
    if user.is_superuser:
        return qs
    qs = qs.filter(authority__in=authority_ids_for(user))
    if user.has_perm("core.view_backgroundjob"):
        return qs
    return qs.filter(created_by=user)


def job_for(*, user, pk: int) -> BackgroundJob:
    """The job if the user may see it; 404 otherwise, so a job's existence is not revealed."""
    job = jobs_visible_to(user).filter(pk=pk).first()
    if job is None:
        raise Http404(_("没有找到该后台任务。"))
    return job


def recent_jobs(*, user, limit: int = 5) -> list[BackgroundJob]:
    from bizreg.core import jobs

    recent = list(jobs_visible_to(user).filter(created_by=user).order_by("-created_at")[:limit])
    for job in recent:
        job.kind_label = jobs.kind_label(job.kind)
    return recent


def access_log_page(*, user, filters: dict, page: str | int | None = None) -> Page:
    """Access-log rows of the user's authorities, filtered by the cleaned filter form's values."""
    qs = scope_to_user(AccessLog.objects.select_related("user", "authority"), user)
    if filters.get("user"):
        term = filters["user"]
        qs = qs.filter(Q(user__username__icontains=term) | Q(user__display_name__icontains=term))
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("object"):
        term = filters["object"]
        qs = qs.filter(Q(object_label__icontains=term) | Q(object_id=term))
    qs = qs.filter(on_local_days("occurred_at", filters.get("date_from"), filters.get("date_to")))
    return Paginator(qs.order_by("-occurred_at", "-id"), ACCESS_LOG_PAGE_SIZE).get_page(page)


def portal_authority(code: str | None = None):
    """The authority a public page serves: ?authority=<code>, else settings.DEFAULT_AUTHORITY_CODE, else the
    first active one. An unknown code is None (the page answers 404), never another authority by accident."""
    from django.conf import settings

    from bizreg.core.models import Authority

    authorities = Authority.objects.filter(is_active=True)
    if code:
        return authorities.filter(code=code).first()
    default = getattr(settings, "DEFAULT_AUTHORITY_CODE", "")
    authority = authorities.filter(code=default).first() if default else None
    return authority or authorities.order_by("code").first()
