"""Enterprise tracking (企业跟踪服务, seed 一(三)1).

Visit plans are generated from the register (new enterprises, growing ones, every enterprise applying to
move out); an officer visits on site or by phone and answers the active questionnaire; appeals (诉求) raised
by the enterprise are routed to a department, answered and closed with the enterprise's satisfaction, and
the enterprise follows them on the portal. Migrations in and out are copied from the registration cases
(with the reason learnt at the move-out visit) for the analysis; a watch list names the enterprises likely
to move out and the rule that flagged each. Business-environment issues carry improvement measures. The
monthly and quarterly tracking report is built from all of it.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel


# --- visit plans -------------------------------------------------------------------------------------
class PlanReason(models.TextChoices):
    NEW_ENTERPRISE = "new", "新落户企业"
    CAPITAL_INCREASE = "capital", "成长企业：增资"
    NEW_BRANCH = "branch", "成长企业：新设分支机构"
    SCOPE_WIDENED = "scope", "成长企业：经营范围扩大"
    MOVE_OUT = "move_out", "拟迁出企业"
    MANUAL = "manual", "人工添加"


class PlanRule(TimeStampedModel):
    """One editable rule that generates visit plans (per authority; the defaults are created on first use)."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    reason = models.CharField("计划来源", max_length=20, choices=PlanReason.choices)
    enabled = models.BooleanField("启用", default=True)
    # new: established within the last N days; growth rules: the register change within the last N days.
    window_days = models.PositiveIntegerField("统计窗口（天）", default=90)
    # capital: the increase must be at least this share of the old capital (percent); scope: at least this
    # many new business items. Unused by the other rules.
    threshold = models.DecimalField("阈值", max_digits=10, decimal_places=2, default=0)
    due_days = models.PositiveIntegerField("走访期限（天）", default=30)
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "走访计划规则"
        verbose_name_plural = "走访计划规则"
        ordering = ["authority", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "reason"], name="uniq_tracking_plan_rule")
        ]

    def __str__(self) -> str:
        return self.get_reason_display()


class PlanState(models.TextChoices):
    OPEN = "open", "待分派"
    ASSIGNED = "assigned", "已分派"
    DONE = "done", "已走访"
    CANCELLED = "cancelled", "已取消"


class VisitPlan(AuthorityScopedModel):
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", verbose_name="企业"
    )
    reason = models.CharField("计划来源", max_length=20, choices=PlanReason.choices, db_index=True)
    # What made the rule fire, in words ("注册资本由 100 万元增至 500 万元"), and the key of that event so a
    # second generation run adds nothing (e.g. "case:YC2023…" or "established:2023-03-01").
    trigger = models.CharField("触发说明", max_length=300)
    trigger_key = models.CharField("触发键", max_length=100)
    source_case_number = models.CharField("关联登记业务", max_length=30, blank=True)
    state = models.CharField(
        "状态", max_length=20, choices=PlanState.choices, default=PlanState.OPEN, db_index=True
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="走访专员",
    )
    planned_on = models.DateField("生成日期", db_index=True)
    due_on = models.DateField("走访期限", db_index=True)
    cancel_reason = models.CharField("取消原因", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "走访计划"
        verbose_name_plural = "走访计划"
        ordering = ["due_on", "id"]
        permissions = [("assign_visitplan", "分派走访计划")]
        indexes = [models.Index(fields=["authority", "state", "due_on"], name="trk_plan_auth_state_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "enterprise", "reason", "trigger_key"], name="uniq_tracking_plan_trigger"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.enterprise_id}"


# --- questionnaire -----------------------------------------------------------------------------------
class Questionnaire(TimeStampedModel):
    """A version of the visit questionnaire; visits keep the version they answered, so editing never
    changes past answers. One version per authority is active."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    title = models.CharField("问卷名称", max_length=100)
    version = models.PositiveIntegerField("版本", default=1)
    is_active = models.BooleanField("启用", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "走访问卷"
        verbose_name_plural = "走访问卷"
        ordering = ["authority", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "version"], name="uniq_tracking_questionnaire_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AnswerType(models.TextChoices):
    TEXT = "text", "文本"
    INTEGER = "integer", "整数"
    DECIMAL = "decimal", "数值"
    YES_NO = "yes_no", "是/否"
    CHOICE = "choice", "单选"
    MULTI = "multi", "多选"
    DATE = "date", "日期"


class Question(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField("编码", max_length=40)
    order = models.PositiveIntegerField("顺序", default=0)
    text = models.CharField("问题", max_length=200)
    answer_type = models.CharField("答案类型", max_length=10, choices=AnswerType.choices)
    choices = models.JSONField("选项", default=list, blank=True)
    required = models.BooleanField("必答", default=False)
    # Marks the question whose "yes" (or chosen option) means the enterprise intends to move out; the watch
    # list's "move-out enquiry" rule reads it.
    signals_move_out = models.BooleanField("迁出意向信号", default=False)
    help_text = models.CharField("填写说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "问卷题目"
        verbose_name_plural = "问卷题目"
        ordering = ["questionnaire", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "code"], name="uniq_tracking_question_code")
        ]

    def __str__(self) -> str:
        return self.text


# --- visits ------------------------------------------------------------------------------------------
class VisitMethod(models.TextChoices):
    ON_SITE = "on_site", "现场走访"
    PHONE = "phone", "电话访问"


class VisitState(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"


class MoveOutReason(models.TextChoices):
    """Why an enterprise moves out, as learnt at the visit (the analysis groups by it)."""

    COST = "cost", "经营成本（租金、人力）"
    PREMISES = "premises", "经营场地不足或不合适"
    POLICY = "policy", "外地政策吸引"
    MARKET = "market", "贴近市场/客户"
    GROUP = "group", "集团统一布局"
    SERVICE = "service", "政务服务/营商环境"
    TALENT = "talent", "人才招聘困难"
    OTHER = "other", "其他"
    UNKNOWN = "unknown", "未知"


class Visit(AuthorityScopedModel):
    number = models.CharField("走访编号", max_length=30)
    plan = models.ForeignKey(
        VisitPlan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name="走访计划",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", verbose_name="企业"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="走访专员"
    )
    method = models.CharField("方式", max_length=10, choices=VisitMethod.choices)
    visited_on = models.DateField("走访日期", db_index=True)
    contact_name = models.CharField("企业联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    questionnaire = models.ForeignKey(
        Questionnaire, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="问卷"
    )
    # {question code: answer} in the question's type (int, str "12.50" for decimals, bool, list, ISO date).
    answers = models.JSONField("问卷答案", default=dict, blank=True)
    findings = models.TextField("走访发现", blank=True)
    move_out_reason = models.CharField("拟迁出原因", max_length=20, blank=True, choices=MoveOutReason.choices)
    state = models.CharField(
        "状态", max_length=10, choices=VisitState.choices, default=VisitState.DRAFT, db_index=True
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["authority", "-visited_on"], name="trk_visit_auth_date")]
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="uniq_tracking_visit_number")
        ]

    def __str__(self) -> str:
        return self.number


# --- departments and appeals -------------------------------------------------------------------------
class Department(TimeStampedModel):
    """A department an appeal is routed to (区发改局, 人社局, 税务局, …); its members answer its appeals."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    name = models.CharField("部门名称", max_length=100)
    is_active = models.BooleanField("启用", default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="tracking_departments"
    )
    default_days = models.PositiveIntegerField("默认办理时限（工作日）", default=10)

    class Meta:
        verbose_name = "承办部门"
        verbose_name_plural = "承办部门"
        ordering = ["authority", "name"]
        constraints = [models.UniqueConstraint(fields=["authority", "name"], name="uniq_tracking_department")]

    def __str__(self) -> str:
        return self.name


class AppealCategory(models.TextChoices):
    POLICY = "policy", "政策咨询与兑现"
    FINANCE = "finance", "融资信贷"
    LABOUR = "labour", "用工与人才"
    PREMISES = "premises", "场地与物业"
    APPROVAL = "approval", "审批与证照"
    TAX = "tax", "税费"
    INFRASTRUCTURE = "infrastructure", "配套设施（交通、水电）"
    MOVE_OUT = "move_out", "迁出咨询"
    OTHER = "other", "其他"


class AppealState(models.TextChoices):
    REGISTERED = "registered", "已登记"
    ROUTED = "routed", "已转办"
    ANSWERED = "answered", "已反馈"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"


class Satisfaction(models.IntegerChoices):
    VERY_SATISFIED = 5, "非常满意"
    SATISFIED = 4, "满意"
    NEUTRAL = 3, "基本满意"
    DISSATISFIED = 2, "不满意"
    VERY_DISSATISFIED = 1, "非常不满意"


class Appeal(AuthorityScopedModel):
    # Unique per authority: 诉{year}{seq:05d}.
    number = models.CharField("诉求编号", max_length=30)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", verbose_name="企业"
    )
    visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name="来源走访",
    )
    category = models.CharField("诉求类别", max_length=20, choices=AppealCategory.choices, db_index=True)
    title = models.CharField("诉求标题", max_length=100)
    description = models.TextField("诉求内容")
    contact_name = models.CharField("联系人", max_length=50)
    contact_phone = models.CharField("联系电话", max_length=20)
    state = models.CharField(
        "状态", max_length=20, choices=AppealState.choices, default=AppealState.REGISTERED, db_index=True
    )
    raised_on = models.DateField("登记日期", db_index=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name="承办部门",
    )
    routed_on = models.DateField("转办日期", null=True, blank=True)
    due_on = models.DateField("办理期限", null=True, blank=True, db_index=True)
    feedback = models.TextField("办理反馈", blank=True)
    answered_at = models.DateTimeField("反馈时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # Stored at closing so the on-time figure adds up stored values (answered on or before due_on).
    closed_on_time = models.BooleanField("按期办结", null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        "企业满意度", choices=Satisfaction.choices, null=True, blank=True
    )
    satisfaction_comment = models.CharField("满意度说明", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "企业诉求"
        verbose_name_plural = "企业诉求"
        ordering = ["-raised_on", "-id"]
        permissions = [
            ("route_appeal", "转办诉求"),
            ("answer_appeal", "反馈诉求办理结果"),
            ("close_appeal", "办结诉求"),
        ]
        indexes = [models.Index(fields=["authority", "state", "due_on"], name="trk_appeal_auth_state_due")]
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="uniq_tracking_appeal_number")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class AppealEvent(models.Model):
    """Every transition of an appeal: who, when, from what to what, why (also what the portal shows, minus the
    actor's name)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=40)
    label = models.CharField("操作名称", max_length=40)
    from_state = models.CharField("原状态", max_length=20, choices=AppealState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=20, choices=AppealState.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="操作人"
    )
    occurred_at = models.DateTimeField("时间", db_index=True)
    reason = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "诉求流转记录"
        verbose_name_plural = "诉求流转记录"
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.action}"


class NumberCounter(models.Model):
    """The last sequence number of an authority's visits or appeals in one year (taken under a row lock)."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("编号类别", max_length=10)  # "visit" | "appeal"
    year = models.PositiveIntegerField("年度")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "编号计数器"
        verbose_name_plural = "编号计数器"
        constraints = [
            models.UniqueConstraint(fields=["authority", "kind", "year"], name="uniq_tracking_number_counter")
        ]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.kind} {self.year} {self.last}"


# --- migration analysis ------------------------------------------------------------------------------
class MigrationDirection(models.TextChoices):
    IN = "in", "迁入"
    OUT = "out", "迁出"


class Migration(AuthorityScopedModel):
    """One move in or out, copied from an approved registration case (迁入/迁出) with the enterprise's facts
    at that moment, so the analysis groups one table and never joins the register."""

    direction = models.CharField("方向", max_length=3, choices=MigrationDirection.choices)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enterprise_name = models.CharField("企业名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18)
    case_number = models.CharField("登记业务编号", max_length=30, unique=True)
    moved_on = models.DateField("迁移日期")
    industry = models.CharField("行业门类", max_length=1)
    entity_type = models.CharField("主体类型", max_length=20)
    registered_capital = models.DecimalField("注册资本（万元）", max_digits=16, decimal_places=4, default=0)
    # The other side: where it came from (in) or went to (out) — the authority's name as given on the case,
    # and the region (province/city) derived from it for grouping.
    counterpart_authority = models.CharField("迁出地/迁入地登记机关", max_length=100)
    counterpart_region = models.CharField("迁出地/迁入地区域", max_length=50, db_index=True)
    reason = models.CharField(
        "迁移原因", max_length=20, choices=MoveOutReason.choices, default=MoveOutReason.UNKNOWN
    )

    class Meta:
        verbose_name = "企业迁移"
        verbose_name_plural = "企业迁移"
        ordering = ["-moved_on", "-id"]
        indexes = [
            models.Index(fields=["authority", "direction", "moved_on"], name="trk_migr_auth_dir_date"),
            # Every column the analysis groups by: a year or a quarter is read from the period's index entries
            # alone, never the table (bench migration_analytics).
            models.Index(
                fields=[
                    "authority",
                    "moved_on",
                    "direction",
                    "industry",
                    "entity_type",
                    "counterpart_region",
                    "reason",
                    "registered_capital",
                ],
                name="trk_migr_auth_date_facts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.enterprise_name}"


class WatchRule(models.TextChoices):
    MOVE_OUT_ENQUIRY = "enquiry", "有迁出咨询/意向"
    REPEATED_APPEALS = "appeals", "反复提出诉求"
    ADDRESS_OUTSIDE = "address", "住所变更至区外"
    MOVE_OUT_APPLICATION = "application", "已申请迁出"


class WatchState(models.TextChoices):
    WATCHING = "watching", "关注中"
    CLEARED = "cleared", "已解除"
    MOVED_OUT = "moved_out", "已迁出"


class WatchEntry(AuthorityScopedModel):
    """An enterprise on the move-out watch list, with the rule that flagged it and why."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", verbose_name="企业"
    )
    rule = models.CharField("预警规则", max_length=20, choices=WatchRule.choices)
    detail = models.CharField("预警依据", max_length=300)
    flagged_on = models.DateField("列入日期", db_index=True)
    state = models.CharField("状态", max_length=20, choices=WatchState.choices, default=WatchState.WATCHING)
    cleared_reason = models.CharField("解除原因", max_length=300, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "迁出预警"
        verbose_name_plural = "迁出预警"
        ordering = ["-flagged_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "enterprise", "rule"],
                condition=models.Q(state="watching"),
                name="uniq_tracking_watch_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.rule}"


# --- business environment ----------------------------------------------------------------------------
class IssueState(models.TextChoices):
    OPEN = "open", "待分析"
    ANALYSED = "analysed", "已分析"
    IMPROVING = "improving", "整改中"
    RESOLVED = "resolved", "已解决"


class BusinessIssue(AuthorityScopedModel):
    """A business-environment problem found through visits and appeals, its analysis and its measures."""

    title = models.CharField("问题", max_length=200)
    category = models.CharField("类别", max_length=20, choices=AppealCategory.choices)
    description = models.TextField("问题描述")
    analysis = models.TextField("原因分析", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="责任人"
    )
    state = models.CharField(
        "状态", max_length=20, choices=IssueState.choices, default=IssueState.OPEN, db_index=True
    )
    found_on = models.DateField("发现日期", db_index=True)
    resolved_on = models.DateField("解决日期", null=True, blank=True)
    appeals = models.ManyToManyField(Appeal, blank=True, related_name="issues", verbose_name="相关诉求")
    visits = models.ManyToManyField(Visit, blank=True, related_name="issues", verbose_name="相关走访")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "营商环境问题"
        verbose_name_plural = "营商环境问题"
        ordering = ["-found_on", "-id"]

    def __str__(self) -> str:
        return self.title


class MeasureState(models.TextChoices):
    PLANNED = "planned", "计划中"
    IN_PROGRESS = "in_progress", "实施中"
    DONE = "done", "已完成"


class ImprovementMeasure(TimeStampedModel):
    issue = models.ForeignKey(BusinessIssue, on_delete=models.CASCADE, related_name="measures")
    description = models.TextField("改进措施")
    owner_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="责任部门"
    )
    due_on = models.DateField("完成期限")
    state = models.CharField(
        "状态", max_length=20, choices=MeasureState.choices, default=MeasureState.PLANNED
    )
    done_on = models.DateField("完成日期", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "改进措施"
        verbose_name_plural = "改进措施"
        ordering = ["issue", "due_on", "id"]

    def __str__(self) -> str:
        return self.description[:40]


# --- periodic report ---------------------------------------------------------------------------------
class ReportPeriod(models.TextChoices):
    MONTH = "month", "月报"
    QUARTER = "quarter", "季报"


class TrackingReport(AuthorityScopedModel):
    """The periodic tracking report (企业跟踪服务报告): the figures are frozen in `content` when generated, so
    re-rendering gives the same bytes (checked against the stored hashes)."""

    period = models.CharField("报告类型", max_length=10, choices=ReportPeriod.choices)
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    number = models.CharField("报告编号", max_length=40)
    generated_at = models.DateTimeField("生成时间")
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField("报告内容", default=dict)
    pdf = models.FileField("PDF", upload_to="tracking/reports/%Y/", blank=True)
    docx = models.FileField("Word", upload_to="tracking/reports/%Y/", blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    docx_sha256 = models.CharField("Word SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "企业跟踪服务报告"
        verbose_name_plural = "企业跟踪服务报告"
        ordering = ["-period_start", "period"]
        permissions = [("generate_trackingreport", "生成跟踪服务报告")]
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="uniq_tracking_report_number")
        ]

    def __str__(self) -> str:
        return self.number
