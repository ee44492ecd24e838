"""Pages of the information-entry/guidance records and of the follow-up tasks. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import services as core_services
from bizreg.core.exports import respond as respond_with_export
from bizreg.core.masking import mask_person_name, mask_phone
from bizreg.core.models import AccessLog, Authority
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.registration import exports
from bizreg.registration.forms.records import (
    AssignForm,
    CloseForm,
    ContactForm,
    DailyCountsForm,
    FollowUpFilterForm,
    ServiceRecordFilterForm,
    ServiceRecordForm,
)
from bizreg.registration.models import FollowUpTask, ServiceRecord
from bizreg.registration.selectors import records as selectors
from bizreg.registration.services import records as services

FULL_ID_PERM = "core.view_full_personal_data"


def _authority_of(user) -> Authority:
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
    return default_authority_for(user)


# --- service records ------------------------------------------------------------------------------------


@login_required
@permission_required("registration.view_servicerecord", raise_exception=True)
@require_GET
def records_list(request):
    form = ServiceRecordFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.service_record_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    if request.htmx and not request.htmx.boosted:
        return render(request, "registration/records_results.html", context)
    return render(request, "registration/records_list.html", context)


@login_required
@permission_required("registration.add_servicerecord", raise_exception=True)
@require_http_methods(["GET", "POST"])
def record_create(request):
    """The quick-entry page: save, then come back to an empty form keeping the kind and minutes."""
    authority = _authority_of(request.user)
    initial = {}
    if request.method == "GET":
        if request.GET.get("kind") in ServiceRecord.Kind.values:
            initial["kind"] = request.GET["kind"]
        if (request.GET.get("minutes") or "").isdigit():
            initial["minutes"] = int(request.GET["minutes"])
    form = ServiceRecordForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.service_record_create(
                authority=authority, actor=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已记录：%(kind)s · %(name)s · %(minutes)d 分钟")
                % {
                    "kind": record.get_kind_display(),
                    "name": record.enterprise_name,
                    "minutes": record.minutes,
                },
            )
            sticky = urlencode({"kind": record.kind, "minutes": record.minutes})
            return redirect(f"{reverse('registration:record_create')}?{sticky}")
    today = timezone.localdate()
    mine = selectors.service_record_search(
        user=request.user, filters={"staff": request.user, "date_from": today, "date_to": today}
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "registration/records_form.html",
        {"form": form, "today_records": mine[:10], "today_count": mine.count()},
        status=status,
    )


@login_required
@permission_required("registration.add_servicerecord", raise_exception=True)
@require_GET
def record_enterprise_options(request):
    """<option>s for the entry form's datalist (type-ahead over the register's own search)."""
    enterprises = selectors.enterprise_suggestions(user=request.user, text=request.GET.get("enterprise", ""))
    return render(request, "registration/records_enterprise_options.html", {"enterprises": enterprises})


@login_required
@permission_required("registration.view_servicerecord", raise_exception=True)
@require_GET
def records_export(request):
    back = f"{reverse('registration:records_list')}?{request.GET.urlencode()}"
    return respond_with_export(request, exports.SERVICE_RECORDS, back_url=back)


@login_required
@permission_required("registration.view_servicerecord", raise_exception=True)
@require_GET
def records_daily(request):
    form = DailyCountsForm(request.GET or None)
    if form.is_valid():
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        kind = form.cleaned_data.get("kind") or None
    else:
        start, end = DailyCountsForm.default_range()
        kind = None
    status = 200 if (not request.GET or form.is_valid()) else 400
    counts = (
        selectors.service_record_daily_counts(user=request.user, start=start, end=end, kind=kind)
        if status == 200
        else None
    )
    return render(
        request,
        "registration/records_daily.html",
        {"form": form, "counts": counts, "start": start, "end": end},
        status=status,
    )


# --- follow-up tasks ------------------------------------------------------------------------------------


@login_required
@permission_required("registration.view_followuptask", raise_exception=True)
@require_GET
def follow_up_list(request):
    # The page opens on the open tasks; the 全部 tab asks for status= explicitly.
    query = request.GET if "status" in request.GET else _with_status(request.GET, FollowUpTask.Status.OPEN)
    form = FollowUpFilterForm(query, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {"status": FollowUpTask.Status.OPEN}
    page = selectors.follow_up_page(user=request.user, filters=filters, page=request.GET.get("page"))
    candidates = selectors.follow_up_candidates(user=request.user)
    export_query = query.copy()
    export_query.pop("page", None)
    return render(
        request,
        "registration/records_follow_up_list.html",
        {
            "form": form,
            "page": page,
            "status": filters.get("status") or "",
            "statuses": [("", _("全部"))] + list(FollowUpTask.Status.choices),
            "candidates": candidates[:50],
            "candidate_count": candidates.count(),
            "today": timezone.localdate(),
            "export_query": export_query.urlencode(),
        },
    )


def _with_status(query, status: str):
    query = query.copy()
    query["status"] = status
    return query


@login_required
@permission_required("registration.view_followuptask", raise_exception=True)
@require_GET
def follow_up_export(request):
    back = f"{reverse('registration:follow_up_list')}?{request.GET.urlencode()}"
    return respond_with_export(request, exports.FOLLOW_UPS, back_url=back)


@login_required
@permission_required("registration.add_followuptask", raise_exception=True)
@require_POST
def follow_up_open(request, case_pk: int):
    case = selectors.follow_up_case_for(user=request.user, pk=case_pk)
    try:
        task = services.follow_up_create(case=case, actor=request.user)
    except services.FollowUpError as exc:
        messages.error(request, str(exc))
        return redirect("registration:follow_up_list")
    messages.success(request, _("已发起跟进：%(number)s") % {"number": case.number})
    return redirect("registration:follow_up_detail", pk=task.pk)


def _follow_up_context(request, task: FollowUpTask, **extra) -> dict:
    case = task.case
    return {
        "task": task,
        "case": case,
        "applicant_name": mask_person_name(case.applicant_name),
        "applicant_phone": mask_phone(case.applicant_phone),
        "agent_name": mask_person_name(case.agent_name),
        "agent_phone": mask_phone(case.agent_phone),
        "contacts": selectors.follow_up_contacts(task=task),
        "contact_form": extra.pop("contact_form", None) or ContactForm(),
        "close_form": extra.pop("close_form", None) or CloseForm(),
        "assign_form": extra.pop("assign_form", None)
        or AssignForm(initial={"assignee": task.assignee_id}, staff=selectors.staff_choices(request.user)),
        "can_change": request.user.has_perm("registration.change_followuptask")
        and task.status == FollowUpTask.Status.OPEN,
        "can_full": request.user.has_perm(FULL_ID_PERM),
        **extra,
    }


@login_required
@permission_required("registration.view_followuptask", raise_exception=True)
@require_GET
def follow_up_detail(request, pk: int):
    task = selectors.follow_up_for(user=request.user, pk=pk)
    return render(request, "registration/records_follow_up_detail.html", _follow_up_context(request, task))


@login_required
@permission_required(
    ["registration.view_followuptask", "registration.change_followuptask"], raise_exception=True
)
@require_POST
def follow_up_contact(request, pk: int):
    task = selectors.follow_up_for(user=request.user, pk=pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_log_add(task=task, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.FollowUpError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已记录联系情况。"))
            return redirect("registration:follow_up_detail", pk=task.pk)
    context = _follow_up_context(request, task, contact_form=form)
    return render(request, "registration/records_follow_up_detail.html", context, status=400)


@login_required
@permission_required(
    ["registration.view_followuptask", "registration.change_followuptask"], raise_exception=True
)
@require_POST
def follow_up_close(request, pk: int):
    task = selectors.follow_up_for(user=request.user, pk=pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.follow_up_close(task=task, actor=request.user, outcome=form.cleaned_data["outcome"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.FollowUpError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("跟进任务已完成。"))
            return redirect("registration:follow_up_detail", pk=task.pk)
    context = _follow_up_context(request, task, close_form=form)
    return render(request, "registration/records_follow_up_detail.html", context, status=400)


@login_required
@permission_required(
    ["registration.view_followuptask", "registration.change_followuptask"], raise_exception=True
)
@require_POST
def follow_up_assign(request, pk: int):
    task = selectors.follow_up_for(user=request.user, pk=pk)
    form = AssignForm(request.POST, staff=selectors.staff_choices(request.user))
    if form.is_valid():
        try:
            services.follow_up_assign(task=task, actor=request.user, assignee=form.cleaned_data["assignee"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.FollowUpError as exc:
            # The task was closed meanwhile: its page no longer offers the form, so the reason goes above it.
            messages.error(request, str(exc))
            return redirect("registration:follow_up_detail", pk=task.pk)
        else:
            assignee = form.cleaned_data["assignee"]
            messages.success(
                request,
                _("已指派给 %(name)s。") % {"name": assignee} if assignee else _("已取消指派。"),
            )
            return redirect("registration:follow_up_detail", pk=task.pk)
    context = _follow_up_context(request, task, assign_form=form)
    return render(request, "registration/records_follow_up_detail.html", context, status=400)


@login_required
@permission_required(["registration.view_followuptask", FULL_ID_PERM], raise_exception=True)
@require_POST
def follow_up_reveal_phone(request, pk: int):
    """The applicant's and agent's full phone numbers, to call them; logged in the access log."""
    task = selectors.follow_up_for(user=request.user, pk=pk)
    case = task.case
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="registration.RegistrationCase",
        object_id=case.pk,
        object_label=case.number,
        fields="applicant_name,applicant_phone,agent_name,agent_phone",
        authority=case.authority,
        request=request,
    )
    return render(request, "registration/records_follow_up_phone.html", {"case": case})
