"""Budget pages: projects, lines, components, contracts with their payment schedule, payments, the Excel
budget sheet import and the budget/execution export. Thin: parse, call the service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from bizreg.core.excel import safe_cell, workbook_response
from bizreg.core.money import yuan_to_wan
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.forms.budget import (
    BudgetImportForm,
    ComponentForm,
    ContractForm,
    LineForm,
    MilestoneForm,
    PaymentFilterForm,
    PaymentForm,
    ProjectFilterForm,
    ProjectForm,
    TransitionForm,
)
from bizreg.performance.models import (
    PROJECT_WORKFLOW,
    PaymentMilestone,
    PerformanceTransitionLog,
    ProjectStatus,
)
from bizreg.performance.selectors import budget as selectors
from bizreg.performance.services import budget as services
from bizreg.performance.views.common import form_flow


def _authority_of(user):
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied("您的账号未分配登记机关，不能编制预算项目。")
    return default_authority_for(user)


def _form_page(request, *, form, title, project=None, back=None, multipart=False, status=200, note=""):
    return render(
        request,
        "performance/budget_form.html",
        {
            "form": form,
            "title": title,
            "project": project,
            "back": back,
            "multipart": multipart,
            "note": note,
        },
        status=status,
    )


def _form_flow(
    request, form, *, save, message, done, title, project=None, back=None, multipart=False, note=""
):
    """``form_flow`` on the budget form page; ``title`` is a text or a callable rendered after the save."""
    return form_flow(
        request,
        form,
        save=save,
        message=message,
        done=done,
        page=lambda status: _form_page(
            request,
            form=form,
            title=title() if callable(title) else title,
            project=project,
            back=back,
            multipart=multipart,
            status=status,
            note=note,
        ),
    )


# --- projects -------------------------------------------------------------------------------------------


@login_required
@permission_required("performance.view_project", raise_exception=True)
@require_GET
def project_list(request):
    form = ProjectFilterForm(request.GET or None, years=selectors.project_years(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.project_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "performance/budget_project_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
@permission_required("performance.view_project", raise_exception=True)
@require_GET
def project_detail(request, pk: int):
    project = selectors.project_for(request.user, pk)
    execution = selectors.project_execution(project)
    return render(
        request,
        "performance/budget_project_detail.html",
        {
            "project": project,
            "execution": execution,
            "contracts": selectors.project_contracts(project),
            "components": selectors.project_components(project),
            "recent_payments": selectors.project_payments(project)[:10],
            "payment_count": selectors.project_payments(project).count(),
            "transitions": PROJECT_WORKFLOW.available(state=project.status, user=request.user),
            "log": PerformanceTransitionLog.objects.filter(object_type="project", object_id=project.pk)
            .select_related("actor")
            .order_by("-occurred_at", "-id"),
            "is_open": project.status != ProjectStatus.CLOSED,
        },
    )


@login_required
@permission_required("performance.add_project", raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_create(request):
    authority = _authority_of(request.user)
    return _form_flow(
        request,
        ProjectForm(request.POST or None),
        save=lambda data: services.project_create(authority=authority, actor=request.user, **data),
        message=lambda project: f"已创建预算项目：{project}",
        done=lambda project: redirect("performance:project_detail", pk=project.pk),
        title="新建预算项目",
    )


@login_required
@permission_required("performance.change_project", raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_edit(request, pk: int):
    project = selectors.project_for(request.user, pk)
    return _form_flow(
        request,
        ProjectForm(request.POST or None, initial=ProjectForm.initial_from(project)),
        save=lambda data: services.project_update(project=project, actor=request.user, **data),
        message="项目信息已保存。",
        done=lambda _: redirect("performance:project_detail", pk=project.pk),
        title=lambda: f"修改项目：{project}",
        project=project,
    )


@login_required
@permission_required("performance.view_project", raise_exception=True)
@require_POST
def project_transition(request, pk: int):
    project = selectors.project_for(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "操作无效：" + "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("performance:project_detail", pk=project.pk)
    action = form.cleaned_data["action"]
    try:
        services.project_transition(project, action, request.user, form.cleaned_data["reason"])
    except TransitionNotAllowed as exc:
        return _refused(request, project, str(exc), status=409)
    except PermissionDenied as exc:
        return _refused(request, project, str(exc), status=403)
    except ValidationError as exc:
        return _refused(request, project, "；".join(exc.messages), status=400)
    messages.success(request, f"已{PROJECT_WORKFLOW.transition(action).label}。")
    return redirect("performance:project_detail", pk=project.pk)


def _refused(request, project, message: str, *, status: int) -> HttpResponse:
    return render(
        request, "performance/budget_refused.html", {"project": project, "message": message}, status=status
    )


# --- lines and components -------------------------------------------------------------------------------


@login_required
@permission_required("performance.add_budgetline", raise_exception=True)
@require_http_methods(["GET", "POST"])
def line_create(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    return _form_flow(
        request,
        LineForm(request.POST or None),
        save=lambda data: services.line_create(project=project, actor=request.user, **data),
        message="已新增预算明细。",
        done=lambda _: redirect("performance:project_detail", pk=project.pk),
        title="新增预算明细",
        project=project,
    )


@login_required
@permission_required("performance.change_budgetline", raise_exception=True)
@require_http_methods(["GET", "POST"])
def line_edit(request, pk: int):
    line = selectors.line_for(request.user, pk)
    initial = {"code": line.code, "name": line.name, "amount": line.amount, "order": line.order}
    return _form_flow(
        request,
        LineForm(request.POST or None, initial=initial),
        save=lambda data: services.line_update(line=line, actor=request.user, **data),
        message="预算明细已保存。",
        done=lambda _: redirect("performance:project_detail", pk=line.project_id),
        title=lambda: f"修改预算明细：{line}",
        project=line.project,
    )


@login_required
@permission_required("performance.add_projectcomponent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def component_create(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    return _form_flow(
        request,
        ComponentForm(request.POST or None, project=project),
        save=lambda data: services.component_create(project=project, actor=request.user, **data),
        message="已新增子项目。",
        done=lambda _: redirect("performance:project_detail", pk=project.pk),
        title="新增子项目",
        project=project,
    )


@login_required
@permission_required("performance.change_projectcomponent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def component_edit(request, pk: int):
    component = selectors.component_for(request.user, pk)
    initial = {"name": component.name, "order": component.order, "lines": list(component.lines.all())}
    return _form_flow(
        request,
        ComponentForm(request.POST or None, project=component.project, initial=initial),
        save=lambda data: services.component_update(component=component, actor=request.user, **data),
        message="子项目已保存。",
        done=lambda _: redirect("performance:project_detail", pk=component.project_id),
        title=lambda: f"修改子项目：{component}",
        project=component.project,
    )


# --- contracts ------------------------------------------------------------------------------------------


@login_required
@permission_required("performance.add_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contract_create(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    return _form_flow(
        request,
        ContractForm(request.POST or None, project=project),
        save=lambda data: services.contract_create(project=project, actor=request.user, **data),
        message=lambda contract: f"已新增合同：{contract}",
        done=lambda contract: redirect("performance:contract_detail", pk=contract.pk),
        title="新增合同",
        project=project,
    )


@login_required
@permission_required("performance.change_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contract_edit(request, pk: int):
    contract = selectors.contract_for(request.user, pk)
    return _form_flow(
        request,
        ContractForm(
            request.POST or None, project=contract.project, initial=ContractForm.initial_from(contract)
        ),
        save=lambda data: services.contract_update(contract=contract, actor=request.user, **data),
        message="合同已保存。",
        done=lambda _: redirect("performance:contract_detail", pk=contract.pk),
        title=lambda: f"修改合同：{contract}",
        project=contract.project,
    )


@login_required
@permission_required("performance.view_contract", raise_exception=True)
@require_GET
def contract_detail(request, pk: int):
    contract = selectors.contract_for(request.user, pk)
    paid = selectors.contract_paid(contract)
    milestones = list(selectors.contract_milestones(contract))
    scheduled = sum((m.amount for m in milestones), selectors.ZERO)
    return render(
        request,
        "performance/budget_contract_detail.html",
        {
            "contract": contract,
            "project": contract.project,
            "milestones": milestones,
            "scheduled": scheduled,
            "paid": paid,
            "remaining": contract.amount - paid,
            "rate": selectors.percent(selectors.execution_rate(paid, contract.amount)),
            "payments": contract.payments.select_related("milestone").order_by("-paid_on", "-id"),
            "milestone_form": MilestoneForm(initial={"order": len(milestones) + 1}),
            "is_open": contract.project.status != ProjectStatus.CLOSED,
        },
    )


@login_required
@permission_required("performance.add_paymentmilestone", raise_exception=True)
@require_http_methods(["GET", "POST"])
def milestone_create(request, contract_pk: int):
    contract = selectors.contract_for(request.user, contract_pk)
    return _form_flow(
        request,
        MilestoneForm(request.POST or None, initial={"order": contract.milestones.count() + 1}),
        save=lambda data: services.milestone_save(contract=contract, actor=request.user, **data),
        message="已新增支付计划。",
        done=lambda _: redirect("performance:contract_detail", pk=contract.pk),
        title=lambda: f"新增支付计划：{contract}",
        project=contract.project,
        back=("performance:contract_detail", contract.pk),
    )


@login_required
@permission_required("performance.change_paymentmilestone", raise_exception=True)
@require_http_methods(["GET", "POST"])
def milestone_edit(request, pk: int):
    try:
        milestone = PaymentMilestone.objects.select_related("contract").get(pk=pk)
    except PaymentMilestone.DoesNotExist:
        raise Http404("没有找到该支付计划。") from None
    contract = selectors.contract_for(request.user, milestone.contract_id)
    return _form_flow(
        request,
        MilestoneForm(request.POST or None, initial=MilestoneForm.initial_from(milestone)),
        save=lambda data: services.milestone_save(
            contract=contract, actor=request.user, milestone=milestone, **data
        ),
        message="支付计划已保存。",
        done=lambda _: redirect("performance:contract_detail", pk=contract.pk),
        title=lambda: f"修改支付计划：{milestone}",
        project=contract.project,
        back=("performance:contract_detail", contract.pk),
    )


# --- payments -------------------------------------------------------------------------------------------


@login_required
@permission_required("performance.add_payment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def payment_create(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    initial = {}
    if request.method == "GET":
        for name in ("line", "contract", "milestone"):
            if (request.GET.get(name) or "").isdigit():
                initial[name] = int(request.GET[name])
    return _form_flow(
        request,
        PaymentForm(request.POST or None, request.FILES or None, project=project, initial=initial),
        save=lambda data: services.payment_create(project=project, actor=request.user, **data),
        message=lambda payment: f"已登记支付 {payment.amount:,.2f} 元（{payment.line.name}）。",
        done=lambda _: redirect("performance:payment_list", project_pk=project.pk),
        title="登记支付",
        project=project,
        multipart=True,
        note="金额单位：元（保留两位小数）。支付不得超过预算明细的预算金额和合同金额。",
    )


@login_required
@permission_required("performance.view_payment", raise_exception=True)
@require_GET
def payment_list(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    form = PaymentFilterForm(request.GET or None, project=project)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.payment_page(project, filters, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "performance/budget_payment_list.html",
        {
            "project": project,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "total": selectors.amount_sum(selectors.project_payments(project, filters)),
        },
    )


@login_required
@permission_required("performance.view_payment", raise_exception=True)
@require_GET
def payment_evidence(request, pk: int):
    payment = selectors.payments_visible_to(request.user).filter(pk=pk).first()
    if payment is None or not payment.evidence:
        raise Http404("没有找到该凭证附件。")
    return FileResponse(
        payment.evidence.open("rb"), as_attachment=True, filename=payment.evidence.name.split("/")[-1]
    )


# --- Excel import and export ----------------------------------------------------------------------------


@login_required
@permission_required("performance.import_budget", raise_exception=True)
@require_http_methods(["GET", "POST"])
def budget_import(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    form = BudgetImportForm(request.POST or None, request.FILES or None)
    row_errors: list = []
    if request.method == "POST" and form.is_valid():
        try:
            result = services.budget_import(
                project=project, actor=request.user, upload=form.cleaned_data["file"]
            )
        except services.BudgetImportError as exc:
            form.add_error(None, exc.messages[0])
            row_errors = [str(e) for e in exc.row_errors]
        except ValidationError as exc:
            form.add_error(None, "；".join(exc.messages))
        else:
            messages.success(
                request,
                f"预算表已导入：新增明细 {result.created} 条，更新 {result.updated} 条，"
                f"新增子项目 {result.components_created} 个。",
            )
            return redirect("performance:project_detail", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "performance/budget_import.html",
        {"project": project, "form": form, "row_errors": row_errors},
        status=status,
    )


@login_required
@permission_required("performance.import_budget", raise_exception=True)
@require_GET
def budget_import_template(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "预算明细"
    sheet.append(
        [services.COLUMN_CODE, services.COLUMN_NAME, services.COLUMN_AMOUNT, services.COLUMN_COMPONENT]
    )
    for line in project.lines.prefetch_related("components"):
        component = next(iter(line.components.all()), None)
        sheet.append(
            [
                safe_cell(line.code),
                safe_cell(line.name),
                yuan_to_wan(line.amount, selectors.RATE_PLACES),
                safe_cell(component.name if component else ""),
            ]
        )
    return workbook_response(workbook, f"预算表模板_{project.code}.xlsx")


def _rate_percent(rate):
    return float(rate * 100) if rate is not None else None


@login_required
@permission_required("performance.export_budget", raise_exception=True)
@require_GET
def budget_export(request, project_pk: int):
    project = selectors.project_for(request.user, project_pk)
    execution = selectors.project_execution(project)
    workbook = Workbook()
    lines = workbook.active
    lines.title = "预算执行"
    lines.append([f"{project.fiscal_year} 年 {project.name}（{project.code}）预算执行情况"])
    lines.append(
        [
            "明细编号",
            "明细名称",
            "预算金额（万元）",
            "执行数（万元）",
            "执行率（%）",
            "预算金额（元）",
            "执行数（元）",
        ]
    )
    for item in execution.lines:
        lines.append(
            [
                safe_cell(item.line.code),
                safe_cell(item.line.name),
                yuan_to_wan(item.budget),
                yuan_to_wan(item.executed),
                _rate_percent(item.rate),
                item.budget,
                item.executed,
            ]
        )
    lines.append(
        [
            "合计",
            "预算明细合计",
            yuan_to_wan(execution.lines_budget),
            yuan_to_wan(execution.lines_executed),
            _rate_percent(selectors.execution_rate(execution.lines_executed, execution.lines_budget)),
            execution.lines_budget,
            execution.lines_executed,
        ]
    )
    lines.append(
        [
            "项目",
            "调整后预算数 / 全年执行数",
            yuan_to_wan(execution.adjusted_budget),
            yuan_to_wan(execution.executed),
            _rate_percent(execution.rate),
            execution.adjusted_budget,
            execution.executed,
        ]
    )
    for letter, width in zip("ABCDEFG", (12, 48, 16, 16, 12, 18, 18), strict=True):
        lines.column_dimensions[letter].width = width

    contracts = workbook.create_sheet("合同")
    contracts.append(
        [
            "合同编号",
            "合同名称",
            "供应商",
            "预算明细",
            "合同金额（元）",
            "已支付（元）",
            "签订日期",
            "服务开始",
            "服务结束",
        ]
    )
    for contract in selectors.project_contracts(project):
        contracts.append(
            [
                safe_cell(contract.number),
                safe_cell(contract.title),
                safe_cell(contract.vendor),
                safe_cell(str(contract.line)),
                contract.amount,
                contract.paid or selectors.ZERO,
                contract.signed_on,
                contract.starts_on,
                contract.ends_on,
            ]
        )
    payments = workbook.create_sheet("支付")
    payments.append(
        [
            "支付日期",
            "金额（元）",
            "预算明细",
            "合同编号",
            "支付计划期次",
            "凭证号",
            "摘要",
            "附件 SHA-256",
            "登记人",
        ]
    )
    for payment in selectors.project_payments(project).order_by("paid_on", "id"):
        payments.append(
            [
                payment.paid_on,
                payment.amount,
                safe_cell(str(payment.line)),
                safe_cell(payment.contract.number if payment.contract else ""),
                payment.milestone.order if payment.milestone else None,
                safe_cell(payment.voucher_number),
                safe_cell(payment.description),
                payment.evidence_sha256,
                safe_cell(str(payment.recorded_by or "")),
            ]
        )
    stamp = f"{timezone.localtime():%Y%m%d_%H%M%S}"
    return workbook_response(workbook, f"预算执行_{project.fiscal_year}_{project.code}_{stamp}.xlsx")


urlpatterns: list = [
    path("projects/", project_list, name="project_list"),
    path("projects/new/", project_create, name="project_create"),
    path("projects/<int:pk>/", project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", project_edit, name="project_edit"),
    path("projects/<int:pk>/transition/", project_transition, name="project_transition"),
    path("projects/<int:project_pk>/lines/new/", line_create, name="line_create"),
    path("lines/<int:pk>/edit/", line_edit, name="line_edit"),
    path("projects/<int:project_pk>/components/new/", component_create, name="component_create"),
    path("components/<int:pk>/edit/", component_edit, name="component_edit"),
    path("projects/<int:project_pk>/contracts/new/", contract_create, name="contract_create"),
    path("contracts/<int:pk>/", contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", contract_edit, name="contract_edit"),
    path("contracts/<int:contract_pk>/milestones/new/", milestone_create, name="milestone_create"),
    path("milestones/<int:pk>/edit/", milestone_edit, name="milestone_edit"),
    path("projects/<int:project_pk>/payments/", payment_list, name="payment_list"),
    path("projects/<int:project_pk>/payments/new/", payment_create, name="payment_create"),
    path("payments/<int:pk>/evidence/", payment_evidence, name="payment_evidence"),
    path("projects/<int:project_pk>/import/", budget_import, name="budget_import"),
    path("projects/<int:project_pk>/import/template/", budget_import_template, name="budget_import_template"),
    path("projects/<int:project_pk>/export/", budget_export, name="budget_export"),
]
