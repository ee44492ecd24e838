from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel
from bizreg.core.statemachine import StateMachine, transition


class CaseType(models.TextChoices):
    ESTABLISHMENT = "establishment", "设立"
    CHANGE = "change", "变更"
    DEREGISTRATION = "deregistration", "注销（普通）"
    SIMPLE_DEREGISTRATION = "simple_deregistration", "注销（简易）"
    FILING = "filing", "备案"
    MIGRATION_IN = "migration_in", "迁入"
    MIGRATION_OUT = "migration_out", "迁出"


class Channel(models.TextChoices):
    WINDOW = "window", "窗口"
    ONE_STOP_ONLINE = "one_stop", "一网通办"
    FULL_ELECTRONIC = "full_electronic", "全程电子化"
    MAIL = "mail", "邮寄"


class CaseState(models.TextChoices):
    RECEIVED = "received", "已收件"
    RETURNED = "returned", "已退回补正"
    PRE_REVIEWED = "pre_reviewed", "预审通过"
    ACCEPTED = "accepted", "已受理"
    APPROVED = "approved", "已核准"
    REJECTED = "rejected", "不予登记"
    LICENSED = "licensed", "已发照"
    ARCHIVED = "archived", "已归档"
    WITHDRAWN = "withdrawn", "已撤回"


# Not yet decided: a case in one of these may still be withdrawn, and it is still work in hand.
OPEN_STATES = (CaseState.RECEIVED, CaseState.RETURNED, CaseState.PRE_REVIEWED, CaseState.ACCEPTED)

CASE_WORKFLOW = StateMachine(
    state_labels=dict(CaseState.choices),
    transitions=[
        transition(
            "pass_pre_review",
            "预审通过",
            [CaseState.RECEIVED],
            CaseState.PRE_REVIEWED,
            "registration.review_case",
        ),
        transition(
            "return_for_correction",
            "退回补正（一次性告知）",
            [CaseState.RECEIVED],
            CaseState.RETURNED,
            "registration.review_case",
        ),
        transition(
            "resubmit",
            "补正后重新提交",
            [CaseState.RETURNED],
            CaseState.RECEIVED,
            "registration.add_registrationcase",
        ),
        transition(
            "accept", "受理", [CaseState.PRE_REVIEWED], CaseState.ACCEPTED, "registration.review_case"
        ),
        transition("approve", "核准", [CaseState.ACCEPTED], CaseState.APPROVED, "registration.approve_case"),
        transition(
            "reject", "不予登记", [CaseState.ACCEPTED], CaseState.REJECTED, "registration.approve_case"
        ),
        transition(
            "issue_licence", "发照", [CaseState.APPROVED], CaseState.LICENSED, "registration.print_licence"
        ),
        transition(
            "archive",
            "归档",
            # APPROVED: case types that print no licence (注销, 备案, 迁出) are archived after approval;
            # services.cases refuses it for the types that do.
            [CaseState.APPROVED, CaseState.LICENSED, CaseState.REJECTED, CaseState.WITHDRAWN],
            CaseState.ARCHIVED,
            "registration.review_case",
        ),
        transition(
            "withdraw", "撤回申请", OPEN_STATES, CaseState.WITHDRAWN, "registration.add_registrationcase"
        ),
    ],
)


class MaterialRequirement(TimeStampedModel):
    """One item of a case type's configurable materials checklist."""

    case_type = models.CharField("业务类型", max_length=30, choices=CaseType.choices)
    code = models.CharField("材料代码", max_length=40)
    name = models.CharField("材料名称", max_length=200)
    mandatory = models.BooleanField("必交", default=True)
    order = models.PositiveIntegerField("顺序", default=100)
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "申请材料要求"
        verbose_name_plural = "申请材料要求"
        ordering = ["case_type", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["case_type", "code"], name="uniq_material_per_type")]

    def __str__(self) -> str:
        return f"{self.get_case_type_display()}：{self.name}"


class RegistrationCase(AuthorityScopedModel):
    """A registration case (登记业务) from intake to archive."""

    number = models.CharField("业务编号", max_length=30, unique=True)
    external_id = models.CharField("一网通办申请号", max_length=64, blank=True)
    case_type = models.CharField("业务类型", max_length=30, choices=CaseType.choices, db_index=True)
    channel = models.CharField("办理渠道", max_length=20, choices=Channel.choices, db_index=True)
    state = models.CharField(
        "状态", max_length=20, choices=CaseState.choices, default=CaseState.RECEIVED, db_index=True
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registration_cases",
        verbose_name="商事主体",
    )
    enterprise_name = models.CharField("企业名称（申请）", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18, blank=True)
    requested_changes = models.JSONField("申请事项", default=dict, blank=True)
    investigation_reference = models.CharField(
        "关联调查案件", max_length=100, blank=True, help_text="办理被锁定企业的业务时必须与锁定案件一致"
    )
    applicant_name = models.CharField("申请人", max_length=50)
    applicant_id_number = models.CharField("申请人身份证号", max_length=18)
    applicant_phone = models.CharField("申请人手机", max_length=20)
    agent_name = models.CharField("代理人", max_length=50, blank=True)
    agent_id_number = models.CharField("代理人身份证号", max_length=18, blank=True)
    agent_phone = models.CharField("代理人手机", max_length=20, blank=True)
    received_at = models.DateTimeField("收件时间", db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="收件人",
    )
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True, db_index=True)
    due_on = models.DateField("法定办结日", null=True, blank=True, db_index=True)
    extended = models.BooleanField("已延长", default=False)
    decided_at = models.DateTimeField("核准/不予登记时间", null=True, blank=True, db_index=True)
    licensed_at = models.DateTimeField("发照时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    paused_working_days = models.PositiveIntegerField("退回补正占用工作日", default=0)
    on_the_spot = models.BooleanField("当场办结", default=False)
    # Fixed when the case is decided (the statutory figures are those of the calendar known at decision),
    # so the processing-time metrics add up stored numbers instead of recounting working days.
    processing_working_days = models.PositiveIntegerField(
        "受理至决定工作日",
        null=True,
        blank=True,
        help_text="作出核准/不予登记决定时计算，不含退回补正暂停的工作日",
    )
    decided_on_time = models.BooleanField("按期决定", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "登记业务"
        verbose_name_plural = "登记业务"
        ordering = ["-received_at", "-id"]
        permissions = [
            ("review_case", "预审/受理登记业务"),
            ("approve_case", "核准/不予登记"),
            ("print_licence", "打印营业执照"),
            ("approve_extension", "批准延长办理期限"),
            ("manage_licence_stock", "管理执照库存"),
        ]
        indexes = [
            models.Index(fields=["authority", "state", "-received_at"], name="case_auth_state_recv"),
            models.Index(fields=["authority", "case_type", "-received_at"], name="case_auth_type_recv"),
            models.Index(fields=["authority", "due_on"], name="case_auth_due"),
            # The 收件人 filter of the case list, and the test of who received a case in the filter's own
            # choices (selectors.staff): without it SQLite reads every case of the authority per user.
            models.Index(fields=["authority", "received_by", "-received_at"], name="case_auth_receiver_recv"),
            # Covers the processing-time figures: both databases answer them from the index alone (key
            # columns rather than INCLUDE, which SQLite does not have).
            models.Index(
                fields=[
                    "authority",
                    "decided_at",
                    "accepted_at",
                    "processing_working_days",
                    "decided_on_time",
                ],
                name="case_auth_decided",
            ),
            # The investigations' link graph finds the cases of a person by ID number or phone, one
            # set-based query per hop (selectors.people.cases_of_people).
            models.Index(fields=["applicant_id_number"], name="case_applicant_id"),
            models.Index(fields=["agent_id_number"], name="case_agent_id"),
            models.Index(fields=["applicant_phone"], name="case_applicant_phone"),
            models.Index(fields=["agent_phone"], name="case_agent_phone"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "external_id"],
                condition=~Q(external_id=""),
                name="uniq_case_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_case_type_display()} {self.enterprise_name}"


class CaseNumberCounter(models.Model):
    """The last sequence number given to an authority's cases of one day (业务编号 = 机关代码+日期+序号).

    Taken with an UPDATE that locks the row, so two clerks registering at the same moment never get the
    same number; the unique constraint on RegistrationCase.number backs this up.
    """

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    day = models.DateField("日期")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "业务编号计数器"
        verbose_name_plural = "业务编号计数器"
        constraints = [models.UniqueConstraint(fields=["authority", "day"], name="uniq_case_counter_day")]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.day} {self.last}"


class CaseTransitionLog(models.Model):
    """Every state change of a case: who, when, from what to what, why."""

    case = models.ForeignKey(RegistrationCase, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField("操作", max_length=40)
    from_state = models.CharField("原状态", max_length=20, choices=CaseState.choices)
    to_state = models.CharField("新状态", max_length=20, choices=CaseState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="操作人")
    occurred_at = models.DateTimeField("时间", db_index=True)
    reason = models.TextField("理由/说明", blank=True)

    class Meta:
        verbose_name = "业务流转记录"
        verbose_name_plural = "业务流转记录"
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.case.number} {self.action}"


class CaseMaterial(models.Model):
    case = models.ForeignKey(RegistrationCase, on_delete=models.CASCADE, related_name="materials")
    requirement = models.ForeignKey(MaterialRequirement, on_delete=models.PROTECT, verbose_name="材料")
    received = models.BooleanField("已收", default=False)
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "已收材料"
        verbose_name_plural = "已收材料"
        constraints = [models.UniqueConstraint(fields=["case", "requirement"], name="uniq_case_material")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.requirement_id}"


class CaseDeficiency(models.Model):
    """One item of a 一次性告知 return: every deficiency is listed at once."""

    case = models.ForeignKey(RegistrationCase, on_delete=models.CASCADE, related_name="deficiencies")
    round = models.PositiveIntegerField("退回轮次")
    requirement = models.ForeignKey(MaterialRequirement, null=True, blank=True, on_delete=models.PROTECT)
    description = models.CharField("补正内容", max_length=300)
    resolved = models.BooleanField("已补正", default=False)

    class Meta:
        verbose_name = "补正事项"
        verbose_name_plural = "补正事项"
        ordering = ["round", "id"]

    def __str__(self) -> str:
        return self.description


class CasePause(models.Model):
    """Time a case spent returned to the applicant: it does not count toward the statutory clock."""

    case = models.ForeignKey(RegistrationCase, on_delete=models.CASCADE, related_name="pauses")
    started_on = models.DateField("退回日期")
    ended_on = models.DateField("补正日期", null=True, blank=True)

    class Meta:
        verbose_name = "计时暂停"
        verbose_name_plural = "计时暂停"
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(ended_on__isnull=True), name="one_open_pause_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.started_on}–{self.ended_on or ''}"


class CaseExtension(TimeStampedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", "待批准"
        APPROVED = "approved", "已批准"
        REFUSED = "refused", "未批准"

    case = models.OneToOneField(RegistrationCase, on_delete=models.CASCADE, related_name="extension")
    reason = models.CharField("延长理由", max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("批准时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "延长办理期限"
        verbose_name_plural = "延长办理期限"

    def __str__(self) -> str:
        return f"{self.case.number} 延长申请（{self.get_status_display()}）"


class NoticeKind(models.TextChoices):
    ACCEPTANCE = "acceptance", "受理通知书"
    CORRECTION = "correction", "一次性告知书"
    APPROVAL_ESTABLISHMENT = "approval_establishment", "准予设立登记通知书"
    APPROVAL_CHANGE = "approval_change", "准予变更登记（备案）通知书"
    APPROVAL_DEREGISTRATION = "approval_deregistration", "准予注销登记通知书"
    REJECTION = "rejection", "不予登记通知书"
    EXTENSION = "extension", "延长办理期限通知书"
    MIGRATION_LETTER = "migration_letter", "迁移调档函"


class Notice(AuthorityScopedModel):
    """A numbered, reproducible document issued for a case, with a public verification code."""

    case = models.ForeignKey(RegistrationCase, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField("文书类型", max_length=30, choices=NoticeKind.choices)
    number = models.CharField("文书编号", max_length=40, unique=True)
    verification_code = models.CharField("验证码", max_length=32, unique=True)
    issued_at = models.DateTimeField("签发时间")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField("文书内容", default=dict)
    file = models.FileField("PDF", upload_to="notices/%Y/%m/", blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "文书"
        verbose_name_plural = "文书"
        ordering = ["-issued_at"]
        # docs: the staff's notice list (newest first, by kind)
        indexes = [
            models.Index(fields=["authority", "kind", "-issued_at"], name="notice_auth_kind_issued"),
            models.Index(fields=["authority", "-issued_at", "-id"], name="notice_auth_issued"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class NoticeCounter(models.Model):
    """The last number given to an authority's notices of one kind in one year (文书编号 without gaps).

    Taken under a row lock in the issuing transaction: a notice that is rolled back gives its number back.
    """

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    kind = models.CharField("文书类型", max_length=30, choices=NoticeKind.choices)
    year = models.PositiveIntegerField("年度")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "文书编号计数器"
        verbose_name_plural = "文书编号计数器"
        constraints = [
            models.UniqueConstraint(fields=["authority", "kind", "year"], name="uniq_notice_counter")
        ]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.kind} {self.year} {self.last}"


class NoticeIssuerProfile(TimeStampedModel):
    """How an authority's notices are numbered and what they tell the applicant about remedies."""

    authority = models.OneToOneField(
        "core.Authority", on_delete=models.CASCADE, related_name="notice_profile", verbose_name="登记机关"
    )
    short_name = models.CharField(
        "机关代字", max_length=20, blank=True, help_text="文书编号的机关代字，如“穗南政数”；留空时用机关代码"
    )
    number_prefixes = models.JSONField(
        "各类文书编号前缀",
        default=dict,
        blank=True,
        help_text='按文书类型覆盖编号前缀，如 {"approval_establishment": "穗南政数登设字"}',
    )
    review_body = models.CharField(
        "行政复议机关", max_length=100, blank=True, help_text="不予登记通知书中告知的行政复议机关"
    )
    court = models.CharField("管辖人民法院", max_length=100, blank=True)
    address = models.CharField("办公地址", max_length=200, blank=True)
    contact_phone = models.CharField("咨询电话", max_length=30, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "文书签发设置"
        verbose_name_plural = "文书签发设置"

    def __str__(self) -> str:
        return str(self.authority)


class LicenceKind(models.TextChoices):
    ORIGINAL = "original", "正本"
    DUPLICATE = "duplicate", "副本"


class LicenceBatch(AuthorityScopedModel):
    """Blank licence sheets received in one delivery, with a contiguous serial range."""

    kind = models.CharField("类型", max_length=10, choices=LicenceKind.choices)
    prefix = models.CharField("编号前缀", max_length=10, blank=True)
    serial_start = models.PositiveBigIntegerField("起始编号")
    serial_end = models.PositiveBigIntegerField("终止编号")
    unit_cost = models.DecimalField("单价（元）", max_digits=10, decimal_places=2)
    received_on = models.DateField("入库日期")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supplier = models.CharField("供应商", max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "执照入库批次"
        verbose_name_plural = "执照入库批次"
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.prefix}{self.serial_start}–{self.serial_end}"


class LicenceSheet(models.Model):
    """One serial-numbered blank; printing takes the next blank under a row lock."""

    class Status(models.TextChoices):
        BLANK = "blank", "空白"
        PRINTED = "printed", "已打印"
        SPOILED = "spoiled", "打印损坏"
        VOIDED = "voided", "作废"

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT)
    batch = models.ForeignKey(LicenceBatch, on_delete=models.PROTECT, related_name="sheets")
    kind = models.CharField("类型", max_length=10, choices=LicenceKind.choices)
    serial = models.CharField("编号", max_length=30, unique=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.BLANK)
    case = models.ForeignKey(
        RegistrationCase, null=True, blank=True, on_delete=models.PROTECT, related_name="licences"
    )
    used_at = models.DateTimeField("使用时间", null=True, blank=True, db_index=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("损坏/作废原因", max_length=200, blank=True)
    # docs: the serial's number, so "next blank" follows the printed order whatever the prefix/width
    number = models.PositiveBigIntegerField("序号", default=0)
    retired_at = models.DateTimeField("损坏/作废时间", null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replaced_by = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces",
        verbose_name="重新打印用纸",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "执照纸"
        verbose_name_plural = "执照纸"
        ordering = ["serial"]
        indexes = [
            models.Index(fields=["authority", "kind", "status", "serial"], name="sheet_next_blank"),
            models.Index(fields=["authority", "kind", "status", "number"], name="sheet_next_blank_number"),
        ]

    def __str__(self) -> str:
        return self.serial


class LicenceStockSetting(TimeStampedModel):
    """The reorder level of one kind of blank at one authority (below it, the stock page warns)."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    kind = models.CharField("类型", max_length=10, choices=LicenceKind.choices)
    reorder_level = models.PositiveIntegerField("补货预警线（张）")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "执照库存预警线"
        verbose_name_plural = "执照库存预警线"
        constraints = [
            models.UniqueConstraint(fields=["authority", "kind"], name="uniq_licence_stock_setting")
        ]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.get_kind_display()} {self.reorder_level}"


class Courier(models.TextChoices):
    EMS = "ems", "EMS 中国邮政"
    SF = "sf", "顺丰速运"
    JD = "jd", "京东物流"
    ZTO = "zto", "中通快递"
    YTO = "yto", "圆通速递"
    STO = "sto", "申通快递"
    YUNDA = "yunda", "韵达快递"
    OTHER = "other", "其他"


class MailPackage(AuthorityScopedModel):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "收件"
        OUTBOUND = "outbound", "寄出"

    direction = models.CharField("方向", max_length=10, choices=Direction.choices)
    courier = models.CharField("快递公司", max_length=10, choices=Courier.choices)
    tracking_number = models.CharField("快递单号", max_length=40)
    enterprise_name = models.CharField("企业名称", max_length=200)
    enterprise = models.ForeignKey("enterprises.Enterprise", null=True, blank=True, on_delete=models.PROTECT)
    documents = models.TextField("邮寄文件", help_text="每行一个文件名称")
    case = models.ForeignKey(
        RegistrationCase, null=True, blank=True, on_delete=models.PROTECT, related_name="mail"
    )
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # docs: where an outbound licence goes, and the inbound package it answers
    address = models.CharField("寄件/收件地址", max_length=200, blank=True)
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
        verbose_name="对应收件",
    )
    note = models.CharField("备注", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "邮寄件"
        verbose_name_plural = "邮寄件"
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(fields=["authority", "-recorded_at"], name="mail_auth_recorded"),
            models.Index(fields=["tracking_number"], name="mail_tracking_number"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["courier", "tracking_number", "direction"], name="uniq_tracking_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_courier_display()} {self.tracking_number}"


class MailHandover(models.Model):
    package = models.ForeignKey(MailPackage, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField("交接事由", max_length=100)
    occurred_at = models.DateTimeField("交接时间")

    class Meta:
        verbose_name = "邮件交接记录"
        verbose_name_plural = "邮件交接记录"
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return f"{self.package_id} {self.purpose}"


class ServiceRecord(AuthorityScopedModel):
    """One information entry or 一网通办 guidance session (counted toward the 156,000 target)."""

    class Kind(models.TextChoices):
        INFO_ENTRY = "info_entry", "企业信息录入"
        ONLINE_GUIDANCE = "online_guidance", "一网通办指引及协助录入"

    kind = models.CharField("类型", max_length=20, choices=Kind.choices, db_index=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    enterprise_name = models.CharField("企业名称", max_length=200)
    enterprise = models.ForeignKey("enterprises.Enterprise", null=True, blank=True, on_delete=models.SET_NULL)
    case = models.ForeignKey(RegistrationCase, null=True, blank=True, on_delete=models.SET_NULL)
    occurred_at = models.DateTimeField("时间", db_index=True)
    minutes = models.PositiveIntegerField("用时（分钟）")
    note = models.CharField("备注", max_length=300, blank=True)

    class Meta:
        verbose_name = "信息录入/指引记录"
        verbose_name_plural = "信息录入/指引记录"
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["authority", "kind", "occurred_at"], name="svc_auth_kind_time"),
            # The list (newest first) and date ranges; per-staff daily counts and the staff filter.
            models.Index(fields=["authority", "occurred_at", "id"], name="svc_auth_time"),
            models.Index(fields=["authority", "staff", "occurred_at"], name="svc_auth_staff_time"),
        ]


class FollowUpTask(AuthorityScopedModel):
    """Contact with an applicant whose online application failed or was returned (seed 7.6)."""

    class Status(models.TextChoices):
        OPEN = "open", "待跟进"
        DONE = "done", "已完成"

    case = models.OneToOneField(RegistrationCase, on_delete=models.CASCADE, related_name="follow_up")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    due_on = models.DateField("跟进期限")
    # The case state that opened (or last reopened) the task: 退回补正, 不予登记 or 撤回.
    trigger_state = models.CharField("触发状态", max_length=20, choices=CaseState.choices, blank=True)
    opened_at = models.DateTimeField("发起时间", null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField("跟进结果", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "业务指导跟进"
        verbose_name_plural = "业务指导跟进"
        indexes = [models.Index(fields=["authority", "status", "due_on"], name="followup_auth_status_due")]

    def __str__(self) -> str:
        # Named by its case's number, as staff know it (the home page's recent work shows this).
        return f"{self.case.number} {self.get_status_display()}"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "电话"
    SMS = "sms", "短信"
    EMAIL = "email", "邮件"
    ON_SITE = "on_site", "现场"


class ContactLog(models.Model):
    task = models.ForeignKey(FollowUpTask, on_delete=models.CASCADE, related_name="contacts")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    occurred_at = models.DateTimeField("联系时间")
    method = models.CharField("方式", max_length=20, choices=ContactMethod.choices)
    result = models.CharField("结果", max_length=300)

    class Meta:
        verbose_name = "联系记录"
        verbose_name_plural = "联系记录"
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.method}"
