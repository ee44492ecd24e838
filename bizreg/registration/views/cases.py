"""Pages of registration cases. Thin: parse input, call a service or selector, render.

A refused step answers 409 with the Chinese reason (TransitionNotAllowed), a role that may not take it 403
(PermissionDenied, the project's 403 page), bad input a form with field errors (400).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import services as core_services
from bizreg.core.exports import respond as respond_with_export
from bizreg.core.models import AccessLog, Authority
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.registration import exports
from bizreg.registration.forms.cases import (
    CaseIntakeForm,
    ExtensionDecisionForm,
    ExtensionHistoryFilterForm,
    ExtensionRequestForm,
    MaterialsForm,
    ReasonForm,
    ResubmitForm,
    ReturnForCorrectionForm,
)
from bizreg.registration.models import CASE_WORKFLOW, CaseState
from bizreg.registration.selectors import cases as selectors
from bizreg.registration.services import cases as services

VIEW_PERM = "registration.view_registrationcase"
FULL_PERM = "core.view_full_personal_data"
PERSON_FIELDS = "applicant_name,applicant_id_number,applicant_phone,agent_name,agent_id_number,agent_phone"


def _authority_of(user) -> Authority:
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
    return default_authority_for(user)


def _conflict(request, case, message: str):
    """The 409 page: the step was refused for the case's state; nothing was changed."""
    return render(request, "registration/cases_conflict.html", {"case": case, "message": message}, status=409)


# --- list, export, due warnings -------------------------------------------------------------------------


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def case_list(request):
    listing = selectors.case_listing(user=request.user, params=request.GET)
    context = {
        "listing": listing,
        "page": listing.page,
        "filterset": listing.filterset,
        "form": listing.filterset.form,
        "summary": selectors.due_summary(user=request.user, dates=listing.dates),
        "due_labels": selectors.DUE_LABELS,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "registration/cases_results.html", context)
    return render(request, "registration/cases_list.html", context)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def case_export(request):
    """The filtered list as Excel; personal data always masked (full values are shown only one case at a
    time, logged). A large list is made in the background (core.exports)."""
    return respond_with_export(
        request, exports.CASES, back_url=f"{reverse('registration:case_list')}?{request.GET.urlencode()}"
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def case_due(request):
    data = selectors.due_lists(user=request.user)
    sections = [
        ("overdue", _("已超期"), "danger"),
        ("due_today", _("今日到期"), "warning"),
        ("due_soon", _("下一工作日到期"), "info"),
    ]
    return render(
        request,
        "registration/cases_due.html",
        {
            "dates": data["dates"],
            "sections": [
                {"key": key, "label": label, "tone": tone, "cases": data["lists"][key]}
                for key, label, tone in sections
            ],
        },
    )


# --- intake ---------------------------------------------------------------------------------------------


@login_required
@permission_required("registration.add_registrationcase", raise_exception=True)
@require_http_methods(["GET", "POST"])
def case_intake(request):
    authority = _authority_of(request.user)
    form = CaseIntakeForm(request.POST or None, authority=authority)
    if request.method == "POST" and not form.is_valid():
        problems = services.case_intake_problems(
            authority=authority, actor=request.user, data=form.service_data()
        )
        if problems is not None:
            form.add_service_errors(problems, beside_own_errors=True)
    elif request.method == "POST":
        try:
            case = services.case_intake(authority=authority, actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已收件：业务编号 %(number)s（%(name)s）")
                % {"number": case.number, "name": case.enterprise_name},
            )
            return redirect("registration:case_detail", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/cases_intake.html", {"form": form}, status=status)


@login_required
@permission_required("registration.add_registrationcase", raise_exception=True)
@require_GET
def case_enterprise_lookup(request):
    """Matches for the intake form's enterprise search (an HTMX fragment)."""
    q = request.GET.get("q", "")
    matches = selectors.enterprise_matches(user=request.user, q=q, case_type=request.GET.get("case_type", ""))
    return render(request, "registration/cases_enterprise_lookup.html", {"matches": matches, "q": q.strip()})


# --- detail, timeline, personal data -------------------------------------------------------------------


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def case_detail(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    materials = selectors.case_materials(case=case)
    can_edit_materials = request.user.has_perm("registration.change_registrationcase") and case.state in (
        CaseState.RECEIVED,
        CaseState.RETURNED,
    )
    actions = selectors.case_available_actions(case=case, user=request.user)
    extension = selectors.case_extension(case=case)
    context = {
        "case": case,
        "materials": materials,
        "missing_mandatory": [m for m in materials if m.requirement.mandatory and not m.received],
        "can_edit_materials": can_edit_materials,
        "deficiencies": selectors.case_deficiencies(case=case),
        "requested_changes": selectors.case_requested_changes(case=case, user=request.user),
        "actions": actions,
        "direct_actions": [t for t in actions if t.action in DIRECT_ACTIONS],
        "form_actions": [t for t in actions if t.action not in DIRECT_ACTIONS],
        "clock": selectors.case_clock(case=case),
        "extension": extension,
        "can_request_extension": (
            extension is None
            and case.state == CaseState.ACCEPTED
            and request.user.has_perm("registration.review_case")
        ),
        "notices": selectors.case_notices(case=case),
        "licences": selectors.case_licences(case=case),
        "pauses": selectors.case_pauses(case=case),
        "can_full": request.user.has_perm(FULL_PERM),
    }
    return render(request, "registration/cases_detail.html", context)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def case_timeline(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    return render(
        request,
        "registration/cases_timeline.html",
        {
            "case": case,
            "entries": selectors.case_timeline(case=case, user=request.user),
            "clock": selectors.case_clock(case=case),
            "pauses": selectors.case_pauses(case=case),
            "extension": selectors.case_extension(case=case),
        },
    )


@login_required
@permission_required([VIEW_PERM, FULL_PERM], raise_exception=True)
@require_POST
def case_reveal(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="registration.RegistrationCase",
        object_id=case.pk,
        object_label=f"{case.number} {case.enterprise_name}",
        fields=PERSON_FIELDS,
        authority=case.authority,
        request=request,
    )
    return render(request, "registration/cases_person_full.html", {"case": case})


# --- workflow steps -------------------------------------------------------------------------------------

# Steps taken with one click from the case page; the others open a form (reasons, deficiencies, materials).
DIRECT_ACTIONS = frozenset({"pass_pre_review", "accept", "approve", "issue_licence", "archive"})


def _action_form(action: str, case, data=None):
    if action == "return_for_correction":
        return ReturnForCorrectionForm(data, materials=selectors.case_materials(case=case))
    if action == "resubmit":
        return ResubmitForm(data, materials=selectors.case_materials(case=case))
    return ReasonForm(data, reason_required=action == "reject")


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def case_action(request, pk: int, action: str):
    case = selectors.case_for(user=request.user, pk=pk)
    transition = CASE_WORKFLOW.transitions.get(action)
    if transition is None:
        raise Http404(_("没有该操作。"))
    if transition.permission and not request.user.has_perm(transition.permission):
        raise PermissionDenied(_("您的角色无权执行“%(action)s”。") % {"action": transition.label})
    try:
        CASE_WORKFLOW.check(state=case.state, action=action, user=request.user)
        refusal = services.action_refusal(case, action)
        if refusal:
            raise TransitionNotAllowed(refusal)
    except TransitionNotAllowed as exc:
        return _conflict(request, case, str(exc))
    form = _action_form(action, case, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_transition(
                case=case, action=action, actor=request.user, **form.service_kwargs()
            )
        except TransitionNotAllowed as exc:
            return _conflict(request, case, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已完成“%(action)s”，当前状态：%(state)s。")
                % {"action": transition.label, "state": case.get_state_display()},
            )
            return redirect("registration:case_detail", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    context = {"case": case, "transition": transition, "form": form}
    if action == "resubmit":
        context["open_deficiencies"] = selectors.case_open_deficiencies(case=case)
    if action == "pass_pre_review":
        context["missing_mandatory"] = [
            m for m in selectors.case_materials(case=case) if m.requirement.mandatory and not m.received
        ]
    return render(request, "registration/cases_action.html", context, status=status)


@login_required
@permission_required([VIEW_PERM, "registration.change_registrationcase"], raise_exception=True)
@require_POST
def case_materials(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    form = MaterialsForm(request.POST, materials=selectors.case_materials(case=case))
    if not form.is_valid():
        messages.error(request, _("所选材料不在该业务的材料清单中。"))
        return redirect("registration:case_detail", pk=case.pk)
    try:
        services.case_materials_update(case=case, actor=request.user, received=form.cleaned_data["received"])
    except TransitionNotAllowed as exc:
        return _conflict(request, case, str(exc))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已保存材料清单。"))
    return redirect("registration:case_detail", pk=case.pk)


# --- extension of the statutory period -------------------------------------------------------------------


@login_required
@permission_required([VIEW_PERM, "registration.review_case"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def case_extension_request(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    form = ExtensionRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_extension_request(case=case, actor=request.user, reason=form.cleaned_data["reason"])
        except TransitionNotAllowed as exc:
            return _conflict(request, case, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已提交延长办理期限申请，待科室负责人审批。"))
            return redirect("registration:case_detail", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "registration/cases_extension_request.html", {"case": case, "form": form}, status=status
    )


@login_required
@permission_required("registration.approve_extension", raise_exception=True)
@require_GET
def case_extension_queue(request):
    return render(request, "registration/cases_extensions.html", _extension_queue_context(request))


def _extension_queue_context(request) -> dict:
    history = ExtensionHistoryFilterForm(request.GET or None)
    filters = history.cleaned_data if history.is_valid() else {}
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "pending": list(selectors.extensions_pending(user=request.user)[:200]),
        "decided": selectors.extensions_decided_page(
            user=request.user, filters=filters, page=request.GET.get("page")
        ),
        "history": history,
        "query": query.urlencode(),
        "form": ExtensionDecisionForm(),
    }


@login_required
@permission_required("registration.approve_extension", raise_exception=True)
@require_GET
def case_extension_export(request):
    back = f"{reverse('registration:case_extension_queue')}?{request.GET.urlencode()}"
    return respond_with_export(request, exports.EXTENSIONS, back_url=back)


@login_required
@permission_required("registration.approve_extension", raise_exception=True)
@require_POST
def case_extension_decide(request, pk: int):
    extension = selectors.extension_for(user=request.user, pk=pk)
    form = ExtensionDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.case_extension_decide(
                extension=extension,
                actor=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except TransitionNotAllowed as exc:
            return _conflict(request, extension.case, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("已审批业务 %(number)s 的延长申请。") % {"number": extension.case.number}
            )
            return redirect("registration:case_extension_queue")
    context = _extension_queue_context(request) | {"failed": extension, "failed_form": form}
    return render(request, "registration/cases_extensions.html", context, status=400)
