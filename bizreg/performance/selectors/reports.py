"""Reads behind the self-evaluation report: every figure of the report, and the consistency checks.

`report_context` gathers the numbers once (budget, lines, components, indicators with original and
adjusted targets, actuals, scores, deviations) so the page, the .docx and the PDF all show the same data.
`consistency_findings` compares the data with itself and with the editable narrative, and lists what
would make the issued report contradict itself (the seed's own mistakes are the test cases).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from bizreg.core.money import yuan_to_wan
from bizreg.core.scoping import scope_to_user
from bizreg.performance.models import (
    AdjustmentStatus,
    Direction,
    EvaluationReport,
    IndicatorAdjustment,
    Payment,
    Project,
    ReportStatus,
)
from bizreg.performance.scoring import Actual, Evaluation, q2
from bizreg.performance.selectors.budget import payments_total
from bizreg.performance.selectors.measurements import evaluate_project, project_actuals

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# The editable narrative fields in the order of the seven sections.
NARRATIVE_FIELDS = (
    "overview",
    "finance_note",
    "management",
    "goals_note",
    "analysis",
    "problems",
    "improvements",
)
SECTION_TITLES = (
    "一、项目概述",
    "二、财政支出情况",
    "三、项目管理情况",
    "四、绩效目标和指标设定情况",
    "五、综合评价分析",
    "六、存在的主要问题",
    "七、下一步改进措施",
)
SECTION_OF_FIELD = dict(zip(NARRATIVE_FIELDS, SECTION_TITLES, strict=True))

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"


# --- scoping ---------------------------------------------------------------------------------------------


def projects_for(user) -> QuerySet[Project]:
    return scope_to_user(Project.objects.select_related("authority"), user)


def project_for(user, pk: int) -> Project:
    """The project if the user's authorities include its authority; otherwise 404 (as if absent)."""
    return get_object_or_404(projects_for(user), pk=pk)


def report_of(project: Project) -> EvaluationReport | None:
    try:
        return project.report
    except EvaluationReport.DoesNotExist:
        return None


def default_report_title(project: Project) -> str:
    return f"{project.fiscal_year} 年度{project.name}绩效自评报告"


def report_list_page(*, user, filters: dict, page) -> Page:
    """Projects with their report state, for the report list (filter by year, status, text)."""
    projects = projects_for(user).select_related("report").order_by("-fiscal_year", "code")
    if filters.get("year"):
        projects = projects.filter(fiscal_year=filters["year"])
    if filters.get("q"):
        projects = projects.filter(Q(name__icontains=filters["q"]) | Q(code__icontains=filters["q"]))
    status = filters.get("status")
    if status == "none":
        projects = projects.filter(report__isnull=True)
    elif status in ReportStatus.values:
        projects = projects.filter(report__status=status)
    return Paginator(projects, 25).get_page(page)


# --- report data -----------------------------------------------------------------------------------------


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text


def wan(yuan: Decimal) -> str:
    """'943.10' (万元, two decimals)."""
    return f"{yuan_to_wan(yuan):.2f}"


def percent(rate: Decimal | None) -> str:
    """A fraction shown as '100.00%'."""
    return "—" if rate is None else f"{q2(rate * HUNDRED):.2f}%"


@dataclass(frozen=True)
class LineRow:
    code: str
    name: str
    amount: Decimal
    executed: Decimal

    @property
    def rate(self) -> Decimal | None:
        return None if not self.amount else self.executed / self.amount


@dataclass(frozen=True)
class ComponentRow:
    name: str
    line_names: tuple[str, ...]


@dataclass(frozen=True)
class AdjustmentRow:
    indicator_name: str
    old_target: str
    new_target: str
    old_weight: Decimal
    new_weight: Decimal
    reason: str
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class IndicatorRow:
    order: int
    code: str
    level1: str
    level2: str
    name: str
    qualitative: bool
    target: str
    original_target: str
    weight: Decimal
    original_weight: Decimal
    actual: str
    score: Decimal
    met: bool
    achievement: Decimal | None
    deviation_note: str
    evaluation_reason: str
    flags: tuple[str, ...]

    @property
    def adjusted(self) -> bool:
        return self.target != self.original_target or self.weight != self.original_weight


@dataclass(frozen=True)
class ReportData:
    project_id: int
    title: str
    status: str
    project_name: str
    fiscal_year: int
    department: str
    lead_office: str
    period_start: dt.date
    period_end: dt.date
    initial_budget: Decimal
    adjusted_budget: Decimal
    executed: Decimal
    payments: Decimal
    lines: tuple[LineRow, ...]
    components: tuple[ComponentRow, ...]
    indicators: tuple[IndicatorRow, ...]
    adjustments: tuple[AdjustmentRow, ...]
    evaluation: Evaluation
    narrative: dict[str, str]
    document_date: dt.datetime
    by_level1: dict[str, Decimal] = field(default_factory=dict)

    @property
    def is_draft(self) -> bool:
        return self.status != ReportStatus.ISSUED

    @property
    def total(self) -> Decimal:
        return self.evaluation.total

    @property
    def grade(self) -> str:
        return self.evaluation.grade

    @property
    def rate(self) -> Decimal | None:
        return self.evaluation.budget.rate

    @property
    def budget_score(self) -> Decimal:
        return self.evaluation.budget.score

    @property
    def budget_weight(self) -> Decimal:
        return self.evaluation.budget.weight

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def indicator_count(self) -> int:
        return len(self.indicators)

    @property
    def quantitative_count(self) -> int:
        return sum(1 for i in self.indicators if not i.qualitative)

    @property
    def qualitative_count(self) -> int:
        return sum(1 for i in self.indicators if i.qualitative)

    @property
    def deviations(self) -> tuple[IndicatorRow, ...]:
        return tuple(i for i in self.indicators if not i.met)


def _actual_display(indicator, actual: Actual) -> str:
    if indicator.direction == Direction.QUALITATIVE:
        return actual.text or indicator.manual_text or ""
    if actual.value is None:
        return "无数据"
    return f"{_number(actual.value)}{indicator.unit}"


def _target_text(direction: str, value: Decimal | None, text: str, unit: str) -> str:
    if direction == Direction.QUALITATIVE or value is None:
        return text
    prefix = {Direction.AT_LEAST: "≥", Direction.AT_MOST: "≤"}.get(direction, "")
    return f"{prefix}{_number(value)}{unit}"


def report_context(project: Project, as_of: dt.date | None = None) -> ReportData:
    """Every figure of the report, from the data (to `as_of` when given, else the whole year)."""
    report = report_of(project)
    evaluation = evaluate_project(project, as_of)
    actuals = project_actuals(project, as_of)
    scores = {row.indicator_id: row for row in evaluation.indicators}
    until = None if as_of is None else as_of

    executed_by_line = dict(
        Payment.objects.filter(project=project, **({"paid_on__lt": until} if until else {}))
        .values_list("line_id")
        .annotate(total=Sum("amount"))
        .values_list("line_id", "total")
    )
    lines = tuple(
        LineRow(line.code, line.name, line.amount, executed_by_line.get(line.pk) or ZERO)
        for line in project.lines.order_by("order", "code")
    )
    components = tuple(
        ComponentRow(c.name, tuple(line.name for line in c.lines.all()))
        for c in project.components.prefetch_related("lines").order_by("order", "id")
    )
    rows = []
    for indicator in project.indicators.order_by("order", "code"):
        score = scores[indicator.pk]
        original_value = (
            indicator.original_target_value
            if indicator.original_target_value is not None
            else indicator.target_value
        )
        rows.append(
            IndicatorRow(
                order=indicator.order,
                code=indicator.code,
                level1=indicator.get_level1_display(),
                level2=indicator.get_level2_display(),
                name=indicator.name,
                qualitative=indicator.is_qualitative,
                target=_target_text(
                    indicator.direction, indicator.target_value, indicator.target_text, indicator.unit
                ),
                original_target=_target_text(
                    indicator.direction,
                    original_value,
                    indicator.original_target_text or indicator.target_text,
                    indicator.unit,
                ),
                weight=indicator.weight,
                original_weight=(
                    indicator.original_weight if indicator.original_weight is not None else indicator.weight
                ),
                actual=_actual_display(indicator, actuals.get(indicator.pk, Actual())),
                score=score.score,
                met=score.met,
                achievement=score.achievement,
                deviation_note=indicator.deviation_note,
                evaluation_reason=indicator.evaluation_reason,
                flags=score.flags,
            )
        )
    adjustments = tuple(
        AdjustmentRow(
            a.indicator.name,
            _target_text(a.indicator.direction, a.old_target_value, a.old_target_text, a.indicator.unit),
            _target_text(a.indicator.direction, a.new_target_value, a.new_target_text, a.indicator.unit),
            a.old_weight,
            a.new_weight,
            a.reason,
            a.decided_at,
        )
        for a in IndicatorAdjustment.objects.filter(
            indicator__project=project, status=AdjustmentStatus.APPROVED
        )
        .select_related("indicator")
        .order_by("decided_at", "id")
    )
    if report is not None:
        narrative = {name: getattr(report, name) for name in NARRATIVE_FIELDS}
        title = report.title
        status = report.status
        document_date = report.issued_at or report.updated_at
    else:
        narrative = dict.fromkeys(NARRATIVE_FIELDS, "")
        title = default_report_title(project)
        status = ReportStatus.DRAFT
        document_date = project.updated_at
    by_level1 = {}
    for indicator in project.indicators.all():
        label = indicator.get_level1_display()
        by_level1[label] = by_level1.get(label, ZERO) + scores[indicator.pk].score
    return ReportData(
        project_id=project.pk,
        title=title,
        status=status,
        project_name=project.name,
        fiscal_year=project.fiscal_year,
        department=project.department,
        lead_office=project.lead_office,
        period_start=project.period_start,
        period_end=project.period_end,
        initial_budget=project.initial_budget,
        adjusted_budget=project.adjusted_budget,
        executed=evaluation.budget.executed,
        payments=payments_total(project, until),
        lines=lines,
        components=components,
        indicators=tuple(rows),
        adjustments=adjustments,
        evaluation=evaluation,
        narrative=narrative,
        document_date=document_date,
        by_level1=by_level1,
    )


# --- consistency checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: str = SEVERITY_ERROR
    subject: str = ""  # what the finding is about (a line, a term, a year) — part of its key

    @property
    def key(self) -> str:
        """Stable identity, used when a manager acknowledges the finding at issue."""
        return f"{self.code}:{self.subject}" if self.subject else self.code

    @property
    def severity_label(self) -> str:
        return "错误" if self.severity == SEVERITY_ERROR else "提示"


QUOTED_INDICATOR = re.compile(r"指标\s*[“\"「『]([^”\"」』]{1,80})[”\"」』]")
INDICATOR_COUNT = re.compile(r"(\d+|[一二三四五六七八九十]+)\s*个([^，。；、,;\d\n]{0,10}?)指标")
YEAR_WITH_NIANDU = re.compile(r"(?<![\d（(〔\[])(\d{4})\s*年度")
YEAR_CONTEXT = re.compile(r"预算|申报|绩效|项目")
QUOTED_MONEY = re.compile(
    r"(年初预算数|调整后预算数|全年预算数|预算数|全年执行数|执行数)\s*[为是:：]?\s*([\d,]+(?:\.\d+)?)\s*万元"
)
_HANZI = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# How far (characters, after the year) a budget/declaration word ties a "XXXX年度" to this project.
YEAR_WINDOW = 12


def _hanzi_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十") and len(text) == 2:
        return 10 + _HANZI.get(text[1], 0)
    if len(text) == 1:
        return _HANZI.get(text)
    if len(text) in (2, 3) and text[1] == "十":
        return _HANZI.get(text[0], 0) * 10 + (_HANZI.get(text[2], 0) if len(text) == 3 else 0)
    return None


def _normalize_name(name: str) -> str:
    name = re.sub(r"\s+", "", name)
    return re.sub(r"[（(][^）)]*[）)]$", "", name)


def _narrative_text(data: ReportData) -> list[tuple[str, str]]:
    return [(SECTION_OF_FIELD[name], data.narrative.get(name) or "") for name in NARRATIVE_FIELDS]


def _budget_findings(data: ReportData, project: Project) -> list[Finding]:
    findings = []
    lines_total = data.lines_total
    if data.lines and lines_total != data.adjusted_budget:
        findings.append(
            Finding(
                "lines_total",
                f"预算明细合计 {wan(lines_total)} 万元，与调整后预算数 {wan(data.adjusted_budget)} 万元不一致"
                f"（相差 {wan(data.adjusted_budget - lines_total)} 万元）。",
            )
        )
    if project.reported_execution is not None and project.reported_execution != data.payments:
        gap = project.reported_execution - data.payments
        findings.append(
            Finding(
                "execution_payments",
                f"财务系统执行数 {wan(project.reported_execution)} 万元，与按明细登记的支付合计 "
                f"{wan(data.payments)} 万元不一致（相差 {wan(gap)} 万元）。",
            )
        )
    over = [line for line in data.lines if line.executed > line.amount]
    for line in over:
        findings.append(
            Finding(
                "line_overspent",
                f"预算明细“{line.name}”支付 {wan(line.executed)} 万元，超过预算 {wan(line.amount)} 万元。",
                subject=line.code,
            )
        )
    return findings


def _component_findings(data: ReportData, project: Project) -> list[Finding]:
    findings = []
    for component in data.components:
        if not component.line_names:
            findings.append(
                Finding(
                    "component_without_line",
                    f"子项目“{component.name}”在项目概述中列出，但财政支出情况中没有对应的预算明细。",
                    subject=component.name,
                )
            )
    if data.components:
        covered = set(project.lines.filter(components__isnull=False).values_list("pk", flat=True))
        for line in project.lines.exclude(pk__in=covered).order_by("order", "code"):
            findings.append(
                Finding(
                    "line_without_component",
                    f"预算明细“{line.name}”不属于项目概述中列出的任何子项目。",
                    SEVERITY_WARNING,
                    subject=line.code,
                )
            )
    return findings


def _indicator_text_findings(data: ReportData, texts: list[tuple[str, str]]) -> list[Finding]:
    findings = []
    names = {_normalize_name(i.name) for i in data.indicators}
    seen_terms: set[str] = set()
    for section, text in texts:
        for match in QUOTED_INDICATOR.finditer(text):
            term = match.group(1).strip()
            if _normalize_name(term) in names or term in seen_terms:
                continue
            seen_terms.add(term)
            similar = [i.name for i in data.indicators if len(set(term) & set(i.name)) >= min(2, len(term))]
            hint = f"（指标表中相近的是“{similar[0]}”）" if similar else ""
            findings.append(
                Finding(
                    "indicator_name",
                    f"{section}引用的指标“{term}”不在绩效指标表中{hint}。",
                    subject=term,
                )
            )
    seen_counts: set[str] = set()
    for section, text in texts:
        for match in INDICATOR_COUNT.finditer(text):
            count = _hanzi_int(match.group(1))
            qualifier = match.group(2)
            if count is None:
                continue
            phrase = match.group(0)
            if count != data.indicator_count and f"count:{count}" not in seen_counts:
                seen_counts.add(f"count:{count}")
                findings.append(
                    Finding(
                        "indicator_count",
                        f"{section}写“{phrase}”，指标表共 {data.indicator_count} 个指标。",
                        subject=str(count),
                    )
                )
            claims_numbers = "量化" in qualifier or "定量" in qualifier
            if claims_numbers and data.qualitative_count and "quantified" not in seen_counts:
                seen_counts.add("quantified")
                findings.append(
                    Finding(
                        "indicator_quantified",
                        f"{section}写“{phrase}”，但指标表中 {data.qualitative_count} 个为定性指标，"
                        f"定量指标只有 {data.quantitative_count} 个。",
                    )
                )
    return findings


def _year_findings(data: ReportData, texts: list[tuple[str, str]]) -> list[Finding]:
    findings = []
    seen: set[str] = set()
    for section, text in texts:
        for match in YEAR_WITH_NIANDU.finditer(text):
            year = int(match.group(1))
            if year == data.fiscal_year:
                continue
            after = text[match.end() : match.end() + YEAR_WINDOW]
            if not YEAR_CONTEXT.search(after):
                continue
            snippet = re.split(r"[，。；,;\n]", text[match.start() : match.end() + 20])[0]
            if str(year) in seen:
                continue
            seen.add(str(year))
            findings.append(
                Finding(
                    "year_mismatch",
                    f"{section}中“{snippet}”提到 {year} 年度，而本项目为 {data.fiscal_year} 年度。",
                    subject=str(year),
                )
            )
    return findings


def _money_findings(data: ReportData, texts: list[tuple[str, str]]) -> list[Finding]:
    findings = []
    expected = {
        "年初预算数": data.initial_budget,
        "调整后预算数": data.adjusted_budget,
        "全年预算数": data.adjusted_budget,
        "预算数": data.adjusted_budget,
        "全年执行数": data.executed,
        "执行数": data.executed,
    }
    seen: set[str] = set()
    for section, text in texts:
        for match in QUOTED_MONEY.finditer(text):
            label, raw = match.group(1), match.group(2)
            try:
                quoted = Decimal(raw.replace(",", ""))
            except InvalidOperation:
                continue
            actual = yuan_to_wan(expected[label])
            if quoted == actual or f"{label}:{quoted}" in seen:
                continue
            seen.add(f"{label}:{quoted}")
            findings.append(
                Finding(
                    "execution_quoted" if "执行" in label else "budget_quoted",
                    f"{section}写“{match.group(0)}”，数据为 {actual:.2f} 万元。",
                    subject=f"{label}:{quoted}",
                )
            )
    return findings


def consistency_findings(project: Project, data: ReportData | None = None) -> list[Finding]:
    """What would make the report contradict itself or its data; empty when consistent."""
    data = data or report_context(project)
    texts = _narrative_text(data)
    return [
        *_budget_findings(data, project),
        *_component_findings(data, project),
        *_indicator_text_findings(data, texts),
        *_year_findings(data, texts),
        *_money_findings(data, texts),
    ]


def findings_by_code(findings: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[finding.code].append(finding)
    return dict(grouped)
