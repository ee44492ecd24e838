"""Pages of the import of online submissions (一网通办). Thin: the work runs as a background job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import services as core_services
from bizreg.core.excel import XLSX
from bizreg.core.models import Authority, BackgroundJob
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.enterprises.excel import build_error_report
from bizreg.registration.forms.imports import OnlineImportForm
from bizreg.registration.selectors import imports as selectors
from bizreg.registration.services import imports as services

PERM = "registration.add_registrationcase"


def _authority_of(user) -> Authority:
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
    return default_authority_for(user)


@login_required
@permission_required(PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = OnlineImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.online_import_submit(
                authority=_authority_of(request.user),
                actor=request.user,
                upload=form.cleaned_data["file"],
                good_rows_only=form.cleaned_data["good_rows_only"],
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages[0])
        else:
            return redirect("registration:online_import_status", job_pk=job.pk)
    status = 400 if request.method == "POST" else 200
    jobs = selectors.import_jobs_visible_to(request.user)[:10]
    return render(request, "registration/imports_upload.html", {"form": form, "jobs": jobs}, status=status)


@login_required
@permission_required(PERM, raise_exception=True)
@require_GET
def import_template(request):
    response = HttpResponse(services.build_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "一网通办申请导入模板.xlsx")
    return response


@login_required
@permission_required(PERM, raise_exception=True)
@require_GET
def import_status(request, job_pk: int):
    job = selectors.import_job_for(user=request.user, pk=job_pk)
    result = job.result or {}
    context = {
        "job": job,
        "result": result,
        "errors": (result.get("errors") or [])[:500],
        "cases": (result.get("cases") or [])[:200],
        "finished": job.status in (BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.FAILED),
        "can_retry": job.status == BackgroundJob.Status.FAILED and job.created_by_id == request.user.pk,
    }
    if request.htmx:
        return render(request, "registration/imports_status_partial.html", context)
    return render(request, "registration/imports_status.html", context)


@login_required
@permission_required(PERM, raise_exception=True)
@require_GET
def import_errors(request, job_pk: int):
    job = selectors.import_job_for(user=request.user, pk=job_pk)
    errors = [
        {
            "row": e.get("row"),
            "column": e.get("column") or "",
            "message": f"[{e.get('external_id', '')}] {e.get('message', '')}",
        }
        for e in (job.result or {}).get("errors") or []
    ]
    response = HttpResponse(build_error_report(errors), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"一网通办导入-{job.pk}-错误报告.xlsx")
    return response


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def import_retry(request, job_pk: int):
    job = selectors.import_job_for(user=request.user, pk=job_pk)
    try:
        core_services.job_retry(job=job, actor=request.user)
    except core_services.JobNotRetryable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已重新排队导入。"))
    return redirect("registration:online_import_status", job_pk=job.pk)
