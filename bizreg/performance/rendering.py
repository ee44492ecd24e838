"""The self-evaluation report as .docx (python-docx) and PDF (core.pdf), both from one ReportData.

`report_blocks` lays the report out once — the seven sections of the seed with the generated paragraphs,
the editable narrative, the indicator table, the conclusion and the standard 自评表 — as core.pdf blocks.
Both files are rendered from one DocumentSpec of those blocks (core.pdf for the PDF, core.docx for the
.docx), so the two files cannot say different things. Both are reproducible: the same data gives the
same bytes (the PDF by core.pdf's invariant mode, the .docx by fixing its timestamps).
"""

from __future__ import annotations

from bizreg.core.docx import render_docx
from bizreg.core.pdf import DocumentSpec, Gap, Heading, TableBlock, Text, chinese_date, render_pdf
from bizreg.performance.selectors.reports import ReportData, percent, wan

DRAFT_MARK = "草稿"

INDICATOR_TABLE_HEADER = ("序号", "项目主要绩效指标", "年度指标值")
SELF_EVALUATION_HEADER = (
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
)
FUNDS_HEADER = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
SELF_EVALUATION_TITLE = "附件：项目支出绩效自评表"


def _n(value) -> str:
    return f"{value.normalize():f}" if value is not None else ""


def _paragraphs(text: str) -> list[Text]:
    return [Text(line.strip()) for line in (text or "").splitlines() if line.strip()]


def _section_one(data: ReportData) -> list:
    blocks = [Heading("一、项目概述")]
    lead = f"，牵头科室为{data.lead_office}" if data.lead_office else ""
    blocks.append(
        Text(
            f"{data.project_name}为{data.department}{data.fiscal_year}年度项目{lead}，实施期间为"
            f"{chinese_date(data.period_start)}至{chinese_date(data.period_end)}。"
        )
    )
    if data.components:
        names = "、".join(c.name for c in data.components)
        blocks.append(Text(f"本项目包含{names}共 {len(data.components)} 个子项目。"))
    blocks.extend(_paragraphs(data.narrative.get("overview", "")))
    return blocks


def _section_two(data: ReportData) -> list:
    blocks = [Heading("二、财政支出情况")]
    blocks.append(
        Text(
            f"{data.fiscal_year}年{data.project_name}年初预算数为{wan(data.initial_budget)}万元，"
            f"调整后预算数为{wan(data.adjusted_budget)}万元，执行数为{wan(data.executed)}万元，"
            f"执行率为{percent(data.rate)}。"
        )
    )
    for line in data.lines:
        blocks.append(
            Text(
                f"{line.name}预算{wan(line.amount)}万元，执行{wan(line.executed)}万元，"
                f"执行率{percent(line.rate)}。"
            )
        )
    if data.lines:
        blocks.append(Text(f"以上预算明细合计{wan(data.lines_total)}万元。"))
    blocks.extend(_paragraphs(data.narrative.get("finance_note", "")))
    return blocks


def _section_four(data: ReportData) -> list:
    blocks = [Heading("四、绩效目标和指标设定情况")]
    blocks.extend(_paragraphs(data.narrative.get("goals_note", "")))
    blocks.append(
        Text(
            f"本项目共设置绩效指标{data.indicator_count}个，其中定量指标{data.quantitative_count}个、"
            f"定性指标{data.qualitative_count}个。"
        )
    )
    rows = [INDICATOR_TABLE_HEADER]
    for index, row in enumerate(data.indicators, start=1):
        target = (
            row.target if row.target == row.original_target else f"{row.target}（原{row.original_target}）"
        )
        rows.append((str(index), row.name, target))
    blocks.append(TableBlock(tuple(rows), col_widths_mm=(14, 110, 34)))
    for adj in data.adjustments:
        when = f"（{chinese_date(adj.decided_at)}批准）" if adj.decided_at else ""
        weights = (
            f"，分值由{_n(adj.old_weight)}调整为{_n(adj.new_weight)}"
            if adj.old_weight != adj.new_weight
            else ""
        )
        blocks.append(
            Text(
                f"指标“{adj.indicator_name}”年度指标值由{adj.old_target}调整为{adj.new_target}{weights}{when}，"
                f"调整理由：{adj.reason}"
            )
        )
    return blocks


def _section_five(data: ReportData) -> list:
    blocks = [Heading("五、综合评价分析")]
    blocks.append(Text(f"经自评，本项目绩效测评分值为 {data.total} 分，等级为{data.grade}。"))
    parts = [f"预算执行率得分{data.budget_score}分（分值{_n(data.budget_weight)}分）"]
    parts += [f"{label}得分{score}分" for label, score in data.by_level1.items()]
    blocks.append(Text("其中" + "，".join(parts) + "。"))
    for row in data.deviations:
        achieved = f"，完成率{percent(row.achievement)}" if row.achievement is not None else ""
        note = (
            f"偏差原因分析及改进措施：{row.deviation_note}"
            if row.deviation_note
            else "尚未填写偏差原因分析。"
        )
        blocks.append(
            Text(
                f"未达到年度指标值的指标：“{row.name}”，年度指标值{row.target}，实际完成值{row.actual}{achieved}，"
                f"得分{row.score}分（分值{_n(row.weight)}分）。{note}"
            )
        )
    if not data.deviations:
        blocks.append(Text("全部绩效指标均达到年度指标值。"))
    blocks.extend(_paragraphs(data.narrative.get("analysis", "")))
    return blocks


def _self_evaluation_table(data: ReportData) -> list:
    blocks: list = [Heading(SELF_EVALUATION_TITLE)]
    blocks.append(
        Text(f"项目名称：{data.project_name}（{data.fiscal_year}年度）    金额单位：万元", indent=False)
    )
    funds = (
        FUNDS_HEADER,
        (
            wan(data.initial_budget),
            wan(data.adjusted_budget),
            wan(data.executed),
            _n(data.budget_weight),
            percent(data.rate),
            str(data.budget_score),
        ),
    )
    blocks.append(TableBlock(funds, col_widths_mm=(28, 28, 28, 22, 26, 26)))
    rows = [SELF_EVALUATION_HEADER]
    for row in data.indicators:
        note = row.deviation_note or ("" if row.met else "未达到年度指标值")
        rows.append(
            (
                row.level1,
                row.level2,
                row.name,
                row.target,
                row.actual,
                _n(row.weight),
                str(row.score),
                note,
            )
        )
    rows.append(("总分", "", "", "", "", "100", str(data.total), f"等级：{data.grade}"))
    blocks.append(TableBlock(tuple(rows), col_widths_mm=(14, 16, 32, 21, 21, 12, 15, 27)))
    return blocks


def report_blocks(data: ReportData) -> list:
    """The report body in the seed's order, as core.pdf blocks."""
    blocks: list = []
    blocks += _section_one(data)
    blocks += _section_two(data)
    blocks += [Heading("三、项目管理情况"), *_paragraphs(data.narrative.get("management", ""))]
    blocks += _section_four(data)
    blocks += _section_five(data)
    blocks += [Heading("六、存在的主要问题"), *_paragraphs(data.narrative.get("problems", ""))]
    blocks += [Heading("七、下一步改进措施"), *_paragraphs(data.narrative.get("improvements", ""))]
    blocks += [Gap(6), *_self_evaluation_table(data)]
    return blocks


def _title(data: ReportData) -> str:
    return f"（{DRAFT_MARK}）{data.title}" if data.is_draft else data.title


# --- PDF and .docx ---------------------------------------------------------------------------------------


def report_spec(data: ReportData) -> DocumentSpec:
    """The one layout both files are rendered from."""
    return DocumentSpec(
        title=_title(data),
        created_at=data.document_date,
        blocks=report_blocks(data),
        author=data.department,
        subject=f"{data.fiscal_year}年度{data.project_name}绩效自评",
        keywords=("绩效自评", data.project_name),
        footer_note=f"{DRAFT_MARK} · 未印发" if data.is_draft else "",
    )


def render_report_pdf(data: ReportData) -> bytes:
    return render_pdf(report_spec(data))


def render_report_docx(data: ReportData) -> bytes:
    return render_docx(report_spec(data))


def report_filename(data: ReportData, extension: str) -> str:
    mark = f"（{DRAFT_MARK}）" if data.is_draft else ""
    return f"{data.fiscal_year}年度{data.project_name}绩效自评报告{mark}.{extension}"
