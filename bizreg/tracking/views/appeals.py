"""Appeal pages: the list (filters, Excel; a department member sees their departments' appeals), raising an
appeal (from a visit: ?visit=<pk>), one appeal with its timeline and the steps the user may take, and the
departments (manager)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import services as core_services
from bizreg.core.excel import xlsx_response
from bizreg.core.masking import mask_person_name, mask_phone
from bizreg.core.models import AccessLog
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.views import conflict
from bizreg.tracking.forms.appeals import (
    AnswerForm,
    AppealFilterForm,
    AppealForm,
    CloseForm,
    DepartmentFilterForm,
    DepartmentForm,
    ReasonForm,
    RouteForm,
)
from bizreg.tracking.selectors import appeals as selectors
from bizreg.tracking.services import appeals as services

PAGE_SIZE = 30
VIEW = "tracking.view_appeal"
VIEW_DEPARTMENTS = "tracking.view_department"


def appeal_page(view):
    """Login, then holders of tracking.view_appeal only (403); the selectors answer 404 for an appeal the
    user may not see."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(VIEW):
            raise PermissionDenied("企业诉求仅限企业服务专员、科室负责人和承办部门人员查看。")
        return view(request, *args, **kwargs)

    return wrapped


def department_page(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_DEPARTMENTS):
            raise PermissionDenied("承办部门仅限企业服务专员和科室负责人查看。")
        return view(request, *args, **kwargs)

    return wrapped


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return query.urlencode()


# --- list ----------------------------------------------------------------------------------------------


@appeal_page
@require_GET
def appeal_list(request):
    user = request.user
    wide = selectors.sees_whole_authority(user)
    mine = selectors.my_departments(user=user)
    form = AppealFilterForm(
        request.GET or None,
        departments=selectors.department_choices(user=user),
        show_mine=wide and bool(mine),
    )
    # The figures' drill-downs add parameters of their own (closed_*, on_time, satisfied), which
    # appeal_listing reads; the form's checked values take precedence.
    params = request.GET.dict()
    if form.is_bound:
        if form.is_valid():
            params.update(form.cleaned_data)
        else:
            params = {}
    appeals = selectors.appeal_listing(user=user, params=params)
    if request.GET.get("export") == "xlsx":
        return _export(request, appeals)
    page = Paginator(appeals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracking/appeal_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "today": timezone.localdate(),
            "wide": wide,
            "my_departments": mine,
            "counts": selectors.appeal_counts(user=user),
            "may_add": user.has_perm(services.ADD_APPEAL),
        },
    )


def _export(request, appeals):
    appeals = appeals.select_related("enterprise", "department")
    rows = (
        (
            a.number,
            a.get_state_display(),
            a.get_category_display(),
            a.title,
            a.enterprise.name,
            a.enterprise.uscc,
            mask_person_name(a.contact_name),
            mask_phone(a.contact_phone),
            a.raised_on,
            a.department.name if a.department_id else "",
            a.routed_on,
            a.due_on,
            a.answered_at and timezone.localtime(a.answered_at).date(),
            a.closed_at and timezone.localtime(a.closed_at).date(),
            {True: "是", False: "否"}.get(a.closed_on_time, ""),
            a.get_satisfaction_display() if a.satisfaction else "",
        )
        for a in appeals.iterator(chunk_size=1000)
    )
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        object_type="tracking.Appeal",
        object_id="list",
        fields="联系人、联系电话（已脱敏）",
        record_count=appeals.count(),
        request=request,
    )
    return xlsx_response(
        title="企业诉求",
        headers=[
            "诉求编号",
            "状态",
            "类别",
            "诉求标题",
            "企业名称",
            "统一社会信用代码",
            "联系人",
            "联系电话",
            "登记日期",
            "承办部门",
            "转办日期",
            "办理期限",
            "反馈日期",
            "办结日期",
            "按期办结",
            "企业满意度",
        ],
        rows=rows,
        filename=f"企业诉求_{timezone.localdate():%Y%m%d}.xlsx",
    )


# --- raising -------------------------------------------------------------------------------------------


def _initial(request) -> dict:
    """?visit=<pk> fills in the visit's enterprise and contact; ?enterprise=<pk> the enterprise."""
    user = request.user
    if request.GET.get("visit"):
        visit = selectors.visit_for_appeal(user=user, pk=request.GET["visit"])
        if visit is None:
            raise Http404("没有找到该走访记录。")
        return {
            "visit": visit.pk,
            "enterprise": visit.enterprise.uscc,
            "contact_name": visit.contact_name,
            "contact_phone": visit.contact_phone,
            "_visit": visit,
        }
    if request.GET.get("enterprise"):
        enterprise = selectors.enterprise_for_appeal(user=user, pk=request.GET["enterprise"])
        if enterprise is None:
            raise Http404("没有找到该企业。")
        return {"enterprise": enterprise.uscc, "_enterprise": enterprise}
    return {}


@appeal_page
@require_http_methods(["GET", "POST"])
def appeal_new(request):
    user = request.user
    if not user.has_perm(services.ADD_APPEAL):
        raise PermissionDenied("您的角色无权登记企业诉求。")
    initial = _initial(request) if request.method == "GET" else {}
    form = AppealForm(
        request.POST or None, initial={k: v for k, v in initial.items() if not k.startswith("_")}
    )
    visit = initial.get("_visit")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = selectors.enterprise_for_appeal(user=user, uscc=data["enterprise"])
        visit = None
        if data.get("visit"):
            visit = selectors.visit_for_appeal(user=user, pk=data["visit"])
            if visit is None:
                form.add_error(None, "来源走访不存在或您无权查看。")
        if not form.errors:
            try:
                appeal = services.appeal_raise(
                    authority=enterprise.authority if enterprise else default_authority_for(user),
                    enterprise_id=enterprise.pk if enterprise else None,
                    actor=user,
                    category=data["category"],
                    title=data["title"],
                    description=data["description"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    visit=visit,
                    raised_on=data.get("raised_on"),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    f"已登记诉求 {appeal.number}。企业可凭该编号和联系电话后 4 位在门户查询办理进度。",
                )
                return redirect("tracking:appeal_detail", pk=appeal.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/appeal_new.html",
        {"form": form, "visit": visit, "enterprise": initial.get("_enterprise")},
        status=status,
    )


# --- one appeal ----------------------------------------------------------------------------------------

STEP_LABELS = {
    "route": "转办",
    "answer": "反馈办理结果",
    "reopen": "退回重办",
    "close": "办结",
    "withdraw": "企业撤回",
}


def _step_form(action: str, appeal, data=None):
    if action == "route":
        return RouteForm(data, departments=selectors.routing_departments(appeal=appeal), prefix="route")
    if action == "answer":
        return AnswerForm(data, prefix="answer")
    if action == "reopen":
        return ReasonForm(data, label="退回理由", prefix="reopen")
    if action == "close":
        return CloseForm(data, prefix="close")
    if action == "withdraw":
        return ReasonForm(data, label="撤回原因", prefix="withdraw")
    raise Http404("没有该操作。")


def _run_step(action: str, appeal, actor, data: dict):
    if action == "route":
        return services.appeal_route(
            appeal=appeal,
            department=data["department"],
            actor=actor,
            due_on=data["due_on"],
            reason=data["reason"],
        )
    if action == "answer":
        return services.appeal_answer(appeal=appeal, actor=actor, feedback=data["feedback"])
    if action == "reopen":
        return services.appeal_reopen(appeal=appeal, actor=actor, reason=data["reason"])
    if action == "close":
        return services.appeal_close(
            appeal=appeal,
            actor=actor,
            satisfaction=data["satisfaction"],
            feedback=data["feedback"],
            comment=data["comment"],
        )
    if action == "withdraw":
        return services.appeal_withdraw(appeal=appeal, actor=actor, reason=data["reason"])
    raise Http404("没有该操作。")


def _detail_context(request, appeal, **forms) -> dict:
    user = request.user
    actions = selectors.appeal_actions(appeal=appeal, user=user)
    steps = [
        (
            a,
            forms.get(a.action) or _step_form(a.action, appeal),
            reverse(f"tracking:appeal_{a.action}", args=[appeal.pk]),
        )
        for a in actions
    ]
    return {
        "appeal": appeal,
        "events": selectors.appeal_timeline(appeal=appeal),
        "steps": steps,
        "may_see_contact": selectors.may_see_contact(appeal=appeal, user=user),
        "today": timezone.localdate(),
        "overdue": bool(appeal.state == "routed" and appeal.due_on and appeal.due_on < timezone.localdate()),
    }


@appeal_page
@require_GET
def appeal_detail(request, pk: int):
    appeal = selectors.appeal_for(user=request.user, pk=pk)
    return render(request, "tracking/appeal_detail.html", _detail_context(request, appeal))


@appeal_page
@require_POST
def appeal_contact(request, pk: int):
    """The full contact name and phone, shown once and logged."""
    appeal = selectors.appeal_for(user=request.user, pk=pk)
    if not selectors.may_see_contact(appeal=appeal, user=request.user):
        raise PermissionDenied("您的角色无权查看完整联系方式。")
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="tracking.Appeal",
        object_id=appeal.pk,
        object_label=f"{appeal.number} {appeal.title}",
        fields="诉求联系人、联系电话",
        authority=appeal.authority,
        request=request,
    )
    return render(request, "tracking/appeal_contact.html", {"appeal": appeal})


def _step_view(action: str):
    @appeal_page
    @require_http_methods(["GET", "POST"])
    def view(request, pk: int):
        appeal = selectors.appeal_for(user=request.user, pk=pk)
        form = _step_form(action, appeal, request.POST if request.method == "POST" else None)
        back = reverse("tracking:appeal_detail", args=[appeal.pk])
        if request.method == "POST" and form.is_valid():
            try:
                _run_step(action, appeal, request.user, form.cleaned_data)
            except TransitionNotAllowed as exc:
                return conflict(request, str(exc), back)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"{appeal.number}：已{STEP_LABELS[action]}。")
                return redirect(back)
        status = 400 if request.method == "POST" else 200
        return render(
            request,
            "tracking/appeal_step.html",
            {"appeal": appeal, "form": form, "action": action, "label": STEP_LABELS[action]},
            status=status,
        )

    view.__name__ = f"appeal_{action}"
    return view


# --- departments ---------------------------------------------------------------------------------------


@department_page
@require_GET
def department_list(request):
    form = DepartmentFilterForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    departments = selectors.department_listing(user=request.user, params=params)
    page = Paginator(departments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracking/department_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "may_add": request.user.has_perm(services.ADD_DEPARTMENT),
            "may_change": request.user.has_perm(services.CHANGE_DEPARTMENT),
        },
    )


def _department_form_page(request, department=None):
    user = request.user
    authority = department.authority if department else default_authority_for(user)
    if authority is None:
        raise PermissionDenied("您的账号未关联登记机关。")
    candidates = selectors.member_candidates(authority_id=authority.pk)
    initial = {}
    if department is not None:
        initial = {
            "name": department.name,
            "default_days": department.default_days,
            "is_active": department.is_active,
            "members": list(department.members.values_list("pk", flat=True)),
        }
    form = DepartmentForm(request.POST or None, initial=initial or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.department_save(
                authority=authority,
                actor=user,
                department=department,
                name=data["name"],
                default_days=data["default_days"],
                is_active=data["is_active"],
                members=list(data["members"]),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已保存承办部门“{saved.name}”。")
            return redirect("tracking:department_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "tracking/department_edit.html", {"form": form, "department": department}, status=status
    )


@department_page
@require_http_methods(["GET", "POST"])
def department_new(request):
    if not request.user.has_perm(services.ADD_DEPARTMENT):
        raise PermissionDenied("您的角色无权新增承办部门。")
    return _department_form_page(request)


@department_page
@require_http_methods(["GET", "POST"])
def department_edit(request, pk: int):
    department = selectors.department_for(user=request.user, pk=pk)
    if not request.user.has_perm(services.CHANGE_DEPARTMENT):
        raise PermissionDenied("您的角色无权修改承办部门。")
    return _department_form_page(request, department)


urlpatterns = [
    path("appeals/", appeal_list, name="appeal_list"),
    path("appeals/new/", appeal_new, name="appeal_new"),
    path("appeals/<int:pk>/", appeal_detail, name="appeal_detail"),
    path("appeals/<int:pk>/contact/", appeal_contact, name="appeal_contact"),
    *(
        path(f"appeals/<int:pk>/{action}/", _step_view(action), name=f"appeal_{action}")
        for action in STEP_LABELS
    ),
    path("departments/", department_list, name="department_list"),
    path("departments/new/", department_new, name="department_new"),
    path("departments/<int:pk>/edit/", department_edit, name="department_edit"),
]
