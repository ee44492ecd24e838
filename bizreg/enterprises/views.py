"""Pages of the register. Thin: parse input, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import selectors as core_selectors
from bizreg.core import services as core_services
from bizreg.core.excel import XLSX
from bizreg.core.exports import respond as respond_with_export
from bizreg.core.models import AccessLog, Authority, BackgroundJob
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.enterprises import excel, exports, selectors, services
from bizreg.enterprises.exports import FULL_ID_PERM
from bizreg.enterprises.forms import (
    EnterpriseForm,
    FtzRuleForm,
    ImportForm,
    LockForm,
    UnlockForm,
    UsccExceptionForm,
)


def _authority_of(user) -> Authority:
    """The authority new records of this user belong to; a user without one may not create any."""
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
    return default_authority_for(user)


# --- list, export ---------------------------------------------------------------------------------------


@login_required
@permission_required("enterprises.view_enterprise", raise_exception=True)
@require_GET
def enterprise_list(request):
    listing = selectors.enterprise_listing(user=request.user, params=request.GET)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "listing": listing,
        "page": listing.page,
        "filterset": listing.filterset,
        "form": listing.filterset.form,
        "query": query.urlencode(),
        "can_full_id": request.user.has_perm(FULL_ID_PERM),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "enterprises/_results.html", context)
    return render(request, "enterprises/list.html", context)


@login_required
@permission_required("enterprises.export_enterprise", raise_exception=True)
@require_GET
def enterprise_export(request):
    query = request.GET.copy()
    query.pop("full_id", None)
    return respond_with_export(
        request, exports.ENTERPRISES, back_url=f"{reverse('enterprises:list')}?{query.urlencode()}"
    )


# --- detail ---------------------------------------------------------------------------------------------


@login_required
@permission_required("enterprises.view_enterprise", raise_exception=True)
@require_GET
def enterprise_detail(request, pk: int):
    enterprise = selectors.enterprise_for(user=request.user, pk=pk)
    locks = selectors.enterprise_locks(enterprise=enterprise)
    context = {
        "enterprise": enterprise,
        "former_names": selectors.enterprise_former_names(enterprise=enterprise),
        "active_lock": next((lock for lock in locks if lock.released_at is None), None),
        "locks": locks,
        "history": selectors.enterprise_history(enterprise=enterprise),
        "can_full_id": request.user.has_perm(FULL_ID_PERM),
        "persons": selectors.enterprise_persons(enterprise=enterprise, user=request.user),
        "rescissions": selectors.enterprise_rescissions(enterprise=enterprise),
    }
    return render(request, "enterprises/detail.html", context)


@login_required
@permission_required(["enterprises.view_enterprise", FULL_ID_PERM], raise_exception=True)
@require_POST
def enterprise_reveal_persons(request, pk: int):
    """The person-roles with whole ID numbers and phones, for a user allowed to see them; logged."""
    enterprise = selectors.enterprise_for(user=request.user, pk=pk)
    persons = selectors.enterprise_persons(enterprise=enterprise, user=request.user, full=True)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="enterprises.EnterprisePerson",
        object_id=enterprise.pk,
        object_label=_("%(name)s 的登记人员") % {"name": enterprise.name},
        fields="id_number,phone",
        record_count=len(persons),
        authority=enterprise.authority,
        request=request,
    )
    return render(
        request, "enterprises/_persons.html", {"enterprise": enterprise, "persons": persons, "revealed": True}
    )


@login_required
@permission_required(["enterprises.view_enterprise", FULL_ID_PERM], raise_exception=True)
@require_POST
def enterprise_reveal_id(request, pk: int):
    enterprise = selectors.enterprise_for(user=request.user, pk=pk)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="enterprises.Enterprise",
        object_id=enterprise.pk,
        object_label=enterprise.name,
        fields="legal_rep_id_number",
        authority=enterprise.authority,
        request=request,
    )
    return render(request, "enterprises/_full_id.html", {"enterprise": enterprise})


# --- create, edit ---------------------------------------------------------------------------------------


@login_required
@permission_required("enterprises.add_enterprise", raise_exception=True)
@require_http_methods(["GET", "POST"])
def enterprise_create(request):
    authority = _authority_of(request.user)
    form = EnterpriseForm(request.POST or None, authority=authority, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.enterprise_create(
                actor=request.user, authority=authority, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已登记：%(name)s") % {"name": enterprise.name})
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/form.html", {"form": form, "title": _("登记商事主体")})


@login_required
@permission_required("enterprises.change_enterprise", raise_exception=True)
@require_http_methods(["GET", "POST"])
def enterprise_edit(request, pk: int):
    enterprise = selectors.enterprise_for(user=request.user, pk=pk)
    form = EnterpriseForm(
        request.POST or None, authority=enterprise.authority, user=request.user, instance=enterprise
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_update(enterprise=enterprise, actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.EnterpriseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(
        request,
        "enterprises/form.html",
        {"form": form, "enterprise": enterprise, "title": _("修改：%(name)s") % {"name": enterprise.name}},
    )


# --- locks ----------------------------------------------------------------------------------------------


@login_required
@permission_required(["enterprises.view_enterprise", "enterprises.lock_enterprise"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def enterprise_lock(request, pk: int):
    enterprise = selectors.enterprise_for(user=request.user, pk=pk)
    form = LockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_lock(enterprise=enterprise, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error.message)
        except services.EnterpriseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已锁定。"))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(
        request,
        "enterprises/lock_form.html",
        {"form": form, "enterprise": enterprise, "title": _("锁定商事主体"), "submit": _("锁定")},
    )


@login_required
@permission_required(["enterprises.view_enterprise", "enterprises.lock_enterprise"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def enterprise_unlock(request, pk: int):
    enterprise = selectors.enterprise_for(user=request.user, pk=pk)
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_unlock(
                enterprise=enterprise, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error("reason", exc.messages[0])
        except services.EnterpriseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已解锁。"))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(
        request,
        "enterprises/lock_form.html",
        {"form": form, "enterprise": enterprise, "title": _("解锁商事主体"), "submit": _("解锁")},
    )


# --- USCC exceptions ------------------------------------------------------------------------------------


@login_required
@permission_required("enterprises.confirm_uscc_exception", raise_exception=True)
@require_http_methods(["GET", "POST"])
def uscc_exceptions(request):
    form = UsccExceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.uscc_exception_confirm(
                authority=_authority_of(request.user), actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("已登记校验例外：%(uscc)s。现在可以用该代码登记商事主体。") % {"uscc": record.uscc}
            )
            return redirect("enterprises:uscc_exceptions")
    records = selectors.uscc_exceptions_visible_to(request.user)[:200]
    return render(request, "enterprises/uscc_exceptions.html", {"form": form, "records": records})


# --- FTZ rules ------------------------------------------------------------------------------------------


@login_required
@permission_required("enterprises.view_ftzaddressrule", raise_exception=True)
@require_GET
def ftz_rules(request):
    context = {
        "rules": selectors.ftz_rules_visible_to(request.user),
        "can_edit": request.user.has_perm("enterprises.change_ftzaddressrule"),
        "can_add": request.user.has_perm("enterprises.add_ftzaddressrule"),
    }
    return render(request, "enterprises/ftz_rules.html", context)


def _save_rule(request, form: FtzRuleForm):
    try:
        job = services.ftz_rule_save(rule=form.instance, actor=request.user)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    messages.success(
        request, _("规则已保存，正在重新判定自贸区标记（后台任务 #%(job)d）。") % {"job": job.pk}
    )
    return redirect("enterprises:ftz_rules")


@login_required
@permission_required(
    ["enterprises.view_ftzaddressrule", "enterprises.add_ftzaddressrule"], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def ftz_rule_create(request):
    form = FtzRuleForm(request.POST or None, authority=_authority_of(request.user))
    if request.method == "POST" and form.is_valid():
        response = _save_rule(request, form)
        if response is not None:
            return response
    return render(request, "enterprises/ftz_rule_form.html", {"form": form, "title": _("新增自贸区地址规则")})


@login_required
@permission_required(
    ["enterprises.view_ftzaddressrule", "enterprises.change_ftzaddressrule"], raise_exception=True
)
@require_http_methods(["GET", "POST"])
def ftz_rule_edit(request, pk: int):
    rule = selectors.ftz_rule_for(user=request.user, pk=pk)
    form = FtzRuleForm(request.POST or None, instance=rule, authority=rule.authority)
    if request.method == "POST" and form.is_valid():
        response = _save_rule(request, form)
        if response is not None:
            return response
    title = _("修改规则：%(rule)s") % {"rule": rule}
    return render(request, "enterprises/ftz_rule_form.html", {"form": form, "title": title})


@login_required
@permission_required("enterprises.change_ftzaddressrule", raise_exception=True)
@require_POST
def ftz_recompute(request):
    job = services.ftz_recompute_submit(authority=_authority_of(request.user), actor=request.user)
    messages.success(request, _("已开始重新判定自贸区标记（后台任务 #%(job)d）。") % {"job": job.pk})
    return redirect("enterprises:ftz_rules")


# --- Excel import ---------------------------------------------------------------------------------------


def _import_job(request, job_pk: int) -> BackgroundJob:
    job = core_selectors.job_for(user=request.user, pk=job_pk)
    if job.kind != services.IMPORT_JOB_KIND:
        raise Http404(_("没有找到该导入任务。"))
    return job


@login_required
@permission_required("enterprises.import_enterprise", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.enterprise_import_submit(
                authority=_authority_of(request.user),
                actor=request.user,
                upload=form.cleaned_data["file"],
                good_rows_only=form.cleaned_data["good_rows_only"],
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages[0])
        else:
            return redirect("enterprises:import_status", job_pk=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "enterprises/import.html", {"form": form}, status=status)


@login_required
@permission_required("enterprises.import_enterprise", raise_exception=True)
@require_GET
def import_template(request):
    streets = services.streets_for_authority(_authority_of(request.user)).values_list("name", flat=True)
    response = HttpResponse(excel.build_template(street_names=streets), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "商事主体导入模板.xlsx")
    return response


@login_required
@permission_required("enterprises.import_enterprise", raise_exception=True)
@require_GET
def import_status(request, job_pk: int):
    job = _import_job(request, job_pk)
    result = job.result or {}
    context = {
        "job": job,
        "result": result,
        "errors": (result.get("errors") or [])[:500],
        "finished": job.status in (BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.FAILED),
        "can_retry": job.status == BackgroundJob.Status.FAILED and job.created_by_id == request.user.pk,
    }
    if request.htmx:
        return render(request, "enterprises/_import_status.html", context)
    return render(request, "enterprises/import_status.html", context)


@login_required
@permission_required("enterprises.import_enterprise", raise_exception=True)
@require_GET
def import_errors(request, job_pk: int):
    job = _import_job(request, job_pk)
    errors = (job.result or {}).get("errors") or []
    response = HttpResponse(excel.build_error_report(errors), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.xlsx"'
    return response


@login_required
@permission_required("enterprises.import_enterprise", raise_exception=True)
@require_POST
def import_retry(request, job_pk: int):
    job = _import_job(request, job_pk)
    try:
        core_services.job_retry(job=job, actor=request.user)
    except core_services.JobNotRetryable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已重新排队导入。"))
    return redirect("enterprises:import_status", job_pk=job.pk)
