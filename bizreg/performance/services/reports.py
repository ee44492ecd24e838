"""Writes of the self-evaluation report: the narrative, issuing (with the consistency gate) and revising.

The numbers are never stored in the narrative: they are filled in from the data at render. Issuing
freezes what was issued — both files, their SHA-256 and the total score — and is refused while
consistency findings remain that the manager has not acknowledged one by one with a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.models import REPORT_WORKFLOW, EvaluationReport, Project, ReportStatus
from bizreg.performance.rendering import render_report_docx, render_report_pdf, report_filename
from bizreg.performance.selectors.reports import (
    NARRATIVE_FIELDS,
    consistency_findings,
    default_report_title,
    report_context,
)
from bizreg.performance.services.common import record_transition

EDIT_PERMISSION = "performance.change_evaluationreport"
TITLE_MAX = EvaluationReport._meta.get_field("title").max_length
NARRATIVE_MAX = 20_000  # per section; the seed's longest section is about 2,000 characters
REASON_MAX = 500


def report_for_project(*, project: Project) -> EvaluationReport:
    """The project's report, created empty (draft, default title) the first time it is needed."""
    report, _created = EvaluationReport.objects.get_or_create(
        project=project, defaults={"title": default_report_title(project)}
    )
    return report


def _locked(project: Project) -> EvaluationReport:
    report_for_project(project=project)
    return EvaluationReport.objects.select_for_update().select_related("project").get(project=project)


def report_update_narrative(
    *, project: Project, actor, title: str, narrative: Mapping[str, str]
) -> EvaluationReport:
    """Save the title and the seven narrative sections of a draft report."""
    if not actor.has_perm(EDIT_PERMISSION):
        raise PermissionDenied("您的角色无权编辑绩效自评报告。")
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "请填写报告标题。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"报告标题不能超过 {TITLE_MAX} 个字符。"
    unknown = set(narrative) - set(NARRATIVE_FIELDS)
    if unknown:
        errors["__all__"] = f"未知的报告栏目：{'、'.join(sorted(unknown))}。"
    for name, text in narrative.items():
        if name in NARRATIVE_FIELDS and len(text or "") > NARRATIVE_MAX:
            label = EvaluationReport._meta.get_field(name).verbose_name
            errors[name] = f"“{label}”不能超过 {NARRATIVE_MAX} 个字符（当前 {len(text)} 个）。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        report = _locked(project)
        if report.status == ReportStatus.ISSUED:
            raise TransitionNotAllowed("报告已印发，不能修改；如需修改，请由科室负责人先“撤回修改”。")
        report.title = title
        for name in NARRATIVE_FIELDS:
            if name in narrative:
                setattr(report, name, (narrative[name] or "").strip())
        report.save()
    return report


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def report_issue(
    *, project: Project, actor, acknowledgements: Mapping[str, str] | None = None
) -> EvaluationReport:
    """Issue the report (印发). Every current consistency finding must be acknowledged with a reason
    (`acknowledgements`: finding key → reason); the files, their SHA-256 and the total are stored."""
    acknowledgements = {k: (v or "").strip() for k, v in (acknowledgements or {}).items()}
    with transaction.atomic():
        report = _locked(project)
        transition = REPORT_WORKFLOW.check(state=report.status, action="issue", user=actor)
        # Lock the project too: its figures must not change between the checks and the files.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        data = report_context(project)
        findings = consistency_findings(project, data)
        missing = [f for f in findings if not acknowledgements.get(f.key)]
        too_long = [f for f in findings if len(acknowledgements.get(f.key, "")) > REASON_MAX]
        if missing or too_long:
            errors = [f"请确认不一致项并填写理由：{f.message}" for f in missing]
            errors += [f"确认理由不能超过 {REASON_MAX} 个字符：{f.message}" for f in too_long]
            raise ValidationError({"acknowledgements": errors})
        now = timezone.now().replace(microsecond=0)
        report.status = transition.target
        report.issued_at = now
        report.issued_by = actor
        report.updated_at = now
        # Render with the issued state (no draft mark) and the issue time as the document date.
        data = report_context_issued(project, report)
        docx = render_report_docx(data)
        pdf = render_report_pdf(data)
        report.docx_file.save(report_filename(data, "docx"), ContentFile(docx), save=False)
        report.pdf_file.save(report_filename(data, "pdf"), ContentFile(pdf), save=False)
        report.docx_sha256 = _sha256(docx)
        report.pdf_sha256 = _sha256(pdf)
        report.issued_total_score = data.total
        report.acknowledged_findings = [
            {
                "code": f.code,
                "key": f.key,
                "severity": f.severity,
                "message": f.message,
                "reason": acknowledgements[f.key],
                "by": actor.get_username(),
                "at": now.isoformat(),
            }
            for f in findings
        ]
        report.save()
        reason = f"总分 {data.total}，等级{data.grade}"
        if findings:
            reason += f"；确认不一致项 {len(findings)} 项"
        record_transition(
            obj=report,
            action="issue",
            from_state=ReportStatus.DRAFT,
            to_state=report.status,
            actor=actor,
            reason=reason,
        )
    return report


def report_context_issued(project: Project, report: EvaluationReport):
    """The report data as it will be issued (the in-memory report, not yet saved, carries the state)."""
    project.report = report
    return report_context(project)


def report_revise(*, project: Project, actor, reason: str) -> EvaluationReport:
    """Take an issued report back to draft (撤回修改), with the reason; the issued files stay in history."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤回修改的理由。"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"理由不能超过 {REASON_MAX} 个字符。"})
    with transaction.atomic():
        report = _locked(project)
        transition = REPORT_WORKFLOW.check(state=report.status, action="revise", user=actor)
        previous = report.status
        report.status = transition.target
        report.issued_at = None
        report.issued_by = None
        report.save()
        record_transition(
            obj=report,
            action="revise",
            from_state=previous,
            to_state=report.status,
            actor=actor,
            reason=reason,
        )
    return report
