"""Tracking pages: visits — the list (filters, Excel), the form (new or a draft: the questionnaire rendered
per question type; save as draft or submit), one visit with its answers and the appeals raised from it, and
the questionnaire (its versions; the manager's edit makes a new version). Officers see every visit of their
authorities and edit only their own (403); a submitted visit is final (409)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
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
from bizreg.tracking.forms.visits import (
    PREFIX,
    QuestionFormSet,
    QuestionnaireForm,
    VisitFilterForm,
    VisitForm,
    question_initial,
    questions_from,
)
from bizreg.tracking.models import AnswerType, PlanReason, VisitState
from bizreg.tracking.selectors import plans as plan_selectors
from bizreg.tracking.selectors import visits as selectors
from bizreg.tracking.services import questionnaires as questionnaire_services
from bizreg.tracking.services import visits as services
from bizreg.tracking.services.questionnaires import answer_display
from bizreg.tracking.views.plans import query_without_page, tracking_page

PAGE_SIZE = 30
ADD_VISIT = "tracking.add_visit"
CHANGE_VISIT = "tracking.change_visit"
ADD_APPEAL = "tracking.add_appeal"
EDIT_QUESTIONNAIRE = ("tracking.change_questionnaire", "tracking.add_questionnaire")
# Helper B's page; the path is written out so this page does not depend on that URL name existing.
APPEAL_NEW_PATH = "/tracking/appeals/new/?visit={pk}"

visit_page = tracking_page(selectors.VIEW, "走访记录仅限企业服务专员和科室负责人查看。")
questionnaire_page = tracking_page(selectors.VIEW_QUESTIONNAIRE, "走访问卷仅限企业服务专员和科室负责人查看。")


# --- list ------------------------------------------------------------------------------------------------


@visit_page
@require_GET
def visit_list(request):
    user = request.user
    form = VisitFilterForm(request.GET or None, officers=plan_selectors.officers_visible_to(user))
    params = form.cleaned_data if form.is_valid() else {}
    visits = selectors.visit_listing(user=user, params=params)
    if request.GET.get("export") == "xlsx":
        return _export(request, visits)
    page = Paginator(visits, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracking/visit_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "may_add": user.has_perm(ADD_VISIT),
        },
    )


def _answers_text(questions, answers: dict) -> str:
    return "；".join(
        f"{q.text}：{answer_display(q, answers.get(q.code))}" for q in questions if q.code in answers
    )


def _export(request, visits):
    questions = selectors.answers_for_export(visits)
    rows = (
        (
            visit.number,
            visit.enterprise.name,
            visit.enterprise.uscc,
            visit.get_method_display(),
            visit.visited_on,
            str(visit.officer),
            mask_person_name(visit.contact_name),
            mask_phone(visit.contact_phone),
            visit.plan.get_reason_display() if visit.plan_id else "无计划",
            visit.get_state_display(),
            visit.get_move_out_reason_display() if visit.move_out_reason else "",
            visit.findings,
            _answers_text(questions.get(visit.questionnaire_id, []), visit.answers or {}),
        )
        for visit in visits.iterator(chunk_size=1000)
    )
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        object_type="tracking.Visit",
        object_id="list",
        fields="企业联系人姓名、电话（已脱敏）",
        record_count=visits.count(),
        request=request,
    )
    return xlsx_response(
        title="走访记录",
        headers=[
            "走访编号",
            "企业名称",
            "统一社会信用代码",
            "方式",
            "走访日期",
            "走访专员",
            "企业联系人",
            "联系电话",
            "计划来源",
            "状态",
            "拟迁出原因",
            "走访发现",
            "问卷答案",
        ],
        rows=rows,
        filename=f"走访记录_{timezone.localdate():%Y%m%d}.xlsx",
    )


# --- form ------------------------------------------------------------------------------------------------


def _render_form(request, form: VisitForm, *, visit=None, plan=None, enterprise=None, status: int = 200):
    return render(
        request,
        "tracking/visit_form.html",
        {"form": form, "visit": visit, "plan": plan, "enterprise": enterprise},
        status=status,
    )


def _stored_data(visit) -> dict[str, Any]:
    """The draft's stored values as form data (to show the submit's refusal on the fields)."""
    data = {
        "method": visit.method,
        "visited_on": visit.visited_on.isoformat(),
        "contact_name": visit.contact_name,
        "contact_phone": visit.contact_phone,
        "findings": visit.findings,
        "move_out_reason": visit.move_out_reason,
    }
    types = (
        {q.code: q.answer_type for q in visit.questionnaire.questions.all()} if visit.questionnaire else {}
    )
    for code, value in (visit.answers or {}).items():
        if types.get(code) == AnswerType.YES_NO and isinstance(value, bool):
            value = "yes" if value else "no"
        data[PREFIX + code] = value
    return data


@visit_page
@require_http_methods(["GET", "POST"])
def visit_new(request):
    user = request.user
    if not user.has_perm(ADD_VISIT):
        raise PermissionDenied("您的角色无权登记走访记录。")
    plan = enterprise = None
    if request.GET.get("plan"):
        plan = plan_selectors.plan_for(user=user, pk=request.GET["plan"])
        enterprise = plan.enterprise
    elif request.GET.get("enterprise"):
        enterprise = selectors.enterprise_to_visit(user=user, value=request.GET["enterprise"])
        if enterprise is None:
            raise Http404("没有找到该企业。")
    authority = (
        plan.authority if plan else enterprise.authority if enterprise else default_authority_for(user)
    )
    questionnaire = questionnaire_services.questionnaire_active(authority=authority)
    form = VisitForm(
        request.POST or None,
        questionnaire=questionnaire,
        ask_enterprise=enterprise is None,
        move_out_required=plan is not None and plan.reason == PlanReason.MOVE_OUT,
        initial={"visited_on": timezone.localdate(), "method": "on_site"},
    )
    if request.method == "POST" and form.is_valid():
        if enterprise is not None:
            enterprise_id = enterprise.pk
        else:
            found = selectors.enterprise_to_visit(user=user, value=form.cleaned_data["enterprise"])
            enterprise_id = found.pk if found is not None else None
            authority = found.authority if found is not None else authority
        submit = request.POST.get("action") == "submit"
        try:
            with transaction.atomic():
                visit = services.visit_create(
                    authority=authority,
                    enterprise_id=enterprise_id,
                    actor=user,
                    plan=plan,
                    **form.service_kwargs(),
                )
                if submit:
                    visit = services.visit_submit(visit=visit, actor=user)
        except TransitionNotAllowed as exc:
            back = reverse("tracking:plan_detail", args=[plan.pk]) if plan else reverse("tracking:visit_list")
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            done = "已提交" if submit else "已保存草稿"
            messages.success(request, f"走访记录 {visit.number} {done}。")
            return redirect("tracking:visit_detail", pk=visit.pk)
    status = 400 if request.method == "POST" else 200
    return _render_form(request, form, plan=plan, enterprise=enterprise, status=status)


def _own_draft(request, visit, message: str):
    """The page-side guard mirroring the service: own visit (403), still a draft (409)."""
    if visit.officer_id != request.user.pk or not request.user.has_perm(CHANGE_VISIT):
        raise PermissionDenied(message)
    if visit.state != VisitState.DRAFT:
        back = reverse("tracking:visit_detail", args=[visit.pk])
        return conflict(request, "走访记录已提交，不能再修改。", back)
    return None


@visit_page
@require_http_methods(["GET", "POST"])
def visit_edit(request, pk: int):
    user = request.user
    visit = selectors.visit_for(user=user, pk=pk)
    refused = _own_draft(request, visit, services.NOT_OWN)
    if refused is not None:
        return refused
    questionnaire = visit.questionnaire or questionnaire_services.questionnaire_active(
        authority=visit.authority
    )
    form = VisitForm(
        request.POST or None,
        questionnaire=questionnaire,
        move_out_required=visit.plan is not None and visit.plan.reason == PlanReason.MOVE_OUT,
        answers=visit.answers,
        initial={
            "method": visit.method,
            "visited_on": visit.visited_on,
            "contact_name": visit.contact_name,
            "contact_phone": visit.contact_phone,
            "findings": visit.findings,
            "move_out_reason": visit.move_out_reason,
        },
    )
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            with transaction.atomic():
                visit = services.visit_update(visit=visit, actor=user, **form.service_kwargs())
                if submit:
                    visit = services.visit_submit(visit=visit, actor=user)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), reverse("tracking:visit_detail", args=[visit.pk]))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"走访记录 {visit.number} {'已提交' if submit else '已保存'}。")
            return redirect("tracking:visit_detail", pk=visit.pk)
    status = 400 if request.method == "POST" else 200
    return _render_form(
        request, form, visit=visit, plan=visit.plan, enterprise=visit.enterprise, status=status
    )


@visit_page
@require_POST
def visit_submit(request, pk: int):
    user = request.user
    visit = selectors.visit_for(user=user, pk=pk)
    back = reverse("tracking:visit_detail", args=[visit.pk])
    try:
        visit = services.visit_submit(visit=visit, actor=user)
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        # Shown on the draft's form, each message on its field.
        form = VisitForm(
            _stored_data(visit),
            questionnaire=visit.questionnaire
            or questionnaire_services.questionnaire_active(authority=visit.authority),
            move_out_required=visit.plan is not None and visit.plan.reason == PlanReason.MOVE_OUT,
        )
        form.is_valid()
        form.add_service_errors(exc)
        return _render_form(
            request, form, visit=visit, plan=visit.plan, enterprise=visit.enterprise, status=400
        )
    messages.success(request, f"走访记录 {visit.number} 已提交。")
    return redirect(back)


# --- detail ----------------------------------------------------------------------------------------------


@visit_page
@require_GET
def visit_detail(request, pk: int):
    user = request.user
    visit = selectors.visit_for(user=user, pk=pk)
    own_draft = (
        visit.state == VisitState.DRAFT and visit.officer_id == user.pk and user.has_perm(CHANGE_VISIT)
    )
    return render(
        request,
        "tracking/visit_detail.html",
        {
            "visit": visit,
            "answers": selectors.visit_answers(visit=visit),
            "appeals": selectors.visit_appeals(visit=visit),
            "may_edit": own_draft,
            "may_appeal": user.has_perm(ADD_APPEAL),
            "appeal_new_url": APPEAL_NEW_PATH.format(pk=visit.pk),
        },
    )


# --- questionnaire ---------------------------------------------------------------------------------------


@questionnaire_page
@require_GET
def questionnaire_detail(request):
    user = request.user
    authority = default_authority_for(user)
    active = questionnaire_services.questionnaire_active(authority=authority)
    shown = active
    if request.GET.get("version"):
        shown = selectors.questionnaire_version(
            user=user, authority_id=authority.pk, version=request.GET["version"]
        )
    return render(
        request,
        "tracking/questionnaire_detail.html",
        {
            "questionnaire": shown,
            "questions": shown.questions.order_by("order", "id"),
            "active": active,
            "versions": selectors.questionnaire_versions(user=user, authority_id=authority.pk),
            "may_edit": all(user.has_perm(p) for p in EDIT_QUESTIONNAIRE),
        },
    )


@questionnaire_page
@require_http_methods(["GET", "POST"])
def questionnaire_edit(request):
    user = request.user
    if not all(user.has_perm(p) for p in EDIT_QUESTIONNAIRE):
        raise PermissionDenied("您的角色无权修改走访问卷。")
    authority = default_authority_for(user)
    active = questionnaire_services.questionnaire_active(authority=authority)
    edited = active
    if request.method == "POST" and request.POST.get("version"):
        edited = selectors.questionnaire_version(
            user=user, authority_id=authority.pk, version=request.POST["version"]
        )
    form = QuestionnaireForm(request.POST or None, initial={"title": active.title})
    formset = QuestionFormSet(request.POST or None, initial=question_initial(active), prefix="questions")
    back = reverse("tracking:questionnaire_detail")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            new = questionnaire_services.questionnaire_update(
                questionnaire=edited,
                actor=user,
                title=form.cleaned_data["title"],
                questions=questions_from(formset),
            )
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), back)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已保存为问卷第 {new.version} 版；此前的走访记录仍按原版本显示。")
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/questionnaire_edit.html",
        {"form": form, "formset": formset, "questionnaire": active},
        status=status,
    )


urlpatterns = [
    path("visits/", visit_list, name="visit_list"),
    path("visits/new/", visit_new, name="visit_new"),
    path("visits/<int:pk>/", visit_detail, name="visit_detail"),
    path("visits/<int:pk>/edit/", visit_edit, name="visit_edit"),
    path("visits/<int:pk>/submit/", visit_submit, name="visit_submit"),
    path("questionnaire/", questionnaire_detail, name="questionnaire_detail"),
    path("questionnaire/edit/", questionnaire_edit, name="questionnaire_edit"),
]
