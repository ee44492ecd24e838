"""Indicator pages: list/create/edit, the measurement page, the lint, the wiring of published metrics,
adjustments (request, list, decide) and the 自评表 on screen. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from bizreg.core.excel import safe_cell, workbook_response
from bizreg.core.money import yuan_to_wan
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.forms.indicators import (
    AdjustmentFilterForm,
    AdjustmentForm,
    DecisionForm,
    EvaluateForm,
    IndicatorForm,
    PeriodForm,
    decimal_or_none,
)
from bizreg.performance.models import ADJUSTMENT_WORKFLOW, AdjustmentStatus
from bizreg.performance.selectors import indicators as selectors
from bizreg.performance.services import indicators as services
from bizreg.performance.views.common import form_flow

VIEW_INDICATOR = "performance.view_indicator"
VIEW_ADJUSTMENT = "performance.view_indicatoradjustment"


def _num(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


# --- indicators ------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_INDICATOR, raise_exception=True)
@require_GET
def indicator_list(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    indicators = list(selectors.project_indicators(project))
    findings = services.lint_project(project)
    if request.GET.get("export") == "xlsx":
        return _indicator_export(project, indicators)
    return render(
        request,
        "performance/indicators_list.html",
        {
            "project": project,
            "indicators": indicators,
            "weights": services.weight_summary(project),
            "finding_count": sum(1 for f in findings if f.severity != "info"),
        },
    )


def _indicator_export(project, indicators) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("绩效指标")
    sheet.append(
        [
            "编号",
            "一级指标",
            "二级指标",
            "三级指标",
            "方向",
            "年度指标值",
            "原年度指标值",
            "分值",
            "原分值",
            "单位",
            "数据来源指标键",
            "数据来源说明",
        ]
    )
    for i in indicators:
        original = i.original_target_text if i.is_qualitative else _num(i.original_target_value)
        current = i.target_text if i.is_qualitative else _num(i.target_value)
        row = [
            i.code,
            i.get_level1_display(),
            i.get_level2_display(),
            i.name,
            i.get_direction_display(),
            current,
            original,
            _num(i.weight),
            _num(i.original_weight),
            i.unit,
            i.metric_key,
            i.data_source,
        ]
        sheet.append([safe_cell(v) for v in row])
    filename = f"绩效指标_{project.fiscal_year}_{project.code}_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx"
    return workbook_response(workbook, filename)


def _indicator_form_page(request, *, project, indicator=None):
    if indicator is None:
        form = IndicatorForm(request.POST or None, request.FILES or None)
    else:
        form = IndicatorForm(
            request.POST or None, request.FILES or None, initial=IndicatorForm.initial_from(indicator)
        )

    def save(data):
        evidence = data.get("evidence")
        if indicator is None:
            return services.indicator_create(
                project=project, actor=request.user, data=form.service_data(), evidence=evidence
            )
        return services.indicator_update(
            indicator=indicator, actor=request.user, data=form.service_data(), evidence=evidence
        )

    return form_flow(
        request,
        form,
        save=save,
        message=lambda saved: f"已保存绩效指标：{saved.code} {saved.name}",
        done=lambda saved: redirect("performance:indicator_detail", pk=saved.pk),
        page=lambda status: render(
            request,
            "performance/indicators_form.html",
            {"form": form, "project": project, "indicator": indicator},
            status=status,
        ),
    )


@login_required
@permission_required([VIEW_INDICATOR, "performance.add_indicator"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def indicator_create(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    return _indicator_form_page(request, project=project)


@login_required
@permission_required([VIEW_INDICATOR, "performance.change_indicator"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def indicator_edit(request, pk: int):
    indicator = selectors.indicator_for(request.user, pk)
    return _indicator_form_page(request, project=indicator.project, indicator=indicator)


@login_required
@permission_required(VIEW_INDICATOR, raise_exception=True)
@require_GET
def indicator_detail(request, pk: int):
    indicator = selectors.indicator_for(request.user, pk)
    form = PeriodForm(request.GET or None, project=indicator.project, today=timezone.localdate())
    start, end = form.bounds()
    measurement = selectors.measure(indicator, start, end, viewer=request.user)
    annual = selectors.measure(indicator, *selectors.year_bounds(indicator.project), viewer=request.user)
    return render(
        request,
        "performance/indicators_detail.html",
        {
            "indicator": indicator,
            "project": indicator.project,
            "form": form,
            "measurement": measurement,
            "score": selectors.score_for(indicator, annual.actual),
            "annual": annual,
            "snapshots": selectors.snapshot_rows(indicator, viewer=request.user),
            "adjustments": selectors.indicator_adjustments(indicator),
            "findings": services.lint_indicator(indicator),
            "open_adjustment": indicator.adjustments.filter(status=AdjustmentStatus.REQUESTED).first(),
        },
    )


@login_required
@permission_required([VIEW_INDICATOR, "performance.evaluate_indicator"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def indicator_evaluate(request, pk: int):
    indicator = selectors.indicator_for(request.user, pk)
    initial = {
        "tier": indicator.qualitative_tier,
        "percent": indicator.qualitative_percent,
        "reason": indicator.evaluation_reason,
        "deviation_note": indicator.deviation_note,
    }
    form = EvaluateForm(request.POST or None, indicator=indicator, initial=initial)
    return form_flow(
        request,
        form,
        save=lambda data: services.evaluate_indicator(indicator=indicator, actor=request.user, **data),
        message="已保存评价。",
        done=lambda _: redirect("performance:evaluation", project_pk=indicator.project_id),
        page=lambda status: render(
            request,
            "performance/indicators_evaluate.html",
            {"form": form, "indicator": indicator, "project": indicator.project},
            status=status,
        ),
    )


@login_required
@permission_required(VIEW_INDICATOR, raise_exception=True)
@require_GET
def lint(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    findings = sorted(services.lint_project(project), key=lambda f: services.SEVERITY_ORDER[f.severity])
    return render(
        request,
        "performance/indicators_lint.html",
        {"project": project, "findings": findings, "weights": services.weight_summary(project)},
    )


@login_required
@permission_required([VIEW_INDICATOR, "performance.change_indicator"], raise_exception=True)
@require_POST
def wire_metrics(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    try:
        wired = services.wire_published_metrics(project=project, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if wired:
            names = "、".join(f"{i.code} {i.name}（{i.metric_key}）" for i in wired)
            messages.success(request, f"已关联 {len(wired)} 个指标：{names}")
        else:
            messages.info(request, "没有可关联的已发布指标，其余指标继续按手工填报计量。")
    return redirect(request.POST.get("next") or reverse("performance:indicator_list", args=[project.pk]))


# --- adjustments -----------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_ADJUSTMENT, raise_exception=True)
@require_GET
def adjustment_list(request):
    projects = selectors.projects_for(request.user)
    form = AdjustmentFilterForm(request.GET or None, projects=projects)
    filters = form.cleaned_data if form.is_valid() else {}
    if not request.GET and request.user.has_perm("performance.approve_adjustment"):
        # The manager's default view is the queue waiting for them.
        filters = {"status": AdjustmentStatus.REQUESTED}
        form = AdjustmentFilterForm(initial=filters, projects=projects)
    if request.GET.get("export") == "xlsx":
        return _adjustment_export(selectors.adjustment_search(user=request.user, filters=filters))
    page = selectors.adjustment_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "performance/indicators_adjustment_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "export_query": query.urlencode() + ("&" if query else "") + "export=xlsx",
            "can_approve": request.user.has_perm("performance.approve_adjustment"),
        },
    )


def _adjustment_export(queryset) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("指标调整申请")
    sheet.append(
        [
            "项目",
            "指标",
            "原年度指标值",
            "调整后年度指标值",
            "原分值",
            "调整后分值",
            "分值调出/调入指标",
            "理由",
            "状态",
            "申请人",
            "申请时间",
            "审批人",
            "审批时间",
            "审批意见",
        ]
    )
    for a in queryset:
        row = [
            str(a.indicator.project),
            f"{a.indicator.code} {a.indicator.name}",
            a.old_target_text or _num(a.old_target_value),
            a.new_target_text or _num(a.new_target_value),
            _num(a.old_weight),
            _num(a.new_weight),
            str(a.counterpart or ""),
            a.reason,
            a.get_status_display(),
            str(a.requested_by),
            f"{timezone.localtime(a.created_at):%Y-%m-%d %H:%M}",
            str(a.decided_by or ""),
            f"{timezone.localtime(a.decided_at):%Y-%m-%d %H:%M}" if a.decided_at else "",
            a.decision_reason,
        ]
        sheet.append([safe_cell(v) for v in row])
    filename = f"指标调整申请_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx"
    return workbook_response(workbook, filename)


@login_required
@permission_required([VIEW_INDICATOR, "performance.add_indicatoradjustment"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def adjustment_create(request, pk: int):
    """The request form; the cockpit links here with ?target=&weight=&reason=&suggested=1 to prefill it."""
    indicator = selectors.indicator_for(request.user, pk)
    initial = {}
    if request.method == "GET":
        target = request.GET.get("target", "")
        if indicator.is_qualitative:
            initial["new_target_text"] = target[:50]
        else:
            initial["new_target_value"] = decimal_or_none(target)
        initial["new_weight"] = decimal_or_none(request.GET.get("weight")) or indicator.weight
        initial["reason"] = request.GET.get("reason", "")[:2000]
        initial["suggested_by_monitoring"] = request.GET.get("suggested") == "1"
    form = AdjustmentForm(request.POST or None, indicator=indicator, initial=initial)
    return form_flow(
        request,
        form,
        save=lambda _: services.request_adjustment(
            indicator=indicator, actor=request.user, **form.service_kwargs()
        ),
        message="已提交指标调整申请，待科室负责人审批。",
        done=lambda _: redirect("performance:indicator_detail", pk=indicator.pk),
        page=lambda status: render(
            request,
            "performance/indicators_adjustment_form.html",
            {"form": form, "indicator": indicator, "project": indicator.project},
            status=status,
        ),
    )


@login_required
@permission_required(VIEW_ADJUSTMENT, raise_exception=True)
@require_POST
def adjustment_decide(request, pk: int):
    adjustment = selectors.adjustment_for(request.user, pk)
    form = DecisionForm(request.POST)
    back = request.POST.get("next") or reverse("performance:adjustment_list")
    if not form.is_valid():
        return HttpResponse(
            "请选择操作（批准、驳回或撤回）。", status=400, content_type="text/plain; charset=utf-8"
        )
    action = form.cleaned_data["action"]
    try:
        services.decide_adjustment(
            adjustment=adjustment, action=action, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except PermissionDenied:
        raise
    except TransitionNotAllowed as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(back)
    label = ADJUSTMENT_WORKFLOW.transition(action).label
    messages.success(request, f"已{label}：{adjustment.indicator.code} {adjustment.indicator.name}")
    return redirect(back)


# --- the 自评表 ------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_INDICATOR, raise_exception=True)
@require_GET
def evaluation(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    table = selectors.evaluation_table(project, viewer=request.user)
    budget = table["evaluation"].budget
    funds = {
        "initial": yuan_to_wan(project.initial_budget),
        "adjusted": yuan_to_wan(budget.adjusted_budget),
        "executed": yuan_to_wan(budget.executed),
    }
    context = {"project": project, "funds": funds, **table}
    return render(request, "performance/indicators_evaluation.html", context)


urlpatterns: list = [
    path("projects/<int:project_pk>/indicators/", indicator_list, name="indicator_list"),
    path("projects/<int:project_pk>/indicators/new/", indicator_create, name="indicator_create"),
    path("projects/<int:project_pk>/indicators/lint/", lint, name="lint"),
    path("projects/<int:project_pk>/indicators/wire/", wire_metrics, name="wire_metrics"),
    path("projects/<int:project_pk>/evaluation/", evaluation, name="evaluation"),
    path("indicators/<int:pk>/", indicator_detail, name="indicator_detail"),
    path("indicators/<int:pk>/edit/", indicator_edit, name="indicator_edit"),
    path("indicators/<int:pk>/evaluate/", indicator_evaluate, name="indicator_evaluate"),
    path("indicators/<int:pk>/adjust/", adjustment_create, name="adjustment_create"),
    path("adjustments/", adjustment_list, name="adjustment_list"),
    path("adjustments/<int:pk>/decide/", adjustment_decide, name="adjustment_decide"),
]
