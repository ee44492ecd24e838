"""Tracking pages: visit plans — the list (filters, Excel), one plan, "generate now", assignment,
cancellation, a plan added by hand, and the generation rules. Officers and managers see the plans of their
authorities (403 for every other role, 404 for another authority's plan); the manager generates, assigns,
cancels, adds and edits the rules."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core.excel import xlsx_response
from bizreg.core.models import Authority
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.views import conflict
from bizreg.tracking.forms.plans import (
    PlanAddForm,
    PlanAssignForm,
    PlanCancelForm,
    PlanFilterForm,
    PlanRuleForm,
)
from bizreg.tracking.selectors import plans as selectors
from bizreg.tracking.selectors.visits import enterprise_to_visit
from bizreg.tracking.services import plans as services
from bizreg.tracking.workflows import ASSIGN_PLAN, PLAN

PAGE_SIZE = 30
ADD_PLAN = "tracking.add_visitplan"
ADD_VISIT = "tracking.add_visit"


def tracking_page(permission: str, message: str):
    """Login, then the role's permission (403 with `message` otherwise)."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


plan_page = tracking_page(selectors.VIEW, "走访计划仅限企业服务专员和科室负责人查看。")


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return query.urlencode()


def _user_authorities(user):
    if user.is_superuser:
        return Authority.objects.order_by("pk")
    return user.authorities.order_by("pk")


@plan_page
@require_GET
def plan_list(request):
    user = request.user
    form = PlanFilterForm(request.GET or None, officers=selectors.officers_visible_to(user))
    params = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    plans = selectors.plan_listing(user=user, params=params, today=today)
    if request.GET.get("export") == "xlsx":
        return _export(plans, today)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracking/plan_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "today": today,
            "counts": selectors.plan_counts(user=user, today=today),
            "may_generate": user.has_perm(ADD_PLAN),
            "may_assign": user.has_perm(ASSIGN_PLAN),
            "may_edit_rules": user.has_perm("tracking.change_planrule"),
            "open_states": selectors.OPEN_STATES,
        },
    )


def _export(plans, today):
    rows = (
        (
            plan.enterprise.name,
            plan.enterprise.uscc,
            plan.get_reason_display(),
            plan.trigger,
            plan.source_case_number,
            plan.get_state_display(),
            str(plan.officer) if plan.officer_id else "",
            plan.planned_on,
            plan.due_on,
            "是" if plan.state in selectors.OPEN_STATES and plan.due_on < today else "否",
            plan.cancel_reason,
        )
        for plan in plans.iterator(chunk_size=1000)
    )
    return xlsx_response(
        title="走访计划",
        headers=[
            "企业名称",
            "统一社会信用代码",
            "计划来源",
            "触发说明",
            "关联登记业务",
            "状态",
            "走访专员",
            "生成日期",
            "走访期限",
            "已超期",
            "取消原因",
        ],
        rows=rows,
        filename=f"走访计划_{today:%Y%m%d}.xlsx",
    )


@plan_page
@require_POST
def plan_generate(request):
    if not request.user.has_perm(ADD_PLAN):
        raise PermissionDenied("您的角色无权生成走访计划。")
    created = sum(
        services.plans_generate(authority=authority, actor=request.user)
        for authority in _user_authorities(request.user)
    )
    if created:
        messages.success(request, f"已按规则生成 {created} 条走访计划。")
    else:
        messages.info(request, "没有需要新增的走访计划（已生成过的不会重复生成）。")
    return redirect("tracking:plan_list")


@plan_page
@require_GET
def plan_detail(request, pk: int):
    user = request.user
    plan = selectors.plan_for(user=user, pk=pk)
    actions = PLAN.available(state=plan.state, user=user)
    may_visit = (
        user.has_perm(ADD_VISIT)
        and plan.state in selectors.OPEN_STATES
        and plan.officer_id in (None, user.pk)
    )
    return render(
        request,
        "tracking/plan_detail.html",
        {
            "plan": plan,
            "visits": selectors.plan_visits(plan=plan),
            "actions": [a for a in actions if a.action in ("assign", "cancel")],
            "may_visit": may_visit,
            "today": timezone.localdate(),
            "open": plan.state in selectors.OPEN_STATES,
        },
    )


@plan_page
@require_http_methods(["GET", "POST"])
def plan_assign(request, pk: int):
    user = request.user
    plan = selectors.plan_for(user=user, pk=pk)
    if not user.has_perm(ASSIGN_PLAN):
        raise PermissionDenied("您的角色无权分派走访计划。")
    back = reverse("tracking:plan_detail", args=[plan.pk])
    officers = selectors.officers_for(authority_id=plan.authority_id)
    initial = {"officer": plan.officer_id, "due_on": plan.due_on}
    form = PlanAssignForm(request.POST or None, officers=officers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_assign(
                plan=plan,
                officer=form.cleaned_data["officer"],
                actor=user,
                due_on=form.cleaned_data["due_on"],
            )
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已将走访计划分派给 {plan.officer}，期限 {plan.due_on:%Y-%m-%d}。")
            return redirect(back)
    elif request.method == "GET" and plan.state not in selectors.OPEN_STATES:
        return conflict(request, f"该走访计划{plan.get_state_display()}，不能再分派。", back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/plan_step.html",
        {"plan": plan, "form": form, "title": "分派走访计划", "button": "分派", "testid": "assign-form"},
        status=status,
    )


@plan_page
@require_http_methods(["GET", "POST"])
def plan_cancel(request, pk: int):
    user = request.user
    plan = selectors.plan_for(user=user, pk=pk)
    if not user.has_perm(ASSIGN_PLAN):
        raise PermissionDenied("您的角色无权取消走访计划。")
    back = reverse("tracking:plan_detail", args=[plan.pk])
    form = PlanCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_cancel(plan=plan, actor=user, reason=form.cleaned_data["reason"])
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "已取消该走访计划。")
            return redirect(back)
    elif request.method == "GET" and plan.state not in selectors.OPEN_STATES:
        return conflict(request, f"该走访计划{plan.get_state_display()}，不能取消。", back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/plan_step.html",
        {"plan": plan, "form": form, "title": "取消走访计划", "button": "确认取消", "testid": "cancel-form"},
        status=status,
    )


@plan_page
@require_http_methods(["GET", "POST"])
def plan_add(request):
    user = request.user
    if not user.has_perm(ADD_PLAN):
        raise PermissionDenied("您的角色无权添加走访计划。")
    authority = default_authority_for(user)
    form = PlanAddForm(
        request.POST or None,
        officers=selectors.officers_for(authority_id=authority.pk),
        initial={"enterprise": request.GET.get("enterprise", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = enterprise_to_visit(user=user, value=data["enterprise"])
        try:
            plan = services.plan_add(
                authority=enterprise.authority if enterprise is not None else authority,
                enterprise=enterprise,
                actor=user,
                due_on=data["due_on"],
                officer=data["officer"],
                note=data["note"],
            )
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), reverse("tracking:plan_list"))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已为 {plan.enterprise.name} 添加走访计划。")
            return redirect("tracking:plan_detail", pk=plan.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "tracking/plan_add.html", {"form": form}, status=status)


class _Rollback(Exception):
    pass


@tracking_page(selectors.VIEW_RULES, "走访计划规则仅限企业服务专员和科室负责人查看。")
@require_http_methods(["GET", "POST"])
def plan_rules(request):
    user = request.user
    may_edit = user.has_perm("tracking.change_planrule")
    if request.method == "POST" and not may_edit:
        raise PermissionDenied("您的角色无权修改走访计划规则。")
    authority = default_authority_for(user)
    rules = services.plan_rules_for(authority=authority)
    data = request.POST if request.method == "POST" else None
    rows = [
        (
            rule,
            PlanRuleForm(
                data,
                prefix=rule.reason,
                initial={
                    "enabled": rule.enabled,
                    "window_days": rule.window_days,
                    "threshold": rule.threshold,
                    "due_days": rule.due_days,
                    "note": rule.note,
                },
            ),
        )
        for rule in rules
    ]
    if not may_edit:
        for _, form in rows:
            for field in form.fields.values():
                field.disabled = True
    if request.method == "POST":
        valid = all(form.is_valid() for _, form in rows)
        if valid:
            try:
                with transaction.atomic():
                    failed = False
                    for rule, form in rows:
                        try:
                            services.plan_rule_update(rule=rule, actor=user, **form.service_kwargs())
                        except ValidationError as exc:
                            form.add_service_errors(exc)
                            failed = True
                    if failed:
                        raise _Rollback
            except _Rollback:
                pass
            else:
                messages.success(request, "已保存走访计划规则，下次生成时按新规则执行。")
                return redirect("tracking:plan_rules")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/plan_rules.html",
        {"rows": rows, "may_edit": may_edit, "authority": authority, "may_generate": user.has_perm(ADD_PLAN)},
        status=status,
    )


urlpatterns = [
    path("plans/", plan_list, name="plan_list"),
    path("plans/new/", plan_add, name="plan_add"),
    path("plans/generate/", plan_generate, name="plan_generate"),
    path("plans/rules/", plan_rules, name="plan_rules"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/assign/", plan_assign, name="plan_assign"),
    path("plans/<int:pk>/cancel/", plan_cancel, name="plan_cancel"),
]
