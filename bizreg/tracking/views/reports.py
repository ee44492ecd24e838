"""Periodic tracking report pages: the list (by period type and year), the generate form, one report's
figures as tables with the download links, and the downloads (PDF, .docx)."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from bizreg.core.scoping import default_authority_for
from bizreg.tracking.forms.reports import ReportFilterForm, ReportGenerateForm
from bizreg.tracking.models import ReportPeriod
from bizreg.tracking.reporting.document import CONTENT_TYPES, FORMATS
from bizreg.tracking.selectors import reports as selectors
from bizreg.tracking.services import reports as services

PAGE_SIZE = 30


def report_page(view):
    """Login, then holders of tracking.view_trackingreport (officers, managers) only: 403 for other roles."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(selectors.VIEW):
            raise PermissionDenied("跟踪服务报告仅限企业服务专员和科室负责人查看。")
        return view(request, *args, **kwargs)

    return wrapped


@report_page
@require_GET
def report_list(request):
    form = ReportFilterForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    reports = selectors.report_listing(user=request.user, params=params)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tracking/report_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "may_generate": request.user.has_perm(services.GENERATE),
        },
    )


def _last_month_start() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@report_page
@require_http_methods(["GET", "POST"])
def report_generate(request):
    if not request.user.has_perm(services.GENERATE):
        raise PermissionDenied("您的角色无权生成跟踪服务报告。")
    initial = {"period": ReportPeriod.MONTH, "period_start": _last_month_start()}
    form = ReportGenerateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        authority = default_authority_for(request.user)
        if authority is None:
            raise PermissionDenied("您的账号未关联登记机关。")
        try:
            report = services.report_generate(
                authority=authority,
                period=form.cleaned_data["period"],
                period_start=form.cleaned_data["period_start"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已生成报告 {report.number}。")
            return redirect("tracking:report_detail", pk=report.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "tracking/report_generate.html", {"form": form}, status=status)


@report_page
@require_GET
def report_detail(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    content = report.content
    figures = content.get("figures", {})
    versions = selectors.reports_visible_to(request.user).filter(
        authority_id=report.authority_id, period=report.period, period_start=report.period_start
    )
    return render(
        request,
        "tracking/report_detail.html",
        {
            "report": report,
            "content": content,
            "visits": figures.get("visits", {}),
            "appeals": figures.get("appeals", {}),
            "migration": figures.get("migration", {}),
            "watch": figures.get("watch", {}),
            "issues": figures.get("issues", {}),
            "versions": versions.defer("content").order_by("-generated_at", "-id"),
        },
    )


@report_page
@require_GET
def report_download(request, pk: int, fmt: str):
    if fmt not in FORMATS:
        raise Http404("没有该格式。")
    report = selectors.report_for(user=request.user, pk=pk)
    data = services.report_render(report, fmt)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, services.report_filename(report, fmt))
    return response


urlpatterns = [
    path("reports/", report_list, name="report_list"),
    path("reports/generate/", report_generate, name="report_generate"),
    path("reports/<int:pk>/", report_detail, name="report_detail"),
    path("reports/<int:pk>/download/<str:fmt>/", report_download, name="report_download"),
]
