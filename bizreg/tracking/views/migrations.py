"""Tracking pages: the migration analysis (charts and tables for a period), the migration list (filters,
Excel export) and the move-out watch list with its clear form.

Who: the enterprise-service officer and the manager (tracking.view_migration / view_watchentry); clearing
an entry needs tracking.change_watchentry (the officer). Everyone else gets 403; an entry of another
authority answers 404.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bizreg.core.excel import xlsx_response
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.views import conflict
from bizreg.enterprises.models import EntityType, IndustrySection
from bizreg.tracking.forms.migrations import (
    MigrationFilterForm,
    MigrationListFilterForm,
    WatchClearForm,
    WatchFilterForm,
)
from bizreg.tracking.models import WatchRule, WatchState
from bizreg.tracking.selectors import migrations as selectors
from bizreg.tracking.selectors import watchlist as watch_selectors
from bizreg.tracking.services import watchlist as watch_services

PAGE_SIZE = 50
VIEW_MIGRATION = "tracking.view_migration"
VIEW_WATCH = "tracking.view_watchentry"
CHANGE_WATCH = "tracking.change_watchentry"


def _requires(permission: str, message: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


migration_page = _requires(VIEW_MIGRATION, "企业迁移分析仅限企业服务专员和科室负责人查看。")
watch_page = _requires(VIEW_WATCH, "迁出预警名单仅限企业服务专员和科室负责人查看。")


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in ("page", "export", *names):
        query.pop(name, None)
    return query.urlencode()


# --- migrations ---------------------------------------------------------------------------------------


@migration_page
@require_GET
def migration_analysis(request):
    form = MigrationFilterForm(request.GET)
    analysis, list_query = None, ""
    if form.is_valid():
        analysis = selectors.migration_analysis(user=request.user, filters=form.filters())
        # The list covers every period unless told: name the analysed one explicitly.
        query = request.GET.copy()
        query["period"], query["year"] = form.cleaned_data["period"], form.cleaned_data["year"]
        list_query = query.urlencode()
    return render(
        request,
        "tracking/migration_analysis.html",
        {
            "form": form,
            "analysis": analysis,
            "chart_data": analysis.chart_data() if analysis else {},
            "period_label": form.period_label() if analysis else "",
            "list_query": list_query,
        },
        status=200 if analysis else 400,
    )


@migration_page
@require_GET
def migration_list(request):
    form = MigrationListFilterForm(request.GET)
    if form.is_valid():
        migrations = selectors.migration_listing(user=request.user, filters=form.filters())
    else:
        migrations = selectors.migration_listing(
            user=request.user, filters=selectors.MigrationFilters()
        ).none()
    if request.GET.get("export") == "xlsx" and form.is_valid():
        return _export(migrations)
    page = Paginator(migrations, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(_with_labels(page.object_list))
    return render(
        request,
        "tracking/migration_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without(request),
            "regions": selectors.region_choices(user=request.user),
            "period_label": form.period_label() if form.is_valid() else "",
        },
        status=200 if form.is_valid() else 400,
    )


def _export(migrations):
    rows = (
        (
            m.case_number,
            m.get_direction_display(),
            m.moved_on,
            m.enterprise_name,
            m.uscc,
            m.industry_label,
            m.entity_type_label,
            m.registered_capital,
            m.counterpart_authority,
            m.counterpart_region,
            m.get_reason_display() if m.direction == "out" else "",
        )
        for m in _with_labels(migrations.iterator(chunk_size=2000))
    )
    return xlsx_response(
        title="企业迁移",
        headers=[
            "登记业务编号",
            "方向",
            "迁移日期",
            "企业名称",
            "统一社会信用代码",
            "行业门类",
            "主体类型",
            "注册资本（万元）",
            "迁出地/迁入地登记机关",
            "区域",
            "迁出原因",
        ],
        rows=rows,
        filename=f"企业迁移_{timezone.localdate():%Y%m%d}.xlsx",
    )


def _with_labels(migrations):
    """Migration keeps the register's codes without choices (they are the register's): name them."""
    types, industries = dict(EntityType.choices), dict(IndustrySection.choices)
    for m in migrations:
        m.entity_type_label = types.get(m.entity_type, m.entity_type or "未知")
        m.industry_label = industries.get(m.industry, m.industry or "未知")
        yield m


# --- watch list ---------------------------------------------------------------------------------------


@watch_page
@require_GET
def watch_list(request):
    form = WatchFilterForm(request.GET)
    params = form.cleaned_data if form.is_valid() else {}
    entries = watch_selectors.watch_listing(
        user=request.user, rule=params.get("rule", ""), state=params.get("state", ""), q=params.get("q", "")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = watch_selectors.watch_counts(user=request.user)
    return render(
        request,
        "tracking/watch_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without(request),
            "rule_counts": [(rule, label, counts.get(rule, 0)) for rule, label in WatchRule.choices],
            "may_clear": request.user.has_perm(CHANGE_WATCH),
            "watching": WatchState.WATCHING,
        },
    )


@watch_page
@require_http_methods(["GET", "POST"])
def watch_clear(request, pk: int):
    entry = watch_selectors.watch_entry_for(user=request.user, pk=pk)
    if not request.user.has_perm(CHANGE_WATCH):
        raise PermissionDenied("您的角色无权解除迁出预警。")
    back = reverse("tracking:watch_list")
    form = WatchClearForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            watch_services.watch_clear(entry=entry, actor=request.user, reason=form.cleaned_data["reason"])
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已解除对 {entry.enterprise.name} 的迁出预警。")
            return redirect(back)
    if entry.state != WatchState.WATCHING and request.method == "GET":
        return conflict(request, f"该预警的状态为“{entry.get_state_display()}”，不能解除。", back)
    status = 400 if request.method == "POST" else 200
    return render(request, "tracking/watch_clear.html", {"entry": entry, "form": form}, status=status)


urlpatterns = [
    path("migrations/", migration_analysis, name="migration_analysis"),
    path("migrations/list/", migration_list, name="migration_list"),
    path("watch/", watch_list, name="watch_list"),
    path("watch/<int:pk>/clear/", watch_clear, name="watch_clear"),
]
