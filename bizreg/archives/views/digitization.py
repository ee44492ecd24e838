"""Digitization pages: the batch list (filters, Excel export), a new batch, one batch with its pages,
progress while the worker processes it, the scan upload, the QA page (sampled pages, decisions), one
page (original and processed image, OCR text, checks, QA, replacement scan). Thin: forms → services.
digitization / selectors.digitization. A step refused for the batch's state answers 409 with the reason,
a role that may not take it 403."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.archives import workflows
from bizreg.archives.forms_digitization import (
    BatchCreateForm,
    BatchFilterForm,
    PageQaForm,
    PageReplaceForm,
    ReasonForm,
    ScanUploadForm,
)
from bizreg.archives.models import BatchState
from bizreg.archives.selectors import digitization as selectors
from bizreg.archives.services import digitization as services
from bizreg.archives.views.common import conflict, query_without_page
from bizreg.core.excel import xlsx_response
from bizreg.core.models import BackgroundJob
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed

VIEW_PERM = "archives.view_digitizationbatch"
OPERATE_PERM = "archives.operate_digitization"
QA_PERM = "archives.qa_digitization"


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_list(request):
    form = BatchFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.batch_page(user=request.user, filters=filters, page=request.GET.get("page"))
    return render(
        request,
        "archives/digitization/list.html",
        {"form": form, "page": page, "query": query_without_page(request)},
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_export(request):
    form = BatchFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.batch_export_rows(selectors.batch_search(user=request.user, filters=filters))
    filename = _("数字化批次_%(time)s.xlsx") % {"time": f"{timezone.localtime():%Y%m%d_%H%M%S}"}
    return xlsx_response(
        title=_("数字化批次"), headers=selectors.EXPORT_HEADERS, rows=rows, filename=filename
    )


@login_required
@permission_required(OPERATE_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def batch_new(request):
    form = BatchCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        transfer = form.cleaned_data["transfer"]
        try:
            batch = services.batch_create(
                authority=transfer.authority if transfer else default_authority_for(request.user),
                actor=request.user,
                transfer=transfer,
                sample_percent=form.cleaned_data["sample_percent"],
                pass_mark_percent=form.cleaned_data["pass_mark_percent"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已新建批次 %(n)s，请上传扫描件。") % {"n": batch.number})
            return redirect("archives:batch_detail", pk=batch.pk)
    return render(
        request, "archives/digitization/new.html", {"form": form}, status=400 if form.errors else 200
    )


def _running(batch) -> bool:
    job = batch.job
    return job is not None and job.status in (BackgroundJob.Status.PENDING, BackgroundJob.Status.RUNNING)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_detail(request, pk: int):
    batch = selectors.batch_for(user=request.user, pk=pk)
    show = request.GET.get("show", "")
    show = show if show in selectors.PAGE_FILTERS else ""
    context = {
        "batch": batch,
        "job": batch.job,
        "running": _running(batch),
        "verdict": services.batch_qa_verdict(batch) if batch.state == BatchState.QA else None,
        "pages": selectors.batch_pages(batch=batch, show=show, page=request.GET.get("page")),
        "show": show,
        "page_filters": selectors.PAGE_FILTERS,
        "query": f"show={show}" if show else "",
        "actions": [t.action for t in workflows.BATCH.available(state=batch.state, user=request.user)],
        "upload_form": ScanUploadForm(),
        "events": selectors.batch_events(batch),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "archives/digitization/_status.html", context)
    return render(request, "archives/digitization/detail.html", context)


@login_required
@permission_required(OPERATE_PERM, raise_exception=True)
@require_POST
def batch_upload(request, pk: int):
    batch = selectors.batch_for(user=request.user, pk=pk)
    form = ScanUploadForm(request.POST, request.FILES)
    back = reverse("archives:batch_detail", args=[batch.pk])
    if not form.is_valid():
        messages.error(request, _("请选择要上传的扫描文件。"))
        return redirect(back)
    files = [(f.name, f.read()) for f in form.cleaned_data["files"]]
    try:
        result = services.batch_add_scans(batch=batch, actor=request.user, files=files)
    except ValidationError as exc:
        return conflict(request, " ".join(exc.messages), back)
    if result.pages_added:
        messages.success(
            request,
            _("已接收 %(files)d 个文件，共 %(pages)d 页。")
            % {"files": result.files_accepted, "pages": result.pages_added},
        )
    for rejected in result.rejected:
        messages.error(request, _("未接收 %(file)s：%(message)s") % rejected)
    return redirect(back)


def _batch_step(request, pk: int, step):
    batch = selectors.batch_for(user=request.user, pk=pk)
    back = reverse("archives:batch_detail", args=[batch.pk])
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        outcome = step(batch, reason)
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        return conflict(request, " ".join(exc.messages), back)
    if isinstance(outcome, str):
        messages.success(request, outcome)
    return redirect(back)


@login_required
@permission_required(OPERATE_PERM, raise_exception=True)
@require_POST
def batch_process(request, pk: int):
    def step(batch, _reason):
        services.batch_start_processing(batch=batch, actor=request.user)
        return _("已提交后台处理：图像处理、文字识别、著录标引。")

    return _batch_step(request, pk, step)


@login_required
@permission_required(OPERATE_PERM, raise_exception=True)
@require_POST
def batch_submit_qa(request, pk: int):
    def step(batch, _reason):
        batch = services.batch_submit_qa(batch=batch, actor=request.user)
        return _("已提交质检，抽检 %(n)d 页。") % {"n": batch.qa_sampled}

    return _batch_step(request, pk, step)


@login_required
@permission_required(QA_PERM, raise_exception=True)
@require_POST
def batch_decide(request, pk: int):
    def step(batch, reason):
        outcome = services.batch_qa_decide(batch=batch, actor=request.user, reason=reason)
        if isinstance(outcome, BackgroundJob):
            return _("质检通过，正在生成可检索 PDF 入库。")
        return _("质检未通过，已退回返工。")

    return _batch_step(request, pk, step)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def batch_qa(request, pk: int):
    batch = selectors.batch_for(user=request.user, pk=pk)
    return render(
        request,
        "archives/digitization/qa.html",
        {"batch": batch, "queue": selectors.qa_queue(batch), "verdict": services.batch_qa_verdict(batch)},
    )


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def page_detail(request, pk: int):
    page = selectors.page_for(user=request.user, pk=pk)
    return render(
        request,
        "archives/digitization/page.html",
        {
            "scan": page,
            "batch": page.batch,
            "qa_form": PageQaForm(),
            "replace_form": PageReplaceForm(),
            "errors": services.page_errors(page),
        },
    )


@login_required
@permission_required(QA_PERM, raise_exception=True)
@require_POST
def page_qa(request, pk: int):
    page = selectors.page_for(user=request.user, pk=pk)
    back = reverse("archives:scan_page", args=[page.pk])
    form = PageQaForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择质检结论。"))
        return redirect(back)
    try:
        services.page_qa(
            page=page,
            actor=request.user,
            passed=form.cleaned_data["decision"] == "pass",
            note=form.cleaned_data["note"],
        )
    except TransitionNotAllowed as exc:
        return conflict(request, str(exc), back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("第 %(n)d 页质检结论已保存。") % {"n": page.sequence})
    return redirect(request.POST.get("next") or reverse("archives:batch_qa", args=[page.batch_id]))


@login_required
@permission_required(OPERATE_PERM, raise_exception=True)
@require_POST
def page_replace(request, pk: int):
    page = selectors.page_for(user=request.user, pk=pk)
    back = reverse("archives:scan_page", args=[page.pk])
    form = PageReplaceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择重新扫描的图像。"))
        return redirect(back)
    upload = form.cleaned_data["file"]
    try:
        services.page_replace(page=page, actor=request.user, filename=upload.name, data=upload.read())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("已替换第 %(n)d 页，重新处理后生效。") % {"n": page.sequence})
    return redirect(back)


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
@require_GET
def page_image(request, pk: int, kind: str):
    page = selectors.page_for(user=request.user, pk=pk)
    stored = page.processed if kind == "processed" else page.original if kind == "original" else None
    if not stored:
        raise Http404(_("该图像不存在。"))
    content_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    return response


urlpatterns: list = [
    path("digitization/", batch_list, name="batches"),
    path("digitization/export/", batch_export, name="batch_export"),
    path("digitization/new/", batch_new, name="batch_new"),
    path("digitization/<int:pk>/", batch_detail, name="batch_detail"),
    path("digitization/<int:pk>/upload/", batch_upload, name="batch_upload"),
    path("digitization/<int:pk>/process/", batch_process, name="batch_process"),
    path("digitization/<int:pk>/submit-qa/", batch_submit_qa, name="batch_submit_qa"),
    path("digitization/<int:pk>/qa/", batch_qa, name="batch_qa"),
    path("digitization/<int:pk>/decide/", batch_decide, name="batch_decide"),
    path("digitization/pages/<int:pk>/", page_detail, name="scan_page"),
    path("digitization/pages/<int:pk>/qa/", page_qa, name="scan_page_qa"),
    path("digitization/pages/<int:pk>/replace/", page_replace, name="scan_page_replace"),
    path("digitization/pages/<int:pk>/image/<str:kind>/", page_image, name="scan_page_image"),
]
