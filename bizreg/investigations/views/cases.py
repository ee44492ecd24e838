"""Case pages: the list (filters, Excel), intake of a report, one case's page with its steps, the decision,
the full personal data (logged), the due list and the restriction list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import services as core_services
from bizreg.core.excel import xlsx_response
from bizreg.core.masking import mask_id_number, mask_person_name
from bizreg.core.models import AccessLog
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.investigations import workflows
from bizreg.investigations.forms import (
    AddEnterpriseForm,
    CaseFilterForm,
    DecisionForm,
    DocumentForm,
    MergeForm,
    ObjectionForm,
    ReasonForm,
    ReportForm,
    SuspendForm,
)
from bizreg.investigations.selectors import cases as selectors
from bizreg.investigations.services import cases as services
from bizreg.investigations.services import intake as intake_services
from bizreg.investigations.services import verification as verification_services
from bizreg.investigations.views.common import conflict, investigation_page, query_without_page

PAGE_SIZE = 30
FULL_PERM = "core.view_full_personal_data"


@investigation_page
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    # The metric drill-downs add their own parameters (closed_*, decided_* with outcome, answered_* …),
    # which case_listing reads; the form's checked values take precedence.
    params = request.GET.dict()
    if form.is_valid():
        params.update(form.cleaned_data)
        if form.cleaned_data["mine"]:
            params["assigned"] = "me"
    else:
        params = {}
    cases = selectors.case_listing(user=request.user, params=params).select_related("assigned_to")
    if request.GET.get("export") == "xlsx":
        return _export(request, cases)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "investigations/case_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "today": timezone.localdate(),
            "may_add": request.user.has_perm("investigations.add_investigationcase"),
        },
    )


def _export(request, cases):
    rows = (
        (
            case.number,
            case.get_state_display(),
            case.get_source_display(),
            mask_person_name(case.victim_name),
            mask_id_number(case.victim_id_number),
            case.summary,
            case.received_on,
            case.acceptance_due_on,
            case.accepted_on,
            case.investigation_due_on,
            "是" if case.extended else "否",
            case.closed_at and timezone.localtime(case.closed_at).date(),
            {True: "是", False: "否"}.get(case.closed_within_deadline, ""),
        )
        for case in cases.iterator(chunk_size=1000)
    )
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        object_type="investigations.InvestigationCase",
        object_id="list",
        fields="被冒用人姓名、身份证号（已脱敏）",
        record_count=cases.count(),
        request=request,
    )
    return xlsx_response(
        title="冒用身份案件",
        headers=[
            "案件编号",
            "状态",
            "来源",
            "被冒用人",
            "身份证号",
            "案情摘要",
            "收到日期",
            "受理期限",
            "受理日期",
            "调查期限",
            "已延期",
            "结案日期",
            "期限内办结",
        ],
        rows=rows,
        filename=f"冒用身份案件_{timezone.localdate():%Y%m%d}.xlsx",
    )


@investigation_page
@require_http_methods(["GET", "POST"])
def case_new(request):
    if not request.user.has_perm("investigations.add_investigationcase"):
        raise PermissionDenied("您的角色无权登记冒用身份线索。")
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        authority = request.user.authorities.order_by("pk").first()
        if authority is None:
            raise PermissionDenied("您的账号未关联登记机关。")
        try:
            report = intake_services.report_receive(
                authority=authority, actor=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if report.merged_reason:
                messages.info(request, f"该线索已并入在办案件 {report.case.number}：{report.merged_reason}")
            else:
                messages.success(
                    request, f"已登记线索，立案编号 {report.case.number}，请在受理期限内作出受理决定。"
                )
            return redirect("investigations:case_detail", pk=report.case_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "investigations/case_new.html", {"form": form}, status=status)


def case_page_context(request, case, **forms) -> dict:
    user = request.user
    actions = workflows.CASE.available(state=case.state, user=user)
    return {
        "case": case,
        "actions": [a for a in actions if a.action not in ("decide",)],
        "may_decide": any(a.action == "decide" for a in actions),
        "reports": selectors.case_reports(case=case),
        "case_enterprises": selectors.case_enterprises(case=case),
        "field_checks": selectors.case_field_checks(case=case),
        "evidence": selectors.case_evidence(case=case),
        "documents": selectors.case_documents(case=case),
        "events": selectors.case_timeline(case=case),
        "suspensions": case.suspensions.all(),
        "objections": case.objections.all(),
        "decision": getattr(case, "decision", None),
        "bans": case.bans.all(),
        "survey": getattr(case, "survey", None),
        "can_full": user.has_perm(FULL_PERM),
        "may_change": user.has_perm(workflows.CHANGE) and case.is_open,
        "may_document": user.has_perm("investigations.add_casedocument") and case.state != "closed",
        "document_form": forms.get("document_form") or DocumentForm(),
        "add_enterprise_form": forms.get("add_enterprise_form") or AddEnterpriseForm(),
        "today": timezone.localdate(),
    }


@investigation_page
@require_GET
def case_detail(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    return render(request, "investigations/case_detail.html", case_page_context(request, case))


@investigation_page
@require_POST
def case_reveal(request, pk: int):
    """The victim's and the reporters' full identifiers, shown once and logged."""
    if not request.user.has_perm(FULL_PERM):
        raise PermissionDenied("您的角色无权查看完整个人信息。")
    case = selectors.case_for(user=request.user, pk=pk)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="investigations.InvestigationCase",
        object_id=case.pk,
        object_label=f"{case.number} {case.summary}",
        fields="被冒用人及申请人姓名、身份证号、电话",
        authority=case.authority,
        request=request,
    )
    return render(
        request,
        "investigations/_persons_full.html",
        {"case": case, "reports": selectors.case_reports(case=case)},
    )


# --- workflow steps ---------------------------------------------------------------------------------

STEP_FORMS = {
    "accept": lambda data: ReasonForm(data, required=False),
    "not_accept": lambda data: ReasonForm(data),
    "extend": lambda data: ReasonForm(data),
    "suspend": lambda data: SuspendForm(data),
    "resume": lambda data: ReasonForm(data),
    "start_notice": lambda data: ReasonForm(data),
    "objection": lambda data: ObjectionForm(data),
    "merge": lambda data: MergeForm(data),
    "close": lambda data: ReasonForm(data, required=False),
}


def _run_step(action: str, case, actor, data: dict):
    if action == "accept":
        return services.case_accept(case=case, actor=actor, reason=data.get("reason", ""))
    if action == "not_accept":
        return services.case_not_accept(case=case, actor=actor, reason=data["reason"])
    if action == "extend":
        return services.case_extend(case=case, actor=actor, reason=data["reason"])
    if action == "suspend":
        return services.case_suspend(case=case, actor=actor, ground=data["ground"], reason=data["reason"])
    if action == "resume":
        return services.case_resume(case=case, actor=actor, reason=data["reason"])
    if action == "start_notice":
        return services.case_start_notice(case=case, actor=actor, reason=data["reason"])
    if action == "objection":
        return services.notice_objection_record(case=case, actor=actor, **data)
    if action == "merge":
        into = selectors.case_by_number(user=actor, number=data["into"])
        if into is None:
            raise ValidationError({"into": ["找不到该案件编号，或您无权查看。"]})
        return services.case_merge(case=case, into=into, actor=actor, reason=data["reason"])
    if action == "close":
        return services.case_close(case=case, actor=actor, reason=data.get("reason", ""))
    raise Http404("没有该操作。")


@investigation_page
@require_http_methods(["GET", "POST"])
def case_step(request, pk: int, action: str):
    case = selectors.case_for(user=request.user, pk=pk)
    if action not in STEP_FORMS:
        raise Http404("没有该操作。")
    transition = workflows.CASE.transition(action)
    form = STEP_FORMS[action](request.POST if request.method == "POST" else None)
    back = reverse("investigations:case_detail", args=[case.pk])
    if request.method == "POST" and form.is_valid():
        try:
            _run_step(action, case, request.user, form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            if hasattr(form, "add_service_errors"):
                form.add_service_errors(exc)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, f"{case.number}：已{transition.label}。")
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "investigations/case_step.html",
        {"case": case, "form": form, "transition": transition},
        status=status,
    )


@investigation_page
@require_http_methods(["GET", "POST"])
def case_decide(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    if not request.user.has_perm(workflows.DECIDE):
        raise PermissionDenied("您的角色无权作出处理决定。")
    form = DecisionForm(request.POST or None)
    back = reverse("investigations:case_detail", args=[case.pk])
    if request.method == "POST" and form.is_valid():
        try:
            services.case_decide(case=case, actor=request.user, **form.service_kwargs())
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{case.number}：已作出决定。")
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "investigations/case_decide.html",
        {"case": case, "form": form, "case_enterprises": selectors.case_enterprises(case=case)},
        status=status,
    )


@investigation_page
@require_POST
def case_add_enterprise(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    form = AddEnterpriseForm(request.POST)
    back = reverse("investigations:case_detail", args=[case.pk])
    if form.is_valid():
        enterprise = selectors.enterprise_by_uscc(form.cleaned_data["uscc"])
        if enterprise is None:
            form.add_error("uscc", "登记簿中没有该统一社会信用代码。")
        else:
            try:
                services.case_add_enterprise(
                    case=case, enterprise=enterprise, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except TransitionNotAllowed as exc:
                return conflict(request, str(exc), back)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"已将 {enterprise.name} 列为涉案企业。")
                return redirect(back)
    context = case_page_context(request, case, add_enterprise_form=form)
    return render(request, "investigations/case_detail.html", context, status=400)


@investigation_page
@require_POST
def report_verify(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    back = reverse("investigations:case_detail", args=[report.case_id])
    try:
        verification_services.report_verify(
            report=report,
            actor=request.user,
            result=request.POST.get("result", ""),
            note=request.POST.get("note", ""),
        )
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        return conflict(request, "；".join(exc.messages), back)
    messages.success(request, "已记录身份核验结果。")
    return redirect(back)


@investigation_page
@require_GET
def case_due(request):
    """What falls due soon: acceptance, investigation, notice end and field checks, nearest first."""
    return render(
        request,
        "investigations/case_due.html",
        {
            "due": selectors.due_cases(user=request.user),
            "reminders": selectors.reminders_for(request.user),
            "today": timezone.localdate(),
        },
    )


@investigation_page
@require_GET
def ban_list(request):
    q = (request.GET.get("q") or "").strip()[:50]
    bans = selectors.ban_search(user=request.user, q=q)
    page = Paginator(bans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "investigations/ban_list.html",
        {"page": page, "q": q, "query": query_without_page(request), "today": timezone.localdate()},
    )


urlpatterns = [
    path("", case_list, name="case_list"),
    path("new/", case_new, name="case_new"),
    path("due/", case_due, name="case_due"),
    path("bans/", ban_list, name="ban_list"),
    path("<int:pk>/", case_detail, name="case_detail"),
    path("<int:pk>/reveal/", case_reveal, name="case_reveal"),
    path("reports/<int:pk>/verify/", report_verify, name="report_verify"),
    path("<int:pk>/decide/", case_decide, name="case_decide"),
    path("<int:pk>/enterprises/add/", case_add_enterprise, name="case_add_enterprise"),
    path("<int:pk>/step/<slug:action>/", case_step, name="case_step"),
]
