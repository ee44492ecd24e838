"""PBX import pages: upload (format, hotline, all-or-nothing, file), the batch list with filters and Excel
export, one batch with its progress (big files run in the worker) and its per-line error table and export.
Thin: parse, call services.pbx_import / selectors.imports, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bizreg.consultation.forms.imports import FORMAT_HELP, PbxBatchFilterForm, PbxUploadForm
from bizreg.consultation.models import PbxImportBatch
from bizreg.consultation.selectors import imports as selectors
from bizreg.consultation.services import pbx_import as services
from bizreg.core.excel import xlsx_response
from bizreg.core.models import Authority, BackgroundJob
from bizreg.core.scoping import authority_ids_for, default_authority_for

VIEW_PERM = "consultation.view_pbximportbatch"
IMPORT_PERM = "consultation.import_pbx"


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_list(request):
    form = PbxBatchFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.batch_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "consultation/imports/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_export(request):
    form = PbxBatchFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.batch_export_rows(selectors.batch_search(user=request.user, filters=filters))
    filename = _("话单导入批次_%(time)s.xlsx") % {"time": f"{timezone.localtime():%Y%m%d_%H%M%S}"}
    return xlsx_response(title=_("导入批次"), headers=selectors.EXPORT_HEADERS, rows=rows, filename=filename)


def _authority_for_upload(user, hotline) -> Authority:
    if hotline is not None:
        return hotline.authority
    if not user.is_superuser and not authority_ids_for(user):
        raise PermissionDenied(_("您的账号未分配登记机关，不能导入话单。"))
    return default_authority_for(user)


@login_required
@permission_required(IMPORT_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def batch_new(request):
    form = PbxUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        hotline = form.cleaned_data["hotline"]
        try:
            batch = services.pbx_import_submit(
                authority=_authority_for_upload(request.user, hotline),
                actor=request.user,
                format=form.cleaned_data["format"],
                hotline=hotline,
                upload=form.cleaned_data["file"],
                all_or_nothing=form.cleaned_data["all_or_nothing"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("consultation:pbx_import_detail", pk=batch.pk)
    return render(
        request,
        "consultation/imports/new.html",
        {"form": form, "format_help": FORMAT_HELP},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_detail(request, pk: int):
    batch = selectors.batch_for(user=request.user, pk=pk)
    job = selectors.job_for_batch(batch)
    running = batch.status == PbxImportBatch.Status.PENDING and (
        job is not None and job.status in (BackgroundJob.Status.PENDING, BackgroundJob.Status.RUNNING)
    )
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.ERROR_KIND_LABELS else ""
    context = {
        "batch": batch,
        "job": job,
        "running": running,
        "kind": kind,
        "errors": selectors.error_page(batch, page=request.GET.get("page"), kind=kind),
        "kind_labels": selectors.ERROR_KIND_LABELS,
        "query": f"kind={kind}" if kind else "",
        "unmatched": sum(1 for e in batch.errors or [] if e.get("kind") == "unmatched"),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "consultation/imports/_status.html", context)
    return render(request, "consultation/imports/detail.html", context)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_errors_export(request, pk: int):
    batch = selectors.batch_for(user=request.user, pk=pk)
    filename = _("话单导入错误_批次%(pk)d.xlsx") % {"pk": batch.pk}
    return xlsx_response(
        title=_("错误明细"),
        headers=selectors.ERROR_HEADERS,
        rows=selectors.error_export_rows(batch),
        filename=filename,
    )


urlpatterns: list = [
    path("imports/", batch_list, name="pbx_imports"),
    path("imports/export/", batch_export, name="pbx_import_export"),
    path("imports/new/", batch_new, name="pbx_import_new"),
    path("imports/<int:pk>/", batch_detail, name="pbx_import_detail"),
    path("imports/<int:pk>/errors.xlsx", batch_errors_export, name="pbx_import_errors"),
]
