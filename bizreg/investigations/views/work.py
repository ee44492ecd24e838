"""The investigation's work pages: field checks (assign, contact attempts, the immutable report and its
corrections), evidence (upload, correction, download) and the case documents (.docx / PDF)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core import services as core_services
from bizreg.core.models import AccessLog
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.investigations.forms import (
    ContactAttemptForm,
    DocumentForm,
    EvidenceCorrectionForm,
    EvidenceForm,
    FieldCheckCorrectionForm,
    FieldCheckForm,
    FieldCheckReportForm,
)
from bizreg.investigations.models import FieldCheckState
from bizreg.investigations.selectors import cases as selectors
from bizreg.investigations.services import documents as document_services
from bizreg.investigations.services import evidence as evidence_services
from bizreg.investigations.services import field_checks as checks
from bizreg.investigations.views.cases import case_page_context
from bizreg.investigations.views.common import conflict, investigation_page


def _case_url(case) -> str:
    return reverse("investigations:case_detail", args=[case.pk])


def _require_change(request) -> None:
    if not request.user.has_perm("investigations.change_investigationcase"):
        raise PermissionDenied("您的角色无权办理调查。")


# --- field checks -----------------------------------------------------------------------------------


@investigation_page
@require_http_methods(["GET", "POST"])
def field_check_new(request, pk: int):
    _require_change(request)
    case = selectors.case_for(user=request.user, pk=pk)
    form = FieldCheckForm(request.POST or None, enterprises=selectors.case_enterprise_choices(case=case))
    if request.method == "POST" and form.is_valid():
        try:
            check = checks.field_check_assign(case=case, actor=request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), _case_url(case))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "已派发实地核查任务。")
            return redirect("investigations:field_check_detail", pk=check.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "investigations/field_check_new.html", {"case": case, "form": form}, status=status)


def _field_check_context(request, check, **forms) -> dict:
    open_for_work = check.state == FieldCheckState.ASSIGNED and check.case.is_open
    may_change = request.user.has_perm("investigations.change_investigationcase") and check.case.is_open
    return {
        "check": check,
        "case": check.case,
        "attempts": check.contact_attempts.all(),
        "evidence": check.evidence.order_by("uploaded_at", "id"),
        "versions": selectors.field_check_versions(field_check=check),
        "may_work": may_change and open_for_work,
        "may_correct": may_change and check.state == FieldCheckState.SUBMITTED,
        "attempt_form": forms.get("attempt_form") or ContactAttemptForm(),
        "report_form": forms.get("report_form") or FieldCheckReportForm(),
        "correction_form": forms.get("correction_form")
        or FieldCheckCorrectionForm(
            initial={"visited_at": check.visited_at, "result": check.result, "findings": check.findings}
        ),
    }


@investigation_page
@require_GET
def field_check_detail(request, pk: int):
    check = selectors.field_check_for(user=request.user, pk=pk)
    return render(request, "investigations/field_check_detail.html", _field_check_context(request, check))


def _field_check_step(request, pk: int, *, form_class, form_key: str, step, done):
    """One POST on the field-check page: the form, the service, the message and the page it leads to
    (`done(result)` gives both), or the page again with the form's errors."""
    _require_change(request)
    check = selectors.field_check_for(user=request.user, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            result = step(field_check=check, actor=request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), _case_url(check.case))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            message, target = done(check, result)
            messages.success(request, message)
            return redirect("investigations:field_check_detail", pk=target.pk)
    context = _field_check_context(request, check, **{form_key: form})
    return render(request, "investigations/field_check_detail.html", context, status=400)


@investigation_page
@require_POST
def field_check_attempt(request, pk: int):
    return _field_check_step(
        request,
        pk,
        form_class=ContactAttemptForm,
        form_key="attempt_form",
        step=checks.contact_attempt_add,
        done=lambda check, _attempt: ("已记录联系情况。", check),
    )


@investigation_page
@require_POST
def field_check_submit(request, pk: int):
    return _field_check_step(
        request,
        pk,
        form_class=FieldCheckReportForm,
        form_key="report_form",
        step=checks.field_check_submit,
        done=lambda check, _submitted: ("核查记录已提交，此后不可修改；如需更正请提交更正版本。", check),
    )


@investigation_page
@require_POST
def field_check_correct(request, pk: int):
    return _field_check_step(
        request,
        pk,
        form_class=FieldCheckCorrectionForm,
        form_key="correction_form",
        step=checks.field_check_correct,
        done=lambda _check, corrected: (
            f"已提交更正版本（第 {corrected.version} 版），原记录保留。",
            corrected,
        ),
    )


# --- evidence ----------------------------------------------------------------------------------------


@investigation_page
@require_http_methods(["GET", "POST"])
def evidence_new(request, pk: int):
    _require_change(request)
    case = selectors.case_for(user=request.user, pk=pk)
    case_checks = selectors.case_field_checks(case=case)
    initial = {"field_check": request.GET.get("field_check")} if request.GET.get("field_check") else None
    form = EvidenceForm(
        request.POST or None, request.FILES or None, field_checks=case_checks, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = evidence_services.evidence_add(case=case, actor=request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), _case_url(case))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已保存证据“{item.file_name}”，SHA-256 {item.sha256[:16]}…")
            if item.field_check_id:
                return redirect("investigations:field_check_detail", pk=item.field_check_id)
            return redirect(_case_url(case))
    status = 400 if request.method == "POST" else 200
    return render(request, "investigations/evidence_new.html", {"case": case, "form": form}, status=status)


@investigation_page
@require_http_methods(["GET", "POST"])
def evidence_correct(request, pk: int):
    _require_change(request)
    item = selectors.evidence_for(user=request.user, pk=pk)
    form = EvidenceCorrectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            evidence_services.evidence_correct(evidence=item, actor=request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), _case_url(item.case))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "已保存更正版本，原文件保留。")
            return redirect(_case_url(item.case))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "investigations/evidence_correct.html", {"item": item, "form": form}, status=status
    )


@investigation_page
@require_GET
def evidence_download(request, pk: int):
    item = selectors.evidence_for(user=request.user, pk=pk)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.VIEW,
        object_type="investigations.Evidence",
        object_id=item.pk,
        object_label=f"{item.case.number} {item.file_name}",
        fields="证据文件",
        authority=item.case.authority,
        request=request,
    )
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    response["Content-Disposition"] = content_disposition_header(False, item.file_name)
    return response


# --- documents ---------------------------------------------------------------------------------------


@investigation_page
@require_POST
def document_issue(request, pk: int):
    case = selectors.case_for(user=request.user, pk=pk)
    form = DocumentForm(request.POST)
    if form.is_valid():
        try:
            document = document_services.document_issue(case=case, actor=request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            return conflict(request, str(exc), _case_url(case))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"已出具{document.get_kind_display()} {document.number}。")
            return redirect(_case_url(case))
    context = case_page_context(request, case, document_form=form)
    return render(request, "investigations/case_detail.html", context, status=400)


@investigation_page
@require_GET
def document_download(request, pk: int, fmt: str):
    if fmt not in ("pdf", "docx"):
        raise Http404("没有该格式。")
    document = selectors.document_for(user=request.user, pk=pk)
    content = document_services.document_render(document, fmt)
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        object_type="investigations.CaseDocument",
        object_id=document.pk,
        object_label=f"{document.case.number} {document.number}",
        fields=document.get_kind_display(),
        authority=document.authority,
        request=request,
    )
    content_type = (
        "application/pdf"
        if fmt == "pdf"
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response = FileResponse(iter([content]), content_type=content_type)
    filename = document_services.document_filename(document, fmt)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


urlpatterns = [
    path("<int:pk>/field-checks/new/", field_check_new, name="field_check_new"),
    path("field-checks/<int:pk>/", field_check_detail, name="field_check_detail"),
    path("field-checks/<int:pk>/attempts/", field_check_attempt, name="field_check_attempt"),
    path("field-checks/<int:pk>/submit/", field_check_submit, name="field_check_submit"),
    path("field-checks/<int:pk>/correct/", field_check_correct, name="field_check_correct"),
    path("<int:pk>/evidence/new/", evidence_new, name="evidence_new"),
    path("evidence/<int:pk>/correct/", evidence_correct, name="evidence_correct"),
    path("evidence/<int:pk>/download/", evidence_download, name="evidence_download"),
    path("<int:pk>/documents/issue/", document_issue, name="document_issue"),
    path("documents/<int:pk>/<slug:fmt>/", document_download, name="document_download"),
]
