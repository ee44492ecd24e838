"""Budget and performance evaluation (预算与绩效): the seed document's own subject.

A Project (经济服务审批工作经费, one fiscal year) has budget lines, contracts with a payment schedule,
payments, indicators in the 财预〔2020〕10号 frame, their mid-year adjustments, monthly snapshots of the
measured values, and the self-evaluation report generated from the same numbers.

All amounts are Decimal yuan; pages and reports show 万元 (core.money).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel
from bizreg.core.statemachine import StateMachine, transition

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0")


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "编制中"
    ACTIVE = "active", "执行中"
    CLOSED = "closed", "已结项"


PROJECT_WORKFLOW = StateMachine(
    state_labels=dict(ProjectStatus.choices),
    transitions=[
        transition(
            "activate", "下达执行", [ProjectStatus.DRAFT], ProjectStatus.ACTIVE, "performance.manage_project"
        ),
        transition(
            "close", "年度结项", [ProjectStatus.ACTIVE], ProjectStatus.CLOSED, "performance.close_project"
        ),
        transition(
            "reopen", "撤销结项", [ProjectStatus.CLOSED], ProjectStatus.ACTIVE, "performance.close_project"
        ),
    ],
)


class ReverseRule(models.TextChoices):
    """How an indicator whose target is an upper bound (≤) is scored when the actual exceeds it."""

    RATIO = "ratio", "目标值 ÷ 实际值 × 权重"
    LINEAR = "linear", "线性扣分，实际值达 2 倍目标值时为 0"


class Project(AuthorityScopedModel):
    """A budgeted project of one fiscal year (e.g. 经济服务审批工作经费 2023)."""

    code = models.CharField("项目编号", max_length=40)
    name = models.CharField("项目名称", max_length=100)
    fiscal_year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000)])
    department = models.CharField("项目单位", max_length=100)
    lead_office = models.CharField("牵头科室", max_length=100, blank=True)
    period_start = models.DateField("实施开始日期")
    period_end = models.DateField("实施结束日期")
    initial_budget = models.DecimalField("年初预算数（元）", **MONEY, validators=[MinValueValidator(ZERO)])
    adjusted_budget = models.DecimalField("调整后预算数（元）", **MONEY, validators=[MinValueValidator(ZERO)])
    # The finance system's 单位指标已用金额: the authoritative execution figure when entered; otherwise
    # the execution is the sum of the payments recorded here. A difference is a consistency finding.
    reported_execution = models.DecimalField(
        "财务系统已用金额（元）", **MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    goals = models.TextField("年度绩效目标", blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
    )
    # Scoring rules (REFERENCE.md: marked unconfirmed, hence configurable per project).
    budget_weight = models.DecimalField(
        "预算执行率分值", max_digits=5, decimal_places=2, default=Decimal("10")
    )
    reverse_rule = models.CharField(
        "反向指标计分规则", max_length=10, choices=ReverseRule.choices, default=ReverseRule.RATIO
    )
    overachievement_threshold = models.DecimalField(
        "超额完成提示阈值（实际 ÷ 目标）",
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.50"),
        help_text="实际值超过目标值的该倍数时，要求说明目标设定是否偏低",
    )
    overachievement_deduction = models.BooleanField(
        "超额过多按偏离度扣分", default=False, help_text="启用后，超过阈值的部分按偏离比例扣减该指标分值"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "预算项目"
        verbose_name_plural = "预算项目"
        ordering = ["-fiscal_year", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "fiscal_year", "code"], name="uniq_project_code_year"
            )
        ]
        permissions = [
            ("manage_project", "编制和下达预算项目"),
            ("close_project", "年度结项/撤销结项"),
            ("import_budget", "导入预算表"),
            ("export_budget", "导出预算与绩效数据"),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.name}"


class ProjectComponent(models.Model):
    """A sub-project named in the report's overview (项目概述), tied to the budget lines that fund it.

    The seed names 档案场地租赁项目 as a sub-project but gives it no line: a component with no line is a
    consistency finding.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="components", verbose_name="项目"
    )
    name = models.CharField("子项目名称", max_length=100)
    order = models.PositiveSmallIntegerField("顺序", default=0)
    lines = models.ManyToManyField(
        "BudgetLine", blank=True, related_name="components", verbose_name="预算明细"
    )

    class Meta:
        verbose_name = "子项目"
        verbose_name_plural = "子项目"
        ordering = ["project", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_component_name")]

    def __str__(self) -> str:
        return self.name


class BudgetLine(TimeStampedModel):
    """A budget line (资金使用对象, one of the sub-projects of seed section 二)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lines", verbose_name="项目")
    code = models.CharField("明细编号", max_length=20)
    name = models.CharField("明细名称", max_length=100)
    amount = models.DecimalField("预算金额（元）", **MONEY, validators=[MinValueValidator(ZERO)])
    order = models.PositiveSmallIntegerField("顺序", default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "预算明细"
        verbose_name_plural = "预算明细"
        ordering = ["project", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="uniq_line_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Contract(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="contracts", verbose_name="项目"
    )
    line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="contracts", verbose_name="预算明细"
    )
    number = models.CharField("合同编号", max_length=50)
    title = models.CharField("合同名称", max_length=150)
    vendor = models.CharField("供应商", max_length=150)
    amount = models.DecimalField("合同金额（元）", **MONEY, validators=[MinValueValidator(ZERO)])
    signed_on = models.DateField("签订日期")
    starts_on = models.DateField("服务开始日期")
    ends_on = models.DateField("服务结束日期")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "合同"
        verbose_name_plural = "合同"
        ordering = ["project", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="uniq_contract_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class PaymentMilestone(models.Model):
    """One instalment of a contract's payment schedule, tied to a deliverable (按合同约定完成后支付)."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="milestones", verbose_name="合同"
    )
    order = models.PositiveSmallIntegerField("期次")
    deliverable = models.CharField("交付内容", max_length=200)
    due_on = models.DateField("计划支付日期")
    amount = models.DecimalField("计划金额（元）", **MONEY, validators=[MinValueValidator(ZERO)])
    delivered_on = models.DateField("验收日期", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "支付计划"
        verbose_name_plural = "支付计划"
        ordering = ["contract", "order"]
        constraints = [models.UniqueConstraint(fields=["contract", "order"], name="uniq_milestone_order")]

    def __str__(self) -> str:
        return f"{self.contract.number} 第{self.order}期"


class Payment(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="payments", verbose_name="项目"
    )
    line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="payments", verbose_name="预算明细"
    )
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name="合同",
    )
    milestone = models.ForeignKey(
        PaymentMilestone,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name="支付计划",
    )
    paid_on = models.DateField("支付日期", db_index=True)
    amount = models.DecimalField("金额（元）", **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    voucher_number = models.CharField("凭证号", max_length=50, blank=True)
    description = models.CharField("摘要", max_length=200, blank=True)
    evidence = models.FileField("凭证附件", upload_to="performance/payments/%Y/", blank=True)
    evidence_sha256 = models.CharField("附件 SHA-256", max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "支付"
        verbose_name_plural = "支付"
        ordering = ["-paid_on", "-id"]
        indexes = [models.Index(fields=["project", "paid_on"], name="payment_project_date")]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"


class Level1(models.TextChoices):
    OUTPUT = "output", "产出指标"
    BENEFIT = "benefit", "效益指标"
    SATISFACTION = "satisfaction", "满意度指标"


class Level2(models.TextChoices):
    QUANTITY = "quantity", "数量指标"
    QUALITY = "quality", "质量指标"
    TIMELINESS = "timeliness", "时效指标"
    COST = "cost", "成本指标"
    ECONOMIC = "economic", "经济效益指标"
    SOCIAL = "social", "社会效益指标"
    ECOLOGICAL = "ecological", "生态效益指标"
    SUSTAINABLE = "sustainable", "可持续影响指标"
    SERVICE_OBJECT = "service_object", "服务对象满意度指标"


LEVEL2_OF_LEVEL1 = {
    Level1.OUTPUT: {Level2.QUANTITY, Level2.QUALITY, Level2.TIMELINESS, Level2.COST},
    Level1.BENEFIT: {Level2.ECONOMIC, Level2.SOCIAL, Level2.ECOLOGICAL, Level2.SUSTAINABLE},
    Level1.SATISFACTION: {Level2.SERVICE_OBJECT},
}

# Default weights of the self-evaluation frame (REFERENCE.md); the budget execution rate is the project's
# budget_weight. Together they total 100.
DEFAULT_LEVEL1_WEIGHTS = {
    Level1.OUTPUT: Decimal(50),
    Level1.BENEFIT: Decimal(30),
    Level1.SATISFACTION: Decimal(10),
}


class Direction(models.TextChoices):
    AT_LEAST = "ge", "≥"
    AT_MOST = "le", "≤"
    EQUAL = "eq", "="
    QUALITATIVE = "qual", "定性"


class QualitativeTier(models.TextChoices):
    """REFERENCE.md: 达成 80–100 %, 部分达成 60–80 %, 未达成 0–60 % of the weight."""

    MET = "met", "达成年度指标"
    PARTIAL = "partial", "部分达成并具有一定效果"
    NOT_MET = "not_met", "未达成且效果较差"


QUALITATIVE_TIER_RANGES = {
    QualitativeTier.MET: (Decimal(80), Decimal(100)),
    QualitativeTier.PARTIAL: (Decimal(60), Decimal(80)),
    QualitativeTier.NOT_MET: (Decimal(0), Decimal(60)),
}


class Indicator(TimeStampedModel):
    """A 三级 indicator with its target, weight and data source (metric key, or manual value + evidence)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="indicators", verbose_name="项目"
    )
    code = models.CharField("指标编号", max_length=20)
    order = models.PositiveSmallIntegerField("序号", default=0)
    level1 = models.CharField("一级指标", max_length=20, choices=Level1.choices)
    level2 = models.CharField("二级指标", max_length=20, choices=Level2.choices)
    name = models.CharField("三级指标", max_length=200)
    unit = models.CharField("计量单位", max_length=20, blank=True)
    direction = models.CharField(
        "指标方向", max_length=4, choices=Direction.choices, default=Direction.AT_LEAST
    )
    target_value = models.DecimalField("年度指标值", max_digits=16, decimal_places=4, null=True, blank=True)
    target_text = models.CharField("年度指标值（定性）", max_length=50, blank=True)
    weight = models.DecimalField("分值", max_digits=5, decimal_places=2, validators=[MinValueValidator(ZERO)])
    metric_key = models.CharField("数据来源指标键", max_length=100, blank=True)
    data_source = models.CharField("数据来源说明", max_length=200, blank=True)
    # Manual mode: where no module records the figure yet, the value and its evidence are entered.
    manual_value = models.DecimalField(
        "实际完成值（手工）", max_digits=16, decimal_places=4, null=True, blank=True
    )
    manual_text = models.CharField("实际完成情况（定性）", max_length=100, blank=True)
    evidence = models.FileField("佐证材料", upload_to="performance/evidence/%Y/", blank=True)
    evidence_sha256 = models.CharField("佐证 SHA-256", max_length=64, blank=True)
    evidence_note = models.CharField("佐证说明", max_length=300, blank=True)
    # Qualitative evaluation (and the evaluator's reason) — used when direction is qualitative.
    qualitative_tier = models.CharField(
        "定性评价档次", max_length=10, choices=QualitativeTier.choices, blank=True
    )
    qualitative_percent = models.DecimalField(
        "定性得分比例（%）", max_digits=5, decimal_places=2, null=True, blank=True
    )
    evaluation_reason = models.TextField("评价理由", blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="评价人",
    )
    deviation_note = models.TextField("偏差原因分析及改进措施", blank=True)
    # The values as first set (for the report's "original vs adjusted" columns).
    original_target_value = models.DecimalField(
        "原年度指标值", max_digits=16, decimal_places=4, null=True, blank=True
    )
    original_target_text = models.CharField("原年度指标值（定性）", max_length=50, blank=True)
    original_weight = models.DecimalField("原分值", max_digits=5, decimal_places=2, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "绩效指标"
        verbose_name_plural = "绩效指标"
        ordering = ["project", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="uniq_indicator_code")]
        permissions = [("evaluate_indicator", "评价绩效指标（定性档次、偏差说明）")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_qualitative(self) -> bool:
        return self.direction == Direction.QUALITATIVE

    @property
    def target_display(self) -> str:
        if self.is_qualitative or self.target_value is None:
            return self.target_text
        value = self.target_value.normalize()
        text = f"{value:f}"
        return (
            f"{self.get_direction_display()}{text}{self.unit}"
            if self.direction != Direction.EQUAL
            else f"{text}{self.unit}"
        )


class AdjustmentStatus(models.TextChoices):
    REQUESTED = "requested", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


ADJUSTMENT_WORKFLOW = StateMachine(
    state_labels=dict(AdjustmentStatus.choices),
    transitions=[
        transition(
            "approve",
            "批准",
            [AdjustmentStatus.REQUESTED],
            AdjustmentStatus.APPROVED,
            "performance.approve_adjustment",
        ),
        transition(
            "reject",
            "驳回",
            [AdjustmentStatus.REQUESTED],
            AdjustmentStatus.REJECTED,
            "performance.approve_adjustment",
        ),
        transition(
            "withdraw",
            "撤回",
            [AdjustmentStatus.REQUESTED],
            AdjustmentStatus.WITHDRAWN,
            "performance.add_indicatoradjustment",
        ),
    ],
)


class IndicatorAdjustment(TimeStampedModel):
    """A mid-year request to change an indicator's target and/or weight (seed problem 二), with approval."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="adjustments", verbose_name="指标"
    )
    status = models.CharField(
        "状态", max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.REQUESTED
    )
    old_target_value = models.DecimalField(
        "原年度指标值", max_digits=16, decimal_places=4, null=True, blank=True
    )
    new_target_value = models.DecimalField(
        "调整后年度指标值", max_digits=16, decimal_places=4, null=True, blank=True
    )
    old_target_text = models.CharField("原年度指标值（定性）", max_length=50, blank=True)
    new_target_text = models.CharField("调整后年度指标值（定性）", max_length=50, blank=True)
    old_weight = models.DecimalField("原分值", max_digits=5, decimal_places=2)
    new_weight = models.DecimalField("调整后分值", max_digits=5, decimal_places=2)
    # Weight changes must keep the total at 100: the counterpart indicator absorbs the difference.
    counterpart = models.ForeignKey(
        Indicator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="分值调出/调入指标",
    )
    reason = models.TextField("调整理由")
    suggested_by_monitoring = models.BooleanField("由监控预警建议", default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_reason = models.TextField("审批意见", blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "指标调整申请"
        verbose_name_plural = "指标调整申请"
        ordering = ["-created_at"]
        permissions = [("approve_adjustment", "审批指标调整")]

    def __str__(self) -> str:
        return f"{self.indicator} 调整（{self.get_status_display()}）"


class PerformanceTransitionLog(models.Model):
    """Every state transition of a project, adjustment or report: who, when, why."""

    object_type = models.CharField("对象类型", max_length=30)
    object_id = models.PositiveBigIntegerField("对象标识")
    action = models.CharField("操作", max_length=30)
    from_state = models.CharField("原状态", max_length=20)
    to_state = models.CharField("新状态", max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    occurred_at = models.DateTimeField("时间", auto_now_add=True)
    reason = models.TextField("理由", blank=True)

    class Meta:
        verbose_name = "状态变更记录"
        verbose_name_plural = "状态变更记录"
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="perf_log_object")]

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id} {self.action}"


class MonthlySnapshot(models.Model):
    """An indicator's measured value for one month and year-to-date, kept as computed then."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="snapshots", verbose_name="指标"
    )
    month = models.DateField("月份（月初）")
    month_value = models.DecimalField("当月值", max_digits=16, decimal_places=4, null=True)
    ytd_value = models.DecimalField("年初至月末累计值", max_digits=16, decimal_places=4, null=True)
    computed_at = models.DateTimeField("计算时间", auto_now=True)

    class Meta:
        verbose_name = "指标月度快照"
        verbose_name_plural = "指标月度快照"
        ordering = ["indicator", "month"]
        constraints = [models.UniqueConstraint(fields=["indicator", "month"], name="uniq_snapshot_month")]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.month:%Y-%m}"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ISSUED = "issued", "已印发"


REPORT_WORKFLOW = StateMachine(
    state_labels=dict(ReportStatus.choices),
    transitions=[
        transition("issue", "印发", [ReportStatus.DRAFT], ReportStatus.ISSUED, "performance.issue_report"),
        transition(
            "revise", "撤回修改", [ReportStatus.ISSUED], ReportStatus.DRAFT, "performance.issue_report"
        ),
    ],
)


class EvaluationReport(TimeStampedModel):
    """The year-end self-evaluation report (绩效自评报告) of a project: editable narrative, data from the
    project. Seven sections as in the seed; the numbers are never typed, they are filled in at render."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="report", verbose_name="项目"
    )
    title = models.CharField("报告标题", max_length=200)
    status = models.CharField("状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    overview = models.TextField("一、项目概述", blank=True)
    finance_note = models.TextField("二、财政支出情况（说明）", blank=True)
    management = models.TextField("三、项目管理情况", blank=True)
    goals_note = models.TextField("四、绩效目标和指标设定情况（说明）", blank=True)
    analysis = models.TextField("五、综合评价分析（说明）", blank=True)
    problems = models.TextField("六、存在的主要问题", blank=True)
    improvements = models.TextField("七、下一步改进措施", blank=True)
    issued_at = models.DateTimeField("印发时间", null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="印发人",
    )
    # What was issued: the files, their checksums and the score they showed.
    docx_file = models.FileField("Word 文件", upload_to="performance/reports/%Y/", blank=True)
    pdf_file = models.FileField("PDF 文件", upload_to="performance/reports/%Y/", blank=True)
    docx_sha256 = models.CharField("Word SHA-256", max_length=64, blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    issued_total_score = models.DecimalField(
        "印发时总分", max_digits=6, decimal_places=2, null=True, blank=True
    )
    acknowledged_findings = models.JSONField("印发时确认的不一致项", default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "绩效自评报告"
        verbose_name_plural = "绩效自评报告"
        permissions = [("issue_report", "印发绩效自评报告")]

    def __str__(self) -> str:
        return self.title
