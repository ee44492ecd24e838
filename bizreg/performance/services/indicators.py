"""Writes of indicators: create/edit with their refusals, the weight rule, the lint, the wiring of published
metrics, mid-year adjustments (request → approve/reject/withdraw), the qualitative evaluation and the
monthly snapshots.

Every write runs in one transaction and changes nothing when refused (ValidationError with a Chinese
message, a field dict where a field is at fault).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.core.metrics_registry import all_metrics, get_metric
from bizreg.performance.catalog import SEED_INDICATOR_BY_NAME
from bizreg.performance.models import (
    ADJUSTMENT_WORKFLOW,
    DEFAULT_LEVEL1_WEIGHTS,
    LEVEL2_OF_LEVEL1,
    AdjustmentStatus,
    Direction,
    Indicator,
    IndicatorAdjustment,
    Level1,
    Level2,
    MonthlySnapshot,
    Project,
    ProjectStatus,
    QualitativeTier,
)
from bizreg.performance.scoring import check_qualitative_percent
from bizreg.performance.selectors.measurements import indicator_actual
from bizreg.performance.services.common import check_evidence_file, ensure_year_open, record_transition

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# Fields a finance officer sets on an indicator (the service's keyword set).
INDICATOR_FIELDS = (
    "code",
    "order",
    "level1",
    "level2",
    "name",
    "unit",
    "direction",
    "target_value",
    "target_text",
    "weight",
    "metric_key",
    "data_source",
    "manual_value",
    "manual_text",
    "evidence_note",
)
# Once the project is executing, these change only through an approved adjustment (seed problem 二).
ADJUSTED_FIELDS = ("direction", "target_value", "target_text", "weight")

# Names that say the figure is a number even when the target was written as words.
NUMERIC_NAME_HINTS = ("满意度", "率", "是否")


def metric_is_registered(key: str) -> bool:
    try:
        get_metric(key)
    except KeyError:
        return False
    return True


# --- validation shared by the indicator and the adjustment ----------------------------------------------


def _target_errors(
    direction: str, target_value: Decimal | None, target_text: str, *, value_field: str, text_field: str
) -> dict[str, str]:
    """The refusals of a target: a number unless qualitative; 0 only for "=" (a ≥0 or ≤0 target cannot
    be scored by ratio: any actual meets ≥0, nothing below an upper bound of 0 earns a share)."""
    if direction == Direction.QUALITATIVE:
        if not (target_text or "").strip():
            return {text_field: "定性指标须填写年度指标值（如“有效”“是”“满意”）。"}
        return {}
    if target_value is None:
        return {value_field: "定量指标须填写数值型年度指标值。"}
    if target_value == 0 and direction in (Direction.AT_LEAST, Direction.AT_MOST):
        sign = "≥" if direction == Direction.AT_LEAST else "≤"
        return {
            value_field: f"“{sign}”方向的年度指标值不能为 0：{sign}0 无法按完成比例计分。"
            "如目标确为 0，请选择“=”方向，或改用可计量的正数目标。"
        }
    return {}


def _validate_indicator(project: Project, data: Mapping[str, Any], instance: Indicator | None) -> None:
    errors: dict[str, str] = {}
    code = (data.get("code") or "").strip()
    if not code:
        errors["code"] = "请填写指标编号。"
    else:
        clash = Indicator.objects.filter(project=project, code=code)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["code"] = f"本项目已有编号为“{code}”的指标，指标编号不能重复。"
    if not (data.get("name") or "").strip():
        errors["name"] = "请填写三级指标名称。"
    level1, level2 = data.get("level1"), data.get("level2")
    if level1 not in Level1.values:
        errors["level1"] = "请选择一级指标。"
    elif level2 not in Level2.values:
        errors["level2"] = "请选择二级指标。"
    elif level2 not in LEVEL2_OF_LEVEL1[Level1(level1)]:
        errors["level2"] = f"二级指标“{Level2(level2).label}”不属于一级指标“{Level1(level1).label}”。"
    direction = data.get("direction")
    if direction not in Direction.values:
        errors["direction"] = "请选择指标方向。"
    else:
        errors.update(
            _target_errors(
                direction,
                data.get("target_value"),
                data.get("target_text") or "",
                value_field="target_value",
                text_field="target_text",
            )
        )
    weight = data.get("weight")
    if weight is None:
        errors["weight"] = "请填写分值。"
    elif weight < 0:
        errors["weight"] = "分值不能为负数。"
    key = (data.get("metric_key") or "").strip()
    if key and not metric_is_registered(key):
        errors["metric_key"] = (
            f"数据来源指标键“{key}”未注册（没有模块发布该指标），请选择已发布的指标或留空改为手工填报。"
        )
    if errors:
        raise ValidationError(errors)


def _apply_evidence(indicator: Indicator, evidence) -> None:
    if evidence is None:
        return
    indicator.evidence_sha256 = check_evidence_file(evidence)
    indicator.evidence = evidence


@transaction.atomic
def indicator_create(*, project: Project, actor, data: Mapping[str, Any], evidence=None) -> Indicator:
    """A new 三级 indicator; its original_* columns keep the values as first set (for the report)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    ensure_year_open(project, "新增绩效指标")
    values = {f: data.get(f) for f in INDICATOR_FIELDS if f in data}
    for text in ("code", "name", "unit", "target_text", "metric_key", "data_source", "manual_text"):
        values[text] = (values.get(text) or "").strip()
    values["evidence_note"] = (values.get("evidence_note") or "").strip()
    values["order"] = values.get("order") or 0
    if values.get("direction") == Direction.QUALITATIVE:
        values["target_value"] = None
    _validate_indicator(project, values, None)
    indicator = Indicator(project=project, **values)
    indicator.original_target_value = indicator.target_value
    indicator.original_target_text = indicator.target_text
    indicator.original_weight = indicator.weight
    _apply_evidence(indicator, evidence)
    indicator.save()
    return indicator


@transaction.atomic
def indicator_update(*, indicator: Indicator, actor, data: Mapping[str, Any], evidence=None) -> Indicator:
    """Edit an indicator. While the project is 编制中 the target and weight are edited freely (and remain
    the "original" values); once it executes they change only through an approved adjustment."""
    indicator = Indicator.objects.select_for_update().select_related("project").get(pk=indicator.pk)
    project = indicator.project
    ensure_year_open(project, "修改绩效指标")
    values = {f: getattr(indicator, f) for f in INDICATOR_FIELDS}
    values.update({f: data[f] for f in INDICATOR_FIELDS if f in data})
    for text in ("code", "name", "unit", "target_text", "metric_key", "data_source", "manual_text"):
        values[text] = (values.get(text) or "").strip()
    if values.get("direction") == Direction.QUALITATIVE:
        values["target_value"] = None
    if project.status != ProjectStatus.DRAFT:
        changed = [f for f in ADJUSTED_FIELDS if values[f] != getattr(indicator, f)]
        if changed:
            raise ValidationError(
                {
                    f: "项目已下达执行，年度指标值、方向和分值只能通过“指标调整申请”经审批后变更。"
                    for f in changed
                }
            )
    _validate_indicator(project, values, indicator)
    for field, value in values.items():
        setattr(indicator, field, value)
    if project.status == ProjectStatus.DRAFT:
        indicator.original_target_value = indicator.target_value
        indicator.original_target_text = indicator.target_text
        indicator.original_weight = indicator.weight
    _apply_evidence(indicator, evidence)
    indicator.save()
    return indicator


# --- weights -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level1Weight:
    level1: str
    label: str
    total: Decimal
    default: Decimal

    @property
    def differs(self) -> bool:
        return self.total != self.default


@dataclass(frozen=True)
class WeightSummary:
    budget_weight: Decimal
    indicators_total: Decimal
    total: Decimal
    by_level1: tuple[Level1Weight, ...]
    problems: tuple[str, ...]


def weight_summary(project: Project) -> WeightSummary:
    """The weights: budget execution rate + Σ indicators (must be 100), and each 一级 against its default
    (information only: the frame's defaults 预算执行率 10, 产出 50, 效益 30, 满意度 10 may be departed
    from)."""
    totals: dict[str, Decimal] = {}
    for level1, weight in project.indicators.values_list("level1", "weight"):
        totals[level1] = totals.get(level1, ZERO) + weight
    indicators_total = sum(totals.values(), ZERO)
    total = project.budget_weight + indicators_total
    problems = []
    if total != HUNDRED:
        problems.append(
            f"权重合计应为 100，当前为 {total.normalize():f}"
            f"（预算执行率 {project.budget_weight.normalize():f} + 指标 {indicators_total.normalize():f}）。"
        )
    rows = tuple(
        Level1Weight(
            level1.value, level1.label, totals.get(level1.value, ZERO), DEFAULT_LEVEL1_WEIGHTS[level1]
        )
        for level1 in Level1
    )
    return WeightSummary(project.budget_weight, indicators_total, total, rows, tuple(problems))


def check_weights(project: Project) -> list[str]:
    """The problems with the project's weights ([] when budget weight + indicator weights total 100)."""
    return list(weight_summary(project).problems)


def ensure_weights_total_100(project: Project) -> None:
    """Refuse (ValidationError) when the weights do not total 100 — called before activating a project."""
    problems = check_weights(project)
    if problems:
        raise ValidationError(problems)


# --- lint ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LintFinding:
    indicator: Indicator
    code: str
    message: str
    severity: str  # "error" (cannot be measured), "warning" (should be fixed), "info"


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _numeric_alternative(indicator: Indicator) -> str | None:
    """Why a qualitative indicator could be a number, with the suggested metric; None when it cannot."""
    entry = SEED_INDICATOR_BY_NAME.get(indicator.name)
    if entry is not None and entry.numeric_alternative:
        key, direction, target = entry.numeric_alternative
        sign = Direction(direction).label
        return f"可改为定量：指标键 {key}，目标 {sign}{target.normalize():f}"
    for metric in all_metrics():
        if metric.label == indicator.name:
            return f"已有模块发布同名指标 {metric.key}（{metric.unit}），可改为定量"
    hints = [h for h in NUMERIC_NAME_HINTS if h in indicator.name]
    if hints:
        return f"名称含“{hints[0]}”，可以用比率或是否（0/1）的数值计量"
    return None


def lint_indicator(indicator: Indicator) -> list[LintFinding]:
    findings: list[LintFinding] = []

    def add(code: str, message: str, severity: str) -> None:
        findings.append(LintFinding(indicator, code, message, severity))

    has_manual = indicator.manual_value is not None or bool(indicator.manual_text)
    has_evidence = bool(indicator.evidence)
    key = indicator.metric_key
    registered = bool(key) and metric_is_registered(key)
    if not key and not has_manual and not has_evidence:
        add("unmeasurable", "无法计量：没有数据来源指标键，也没有手工填报的实际值或佐证材料。", "error")
    if key and not registered:
        add(
            "unregistered_key",
            f"指标键 {key} 所属模块尚未发布该指标，暂按手工填报（实际值＋佐证材料）计量。",
            "info",
        )
    if indicator.is_qualitative:
        alternative = _numeric_alternative(indicator)
        if alternative:
            add(
                "qualitative_could_be_numeric",
                f"定性目标“{indicator.target_text}”可量化：{alternative}。",
                "warning",
            )
    has_target = indicator.target_value is not None or bool(indicator.target_text)
    if has_target and not key and not indicator.data_source.strip():
        add("no_data_source", "有年度指标值但没有数据来源说明，也没有数据来源指标键。", "warning")
    if has_manual and not has_evidence:
        add("manual_without_evidence", "已填报手工实际值，但未上传佐证材料。", "warning")
    return findings


def lint_project(project: Project) -> list[LintFinding]:
    """Findings for every indicator (the seed's problem 三: indicators that cannot be measured)."""
    findings: list[LintFinding] = []
    for indicator in project.indicators.order_by("order", "code"):
        findings.extend(lint_indicator(indicator))
    return findings


# --- wiring of published metrics ----------------------------------------------------------------------


@transaction.atomic
def wire_published_metrics(*, project: Project, actor) -> list[Indicator]:
    """Give each indicator without a metric key the key of its catalog entry or of the registered metric
    with its name, when that key is published now; the others stay in manual mode. Returns those wired."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    ensure_year_open(project, "关联数据来源指标")
    by_label = {m.label: m.key for m in all_metrics()}
    wired = []
    for indicator in project.indicators.select_for_update().filter(metric_key="").order_by("order", "code"):
        entry = SEED_INDICATOR_BY_NAME.get(indicator.name)
        candidates = [entry.metric_key] if entry is not None and entry.metric_key else []
        if indicator.name in by_label:
            candidates.append(by_label[indicator.name])
        key = next((k for k in candidates if metric_is_registered(k)), None)
        if key is None:
            continue
        indicator.metric_key = key
        indicator._change_reason = f"关联已发布指标 {key}"
        indicator.save(update_fields=["metric_key", "updated_at"])
        wired.append(indicator)
    return wired


# --- adjustments ---------------------------------------------------------------------------------------


@transaction.atomic
def request_adjustment(
    *,
    indicator: Indicator,
    actor,
    reason: str,
    new_target_value: Decimal | None = None,
    new_target_text: str = "",
    new_weight: Decimal | None = None,
    counterpart: Indicator | None = None,
    suggested_by_monitoring: bool = False,
) -> IndicatorAdjustment:
    """A request to change the target and/or weight. A weight change names the counterpart indicator that
    absorbs the difference so the total stays 100. One open request per indicator."""
    if not actor.has_perm("performance.add_indicatoradjustment"):
        raise PermissionDenied("您的角色无权申请指标调整。")
    indicator = Indicator.objects.select_for_update().select_related("project").get(pk=indicator.pk)
    ensure_year_open(indicator.project, "申请调整绩效指标")
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写调整理由。"
    if IndicatorAdjustment.objects.filter(indicator=indicator, status=AdjustmentStatus.REQUESTED).exists():
        raise ValidationError("该指标已有待审批的调整申请，请待其审批或撤回后再申请。")
    new_target_text = (new_target_text or "").strip()
    if indicator.is_qualitative:
        new_target_value = None
        new_target_text = new_target_text or indicator.target_text
    else:
        new_target_text = ""
        if new_target_value is None:
            new_target_value = indicator.target_value
    errors.update(
        _target_errors(
            indicator.direction,
            new_target_value,
            new_target_text,
            value_field="new_target_value",
            text_field="new_target_text",
        )
    )
    if new_weight is None:
        new_weight = indicator.weight
    if new_weight < 0:
        errors["new_weight"] = "调整后分值不能为负数。"
    delta = new_weight - indicator.weight
    if delta:
        if counterpart is None:
            errors["counterpart"] = "调整分值须指定一个同项目的指标调入/调出相应分值，使权重合计仍为 100。"
        elif counterpart.project_id != indicator.project_id or counterpart.pk == indicator.pk:
            errors["counterpart"] = "分值调出/调入指标须为同一项目中的另一个指标。"
        elif counterpart.weight - delta < 0:
            errors["counterpart"] = (
                f"“{counterpart.name}”现有分值 {counterpart.weight.normalize():f}，"
                f"调出 {delta.normalize():f} 后将为负数。"
            )
    else:
        counterpart = None
    target_changed = (
        new_target_text != indicator.target_text
        if indicator.is_qualitative
        else new_target_value != indicator.target_value
    )
    if not errors and not target_changed and not delta:
        raise ValidationError("调整后的年度指标值和分值与现值相同，无需调整。")
    if errors:
        raise ValidationError(errors)
    adjustment = IndicatorAdjustment.objects.create(
        indicator=indicator,
        old_target_value=indicator.target_value,
        new_target_value=new_target_value,
        old_target_text=indicator.target_text,
        new_target_text=new_target_text,
        old_weight=indicator.weight,
        new_weight=new_weight,
        counterpart=counterpart,
        reason=reason,
        suggested_by_monitoring=suggested_by_monitoring,
        requested_by=actor,
    )
    record_transition(
        obj=adjustment,
        action="request",
        from_state="",
        to_state=adjustment.status,
        actor=actor,
        reason=reason,
    )
    return adjustment


@transaction.atomic
def decide_adjustment(
    *, adjustment: IndicatorAdjustment, action: str, actor, reason: str = ""
) -> IndicatorAdjustment:
    """Approve, reject or withdraw a request (ADJUSTMENT_WORKFLOW). Approval applies the new target and
    weight to the indicator and its counterpart in the same transaction."""
    adjustment = IndicatorAdjustment.objects.select_for_update().get(pk=adjustment.pk)
    transition = ADJUSTMENT_WORKFLOW.check(state=adjustment.status, action=action, user=actor)
    reason = (reason or "").strip()
    if action == "reject" and not reason:
        raise ValidationError({"reason": "驳回须填写审批意见。"})
    if action == "withdraw" and adjustment.requested_by_id != actor.pk:
        raise PermissionDenied("只有申请人本人可以撤回调整申请。")
    indicator = (
        Indicator.objects.select_for_update().select_related("project").get(pk=adjustment.indicator_id)
    )
    ensure_year_open(indicator.project, "审批指标调整")
    if action == "approve":
        if (
            indicator.target_value != adjustment.old_target_value
            or indicator.target_text != adjustment.old_target_text
            or indicator.weight != adjustment.old_weight
        ):
            raise ValidationError("申请提交后该指标已被修改，原值不再一致，请驳回后重新申请。")
        delta = adjustment.new_weight - adjustment.old_weight
        if delta and adjustment.counterpart_id:
            counterpart = Indicator.objects.select_for_update().get(pk=adjustment.counterpart_id)
            if counterpart.weight - delta < 0:
                raise ValidationError(
                    f"“{counterpart.name}”现有分值 {counterpart.weight.normalize():f}，"
                    "调出后将为负数，不能批准。"
                )
            counterpart.weight -= delta
            counterpart._change_reason = f"指标调整 #{adjustment.pk}（分值调出/调入）"
            counterpart.save(update_fields=["weight", "updated_at"])
        indicator.target_value = adjustment.new_target_value
        indicator.target_text = adjustment.new_target_text
        indicator.weight = adjustment.new_weight
        indicator._change_reason = f"指标调整 #{adjustment.pk}"
        indicator.save(update_fields=["target_value", "target_text", "weight", "updated_at"])
    from_state = adjustment.status
    adjustment.status = transition.target
    if action in ("approve", "reject"):
        adjustment.decided_by = actor
        adjustment.decided_at = timezone.now()
        adjustment.decision_reason = reason
    adjustment.save()
    record_transition(
        obj=adjustment,
        action=action,
        from_state=from_state,
        to_state=adjustment.status,
        actor=actor,
        reason=reason,
    )
    return adjustment


# --- evaluation ----------------------------------------------------------------------------------------


@transaction.atomic
def evaluate_indicator(
    *,
    indicator: Indicator,
    actor,
    deviation_note: str = "",
    tier: str = "",
    percent: Decimal | None = None,
    reason: str = "",
) -> Indicator:
    """The evaluator's tier and percentage for a qualitative indicator (with a reason), and the deviation
    note (偏差原因分析及改进措施) for any indicator."""
    if not actor.has_perm("performance.evaluate_indicator"):
        raise PermissionDenied("您的角色无权评价绩效指标。")
    indicator = Indicator.objects.select_for_update().select_related("project").get(pk=indicator.pk)
    ensure_year_open(indicator.project, "评价绩效指标")
    errors: dict[str, str] = {}
    if indicator.is_qualitative:
        reason = (reason or "").strip()
        if tier not in QualitativeTier.values:
            errors["tier"] = "请选择定性评价档次。"
        elif percent is None:
            errors["percent"] = "请填写得分比例。"
        else:
            message = check_qualitative_percent(tier, percent)
            if message:
                errors["percent"] = message
        if not reason:
            errors["reason"] = "请填写评价理由。"
        if errors:
            raise ValidationError(errors)
        indicator.qualitative_tier = tier
        indicator.qualitative_percent = percent
        indicator.evaluation_reason = reason
        indicator.evaluated_by = actor
    indicator.deviation_note = (deviation_note or "").strip()
    indicator.save()
    return indicator


# --- monthly snapshots ---------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@transaction.atomic
def take_monthly_snapshots(project: Project, month: dt.date | None = None) -> list[MonthlySnapshot]:
    """Keep each metric-key indicator's value for `month` and year-to-date at its end (default: the month
    of yesterday, so a run on the 1st closes the month before). Idempotent: reruns update the rows."""
    if month is None:
        month = timezone.localdate() - dt.timedelta(days=1)
    first = month_start(month)
    period_end = project.period_end + dt.timedelta(days=1)
    start, end = max(first, project.period_start), min(next_month(first), period_end)
    if start >= end:
        return []
    snapshots = []
    for indicator in (
        project.indicators.exclude(metric_key="").select_related("project").order_by("order", "code")
    ):
        if not metric_is_registered(indicator.metric_key):
            continue  # a module not built yet: the indicator is in manual mode
        month_value = indicator_actual(indicator, start, end, annual=False).value
        ytd_value = indicator_actual(indicator, project.period_start, end, annual=False).value
        snapshot, _created = MonthlySnapshot.objects.update_or_create(
            indicator=indicator, month=first, defaults={"month_value": month_value, "ytd_value": ytd_value}
        )
        snapshots.append(snapshot)
    return snapshots
