"""The seed as the golden case (issue 4, item 8): its figures give 99.44 and 优, the generated .docx and PDF
say so, and the consistency check finds the seed's own discrepancies — and nothing once they are fixed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from docx import Document
from pypdf import PdfReader

from bizreg.performance.models import BudgetLine, Payment, Project
from bizreg.performance.rendering import render_report_docx, render_report_pdf
from bizreg.performance.selectors.measurements import evaluate_project
from bizreg.performance.selectors.reports import consistency_findings, findings_by_code, report_context
from bizreg.performance.services.golden import load_seed_2023

pytestmark = pytest.mark.django_db

SECTIONS = (
    "一、项目概述",
    "二、财政支出情况",
    "三、项目管理情况",
    "四、绩效目标和指标设定情况",
    "五、综合评价分析",
    "六、存在的主要问题",
    "七、下一步改进措施",
)


def docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # Table cells wrap inside narrow columns: compare without the line breaks.
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def test_seed_scores_99_44_and_grade_excellent(seed_2023):
    evaluation = evaluate_project(seed_2023)
    assert evaluation.total == Decimal("99.44")
    assert evaluation.grade == "优"
    assert evaluation.budget.score == Decimal("10.00")
    not_met = [row.name for row in evaluation.indicators if not row.met]
    assert not_met == ["业务服务量"]
    volume = next(row for row in evaluation.indicators if row.name == "业务服务量")
    assert volume.score == Decimal("9.44")
    assert volume.achievement == Decimal("0.944")


def test_seed_figures_as_printed(seed_2023):
    data = report_context(seed_2023)
    assert seed_2023.status == "active"
    assert data.adjusted_budget == Decimal("9431000.00")
    assert data.executed == Decimal("9430700.00")
    assert data.lines_total == Decimal("9430000.00")
    assert data.payments == Decimal("9430000.00")
    assert len(data.lines) == 9
    assert (data.indicator_count, data.quantitative_count, data.qualitative_count) == (10, 6, 4)
    assert [row.name for row in data.deviations] == ["业务服务量"]
    assert all(not i.metric_key for i in seed_2023.indicators.all())


def test_loader_is_idempotent(authority, seed_2023):
    again = load_seed_2023(authority)
    assert again.pk == seed_2023.pk
    assert Project.objects.filter(authority=authority, code="JJFWSP", fiscal_year=2023).count() == 1
    assert BudgetLine.objects.filter(project=seed_2023).count() == 9


def test_loader_per_authority(authority, other_authority, seed_2023):
    other = load_seed_2023(other_authority)
    assert other.pk != seed_2023.pk
    assert other.authority == other_authority


def test_management_command(authority, capsys):
    call_command("load_seed_2023", "--authority", authority.code)
    call_command("load_seed_2023", "--authority", authority.code)
    assert Project.objects.filter(authority=authority, fiscal_year=2023).count() == 1
    out = capsys.readouterr().out
    assert "99.44" in out and "优" in out


def test_management_command_unknown_authority(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不存在"):
        call_command("load_seed_2023", "--authority", "999999")


def test_docx_reads_back(seed_2023):
    data = report_context(seed_2023)
    paragraphs, tables = docx_text(render_report_docx(data))
    text = "\n".join(paragraphs)
    positions = [paragraphs.index(title) for title in SECTIONS]
    assert positions == sorted(positions), "the seven sections in the seed's order"
    assert (
        "2023年经济服务审批工作经费年初预算数为943.10万元，调整后预算数为943.10万元，执行数为943.07万元，"
        "执行率为100.00%。" in paragraphs
    )
    assert "冒用身份虚假注册企业协助调查项目预算89.00万元，执行89.00万元，执行率100.00%。" in paragraphs
    assert "经自评，本项目绩效测评分值为 99.44 分，等级为优。" in paragraphs
    assert "根据2022年度本项目预算申报表，具体设置10个绩效量化指标。" in text  # the narrative, as edited
    indicator_table, funds, self_evaluation = tables
    assert indicator_table[0] == ["序号", "项目主要绩效指标", "年度指标值"]
    assert indicator_table[1] == ["1", "业务服务量", "≥382000件"]
    assert indicator_table[5][2] == "有效"
    assert len(indicator_table) == 11
    assert funds == [
        ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["943.10", "943.10", "943.07", "10", "100.00%", "10.00"],
    ]
    assert self_evaluation[0] == [
        "一级指标",
        "二级指标",
        "三级指标",
        "年度指标值",
        "实际完成值",
        "分值",
        "得分",
        "偏差原因分析及改进措施",
    ]
    volume = self_evaluation[1]
    assert volume[:7] == ["产出指标", "数量指标", "业务服务量", "≥382000件", "360608件", "10", "9.44"]
    assert "市场环境" in volume[7]
    assert self_evaluation[-1][:7] == ["总分", "", "", "", "", "100", "99.44"]
    assert self_evaluation[-1][7] == "等级：优"


def test_docx_sets_east_asian_font(seed_2023):
    from docx.oxml.ns import qn

    document = Document(io.BytesIO(render_report_docx(report_context(seed_2023))))
    run = document.paragraphs[1].runs[0]
    assert run._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_pdf_reads_back(seed_2023):
    text = pdf_text(render_report_pdf(report_context(seed_2023)))
    for title in SECTIONS:
        assert title in text
    assert "绩效测评分值为 99.44 分，等级为优" in text
    assert "执行数为943.07万元" in text
    assert "项目支出绩效自评表" in text
    assert "943.10943.10943.0710100.00%10.00" in text.replace(" ", "")  # the funds row
    assert "业务服务量≥382000件360608件109.44" in text.replace(" ", "")  # a 自评表 row
    assert "等级：优" in text
    assert "草稿" in text


def test_documents_are_reproducible(seed_2023):
    data = report_context(seed_2023)
    assert render_report_docx(data) == render_report_docx(report_context(seed_2023))
    assert render_report_pdf(data) == render_report_pdf(report_context(seed_2023))


def test_consistency_finds_the_seeds_discrepancies(seed_2023):
    grouped = findings_by_code(consistency_findings(seed_2023))
    # Item 8 of the issue: the five discrepancies of the seed.
    assert "943.00" in grouped["lines_total"][0].message and "943.10" in grouped["lines_total"][0].message
    assert "943.07" in grouped["execution_payments"][0].message
    assert "943.00" in grouped["execution_payments"][0].message
    [name] = grouped["indicator_name"]
    assert name.subject == "业务办理量" and "业务服务量" in name.message
    [year] = grouped["year_mismatch"]
    assert year.subject == "2022" and "申报表" in year.message
    [quantified] = grouped["indicator_quantified"]
    assert "10个绩效量化指标" in quantified.message and "4 个为定性指标" in quantified.message
    [component] = grouped["component_without_line"]
    assert component.subject == "档案场地租赁项目"
    # And the narrative's "执行数为 943.1 万元" against 943.07.
    [quoted] = grouped["execution_quoted"]
    assert "943.1" in quoted.message and "943.07" in quoted.message
    # Not flagged: the count (10 = 10), the title, law numbers （2017）/〔2017〕 and dates of past events.
    assert "indicator_count" not in grouped
    assert len(grouped["year_mismatch"]) == 1
    assert "line_without_component" not in grouped


def fix_seed(project: Project) -> None:
    """Correct each of the seed's discrepancies the way the officer would."""
    line = BudgetLine.objects.create(
        project=project, code="L10", name="档案场地租赁项目", amount=Decimal("1000.00"), order=10
    )
    project.components.get(name="档案场地租赁项目").lines.add(line)
    Payment.objects.create(
        project=project,
        line=line,
        paid_on=dt.date(2023, 12, 20),
        amount=Decimal("700.00"),
        description="场地租金",
    )
    report = project.report
    report.analysis = report.analysis.replace("业务办理量", "业务服务量").replace(
        "执行数为 943.1 万元", "执行数为 943.07 万元"
    )
    report.goals_note = report.goals_note.replace("2022年度", "2023年度").replace(
        "10个绩效量化指标", "10个绩效指标，其中定量指标6个、定性指标4个"
    )
    report.save()


def test_corrected_seed_has_no_findings(seed_2023):
    fix_seed(seed_2023)
    assert consistency_findings(seed_2023) == []
    data = report_context(seed_2023)
    assert data.total == Decimal("99.44")  # 943.07 of 943.10: still 10 points for execution


def test_loader_with_an_actor_records_who_loaded(authority, role_users):
    from bizreg.performance.models import PerformanceTransitionLog

    officer = role_users["finance_officer"]
    project = load_seed_2023(authority, actor=officer)
    assert set(project.payments.values_list("recorded_by", flat=True)) == {officer.pk}
    log = PerformanceTransitionLog.objects.get(object_type="project", object_id=project.pk)
    assert (log.action, log.to_state, log.actor) == ("activate", "active", officer)
    assert evaluate_project(project).total == Decimal("99.44")
    assert project.indicators.get(code="8").evaluated_by == officer
