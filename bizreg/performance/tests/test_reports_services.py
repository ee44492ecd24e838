"""Report services and checks: narrative edits, issue with the consistency gate, revise, and each check
on its own (bad input refused with a clear message, nothing changed)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.models import (
    AdjustmentStatus,
    BudgetLine,
    Direction,
    EvaluationReport,
    Indicator,
    IndicatorAdjustment,
    Level1,
    Level2,
    PerformanceTransitionLog,
    Project,
    ProjectComponent,
    ReportStatus,
)
from bizreg.performance.selectors.reports import consistency_findings, findings_by_code, report_context
from bizreg.performance.services import reports as services
from bizreg.performance.tests.test_golden_seed_2023 import fix_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def acknowledge_all(project: Project) -> dict[str, str]:
    return {f.key: "已核实，按财务系统数据印发" for f in consistency_findings(project)}


def small_project(authority, **kw) -> Project:
    values = {
        "code": "P1",
        "name": "测试项目",
        "fiscal_year": 2024,
        "department": "测试局",
        "period_start": dt.date(2024, 1, 1),
        "period_end": dt.date(2024, 12, 31),
        "initial_budget": Decimal("1000000"),
        "adjusted_budget": Decimal("1000000"),
    }
    values.update(kw)
    return Project.objects.create(authority=authority, **values)


def set_text(project: Project, **narrative) -> None:
    report, _ = EvaluationReport.objects.get_or_create(project=project, defaults={"title": "报告"})
    for name, text in narrative.items():
        setattr(report, name, text)
    report.save()
    project.refresh_from_db()


def indicator(project, code, name, direction=Direction.AT_LEAST, **kw) -> Indicator:
    values = {
        "level1": Level1.OUTPUT,
        "level2": Level2.QUANTITY,
        "target_value": Decimal(100) if direction != Direction.QUALITATIVE else None,
        "target_text": "有效" if direction == Direction.QUALITATIVE else "",
        "weight": Decimal(10),
    }
    values.update(kw)
    return Indicator.objects.create(project=project, code=code, name=name, direction=direction, **values)


# --- narrative -----------------------------------------------------------------------------------------


def test_officer_edits_narrative(seed_2023, officer):
    report = services.report_update_narrative(
        project=seed_2023, actor=officer, title="新标题", narrative={"problems": "  新的问题说明。 "}
    )
    report.refresh_from_db()
    assert report.title == "新标题"
    assert report.problems == "新的问题说明。"
    assert report.overview.startswith("（一）项目单位情况")  # untouched sections stay


def test_narrative_creates_the_report_for_a_new_project(authority, officer):
    project = small_project(authority)
    services.report_update_narrative(
        project=project, actor=officer, title="2024 报告", narrative={"overview": "概述"}
    )
    assert EvaluationReport.objects.get(project=project).overview == "概述"


@pytest.mark.parametrize(
    ("title", "narrative", "field"),
    [
        ("", {}, "title"),
        ("   ", {}, "title"),
        ("标" * 201, {}, "title"),
        ("标题", {"problems": "字" * 20_001}, "problems"),
        ("标题", {"secret": "x"}, "__all__"),
    ],
)
def test_narrative_bad_input_refused(seed_2023, officer, title, narrative, field):
    before = EvaluationReport.objects.get(project=seed_2023)
    with pytest.raises(ValidationError) as exc:
        services.report_update_narrative(project=seed_2023, actor=officer, title=title, narrative=narrative)
    assert field in exc.value.message_dict
    after = EvaluationReport.objects.get(project=seed_2023)
    assert (after.title, after.problems) == (before.title, before.problems)


def test_manager_may_not_edit_narrative(seed_2023, manager):
    with pytest.raises(PermissionDenied):
        services.report_update_narrative(project=seed_2023, actor=manager, title="x", narrative={})


def test_narrative_refused_when_issued(seed_2023, officer, manager):
    services.report_issue(project=seed_2023, actor=manager, acknowledgements=acknowledge_all(seed_2023))
    with pytest.raises(TransitionNotAllowed, match="已印发"):
        services.report_update_narrative(
            project=seed_2023, actor=officer, title="改", narrative={"problems": "改"}
        )
    assert EvaluationReport.objects.get(project=seed_2023).problems.startswith("对绩效目标管理")


# --- issue and revise ----------------------------------------------------------------------------------


def test_issue_refused_while_findings_are_not_acknowledged(seed_2023, manager):
    keys = acknowledge_all(seed_2023)
    partial = dict(list(keys.items())[:-1])
    for acks in ({}, partial, dict.fromkeys(keys, "   ")):
        with pytest.raises(ValidationError) as exc:
            services.report_issue(project=seed_2023, actor=manager, acknowledgements=acks)
        assert "请确认不一致项并填写理由" in exc.value.message_dict["acknowledgements"][0]
    report = EvaluationReport.objects.get(project=seed_2023)
    assert report.status == ReportStatus.DRAFT
    assert not report.docx_sha256 and not report.docx_file
    assert not PerformanceTransitionLog.objects.filter(object_type="evaluationreport").exists()


def test_issue_with_acknowledgements_stores_files_hashes_and_score(seed_2023, manager):
    acks = acknowledge_all(seed_2023)
    assert len(acks) == 7
    report = services.report_issue(project=seed_2023, actor=manager, acknowledgements=acks)
    report.refresh_from_db()
    assert report.status == ReportStatus.ISSUED
    assert report.issued_by == manager and report.issued_at is not None
    assert report.issued_total_score == Decimal("99.44")
    docx, pdf = report.docx_file.read(), report.pdf_file.read()
    assert hashlib.sha256(docx).hexdigest() == report.docx_sha256
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    assert {a["key"] for a in report.acknowledged_findings} == set(acks)
    assert all(a["reason"] == "已核实，按财务系统数据印发" for a in report.acknowledged_findings)
    log = PerformanceTransitionLog.objects.get(object_type="evaluationreport", object_id=report.pk)
    assert (log.action, log.from_state, log.to_state, log.actor) == ("issue", "draft", "issued", manager)
    assert "99.44" in log.reason
    # The issued file carries no draft mark, and re-rendering the issued state gives the same bytes.
    from bizreg.performance.rendering import render_report_pdf
    from bizreg.performance.tests.test_golden_seed_2023 import pdf_text

    assert "草稿" not in pdf_text(pdf)
    seed_2023.refresh_from_db()
    assert hashlib.sha256(render_report_pdf(report_context(seed_2023))).hexdigest() == report.pdf_sha256


def test_issue_corrected_seed_needs_no_acknowledgement(seed_2023, manager):
    fix_seed(seed_2023)
    report = services.report_issue(project=seed_2023, actor=manager)
    assert report.status == ReportStatus.ISSUED
    assert report.acknowledged_findings == []


def test_officer_may_not_issue(seed_2023, officer):
    with pytest.raises(PermissionDenied):
        services.report_issue(project=seed_2023, actor=officer, acknowledgements=acknowledge_all(seed_2023))
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.DRAFT


def test_issue_twice_refused(seed_2023, manager):
    services.report_issue(project=seed_2023, actor=manager, acknowledgements=acknowledge_all(seed_2023))
    with pytest.raises(TransitionNotAllowed):
        services.report_issue(project=seed_2023, actor=manager, acknowledgements=acknowledge_all(seed_2023))


def test_revise_needs_a_reason_and_an_issued_report(seed_2023, manager):
    with pytest.raises(TransitionNotAllowed):
        services.report_revise(project=seed_2023, actor=manager, reason="修改")
    services.report_issue(project=seed_2023, actor=manager, acknowledgements=acknowledge_all(seed_2023))
    with pytest.raises(ValidationError) as exc:
        services.report_revise(project=seed_2023, actor=manager, reason="  ")
    assert "reason" in exc.value.message_dict
    assert EvaluationReport.objects.get(project=seed_2023).status == ReportStatus.ISSUED
    report = services.report_revise(project=seed_2023, actor=manager, reason="补充偏差说明")
    assert report.status == ReportStatus.DRAFT
    log = PerformanceTransitionLog.objects.filter(object_type="evaluationreport").last()
    assert (log.action, log.reason) == ("revise", "补充偏差说明")


def test_officer_may_not_revise(seed_2023, manager, officer):
    services.report_issue(project=seed_2023, actor=manager, acknowledgements=acknowledge_all(seed_2023))
    with pytest.raises(PermissionDenied):
        services.report_revise(project=seed_2023, actor=officer, reason="改")


# --- report data ---------------------------------------------------------------------------------------


def test_report_shows_original_and_adjusted_targets(seed_2023, officer, manager):
    volume = seed_2023.indicators.get(code="1")
    IndicatorAdjustment.objects.create(
        indicator=volume,
        status=AdjustmentStatus.APPROVED,
        old_target_value=Decimal(382000),
        new_target_value=Decimal(360000),
        old_weight=Decimal(10),
        new_weight=Decimal(10),
        reason="疫情后企业投资意愿保守，业务量不如预期",
        requested_by=officer,
        decided_by=manager,
        decided_at=dt.datetime(2023, 7, 10, 10, tzinfo=dt.UTC),
    )
    volume.target_value = Decimal(360000)
    volume.save()
    data = report_context(seed_2023)
    row = data.indicators[0]
    assert (row.target, row.original_target, row.adjusted, row.met) == ("≥360000件", "≥382000件", True, True)
    assert data.total == Decimal("100.00")
    assert [a.reason for a in data.adjustments] == ["疫情后企业投资意愿保守，业务量不如预期"]
    from bizreg.performance.rendering import report_blocks

    texts = [getattr(b, "text", "") for b in report_blocks(data)]
    assert any("由≥382000件调整为≥360000件" in t for t in texts)
    tables = [b.rows for b in report_blocks(data) if hasattr(b, "rows")]
    assert tables[0][1] == ("1", "业务服务量", "≥360000件（原≥382000件）")


def test_report_of_project_without_data_does_not_crash(authority):
    project = small_project(authority, adjusted_budget=Decimal(0), initial_budget=Decimal(0))
    data = report_context(project)
    assert data.total == Decimal("0.00") and data.grade == "差"
    assert consistency_findings(project) == []
    from bizreg.performance.rendering import render_report_docx, render_report_pdf

    assert render_report_docx(data)[:2] == b"PK"
    assert render_report_pdf(data)[:5] == b"%PDF-"


# --- each consistency check ----------------------------------------------------------------------------


def test_year_check_ignores_title_law_numbers_and_past_dates(authority):
    project = small_project(authority)
    set_text(
        project,
        overview="根据穗南开管〔2017〕2号、粤市监财（2022）543号文件，2018年8月1日召开专题会议。"
        "2024 年度项目单位情况如下。参照《政府采购工作指引（2022年版）》执行。",
        analysis="与2023年度同期业务量相比有所增长。",
    )
    assert findings_by_code(consistency_findings(project)).get("year_mismatch") is None


@pytest.mark.parametrize(
    "text",
    ["根据2022年度本项目预算申报表设置指标。", "按照 2023 年度绩效目标执行。", "2025年度项目预算已下达。"],
)
def test_year_check_flags_other_years_budget_documents(authority, text):
    project = small_project(authority)
    set_text(project, goals_note=text)
    [finding] = findings_by_code(consistency_findings(project))["year_mismatch"]
    assert finding.subject in text


def test_indicator_count_check(authority):
    project = small_project(authority)
    indicator(project, "1", "业务服务量")
    indicator(project, "2", "满意度", Direction.QUALITATIVE)
    set_text(project, goals_note="具体设置三个绩效指标。")
    grouped = findings_by_code(consistency_findings(project))
    assert grouped["indicator_count"][0].subject == "3"
    assert "indicator_quantified" not in grouped
    set_text(project, goals_note="具体设置两个指标。")  # 两 is not a count the check reads: not flagged
    set_text(project, goals_note="具体设置2个量化指标。")
    grouped = findings_by_code(consistency_findings(project))
    assert "indicator_count" not in grouped
    assert "1 个为定性指标" in grouped["indicator_quantified"][0].message


def test_indicator_name_check_accepts_names_with_unit_suffix(authority):
    project = small_project(authority)
    indicator(project, "1", "咨询热线接听率")
    set_text(project, analysis="质量指标“咨询热线接听率（%）”达到 100%，数量指标“办件量”未达到。")
    [finding] = findings_by_code(consistency_findings(project))["indicator_name"]
    assert finding.subject == "办件量"


def test_component_and_line_checks(authority):
    project = small_project(authority, adjusted_budget=Decimal("300"))
    a = BudgetLine.objects.create(project=project, code="A", name="甲明细", amount=Decimal("100"))
    BudgetLine.objects.create(project=project, code="B", name="乙明细", amount=Decimal("200"))
    component = ProjectComponent.objects.create(project=project, name="甲子项目")
    component.lines.add(a)
    ProjectComponent.objects.create(project=project, name="丙子项目")
    grouped = findings_by_code(consistency_findings(project))
    assert [f.subject for f in grouped["component_without_line"]] == ["丙子项目"]
    assert [f.subject for f in grouped["line_without_component"]] == ["B"]
    assert grouped["line_without_component"][0].severity == "warning"
    assert "lines_total" not in grouped


def test_quoted_budget_and_execution_check(authority):
    project = small_project(authority, reported_execution=Decimal("995000"))
    set_text(project, analysis="全年预算数为 100 万元，执行数为 99.5 万元。调整后预算数为 101 万元。")
    grouped = findings_by_code(consistency_findings(project))
    assert "execution_quoted" not in grouped
    [budget] = grouped["budget_quoted"]
    assert "101" in budget.message and "100.00" in budget.message
    set_text(project, analysis="执行数为 100 万元。")
    assert "execution_quoted" in findings_by_code(consistency_findings(project))
