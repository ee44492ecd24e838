"""Pages of the self-evaluation report: list, report page (narrative, findings, score), downloads, issue
and revise. Thin: parse, call the service or selector, render. A project of another authority is 404;
a refused step 409 with the reason; a role without the permission 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.forms.reports import IssueForm, NarrativeForm, ReportFilterForm, ReviseForm
from bizreg.performance.models import REPORT_WORKFLOW, ReportStatus
from bizreg.performance.rendering import render_report_docx, render_report_pdf, report_filename
from bizreg.performance.selectors import reports as selectors
from bizreg.performance.services import reports as services
from bizreg.performance.views.common import form_flow

VIEW_PERMISSION = "performance.view_evaluationreport"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _refused(request, project, message: str, status: int = 409):
    return render(
        request, "performance/reports_refused.html", {"project": project, "message": message}, status=status
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def report_list(request):
    form = ReportFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.report_list_page(user=request.user, filters=filters, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "performance/reports_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


def _page_context(request, project, form=None, issue_form=None, revise_form=None):
    report = selectors.report_of(project)
    data = selectors.report_context(project)
    findings = selectors.consistency_findings(project, data)
    state = report.status if report else ReportStatus.DRAFT
    if form is None:
        form = NarrativeForm(initial=NarrativeForm.initial_for(report, data.title))
    return {
        "project": project,
        "report": report,
        "data": data,
        "findings": findings,
        "form": form,
        "issue_form": issue_form or IssueForm(findings=findings),
        "revise_form": revise_form or ReviseForm(),
        "can_edit": request.user.has_perm(services.EDIT_PERMISSION) and state == ReportStatus.DRAFT,
        "actions": {t.action for t in REPORT_WORKFLOW.available(state=state, user=request.user)},
        "is_issued": state == ReportStatus.ISSUED,
    }


def _report_flow(request, project, form, *, save, message, template, slot):
    """``form_flow`` for a report form: back to the report page on success, the page again (``form`` in the
    context ``slot``) on errors, and a refused step (TransitionNotAllowed) is 409 with the reason."""
    try:
        return form_flow(
            request,
            form,
            save=save,
            message=message,
            done=lambda _: redirect("performance:report", pk=project.pk),
            page=lambda status: render(
                request, template, _page_context(request, project, **{slot: form}), status=status
            ),
        )
    except TransitionNotAllowed as exc:
        return _refused(request, project, str(exc))


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def report(request, pk: int):
    """The report page; POST saves the narrative (finance officer, draft only)."""
    project = selectors.project_for(request.user, pk)
    if request.method == "GET":
        return render(request, "performance/reports_detail.html", _page_context(request, project))
    if not request.user.has_perm(services.EDIT_PERMISSION):
        raise PermissionDenied("您的角色无权编辑绩效自评报告。")
    form = NarrativeForm(request.POST)
    return _report_flow(
        request,
        project,
        form,
        save=lambda data: services.report_update_narrative(
            project=project, actor=request.user, title=data["title"], narrative=form.narrative()
        ),
        message="报告内容已保存。",
        template="performance/reports_detail.html",
        slot="form",
    )


def _download(request, pk: int, extension: str):
    project = selectors.project_for(request.user, pk)
    report = selectors.report_of(project)
    stored = None
    if report is not None and report.status == ReportStatus.ISSUED:
        stored = report.docx_file if extension == "docx" else report.pdf_file
    data = selectors.report_context(project)
    filename = report_filename(data, extension)
    content_type = DOCX if extension == "docx" else "application/pdf"
    if stored:
        # The issued document is the stored file (its SHA-256 is on record), not a new rendering.
        return FileResponse(
            stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type
        )
    body = render_report_docx(data) if extension == "docx" else render_report_pdf(data)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = _attachment(filename)
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def report_docx(request, pk: int):
    return _download(request, pk, "docx")


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def report_pdf(request, pk: int):
    return _download(request, pk, "pdf")


@login_required
@permission_required("performance.issue_report", raise_exception=True)
@require_http_methods(["GET", "POST"])
def report_issue(request, pk: int):
    """The issue form: every consistency finding confirmed with a reason, then 印发."""
    project = selectors.project_for(request.user, pk)
    findings = selectors.consistency_findings(project)
    form = IssueForm(request.POST if request.method == "POST" else None, findings=findings)
    return _report_flow(
        request,
        project,
        form,
        save=lambda _: services.report_issue(
            project=project, actor=request.user, acknowledgements=form.acknowledgements()
        ),
        message="报告已印发，Word 与 PDF 文件已存档。",
        template="performance/reports_issue.html",
        slot="issue_form",
    )


@login_required
@permission_required("performance.issue_report", raise_exception=True)
@require_POST
def report_revise(request, pk: int):
    project = selectors.project_for(request.user, pk)
    form = ReviseForm(request.POST)
    return _report_flow(
        request,
        project,
        form,
        save=lambda data: services.report_revise(project=project, actor=request.user, reason=data["reason"]),
        message="报告已撤回修改，恢复为草稿。",
        template="performance/reports_detail.html",
        slot="revise_form",
    )


urlpatterns: list = [
    path("reports/", report_list, name="report_list"),
    path("projects/<int:pk>/report/", report, name="report"),
    path("projects/<int:pk>/report/docx/", report_docx, name="report_docx"),
    path("projects/<int:pk>/report/pdf/", report_pdf, name="report_pdf"),
    path("projects/<int:pk>/report/issue/", report_issue, name="report_issue"),
    path("projects/<int:pk>/report/revise/", report_revise, name="report_revise"),
]
