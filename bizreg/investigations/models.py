"""Identity-misuse investigations (冒用身份虚假注册).

Legal frame: 《市场主体登记管理条例》 art. 40–42 and its 实施细则 art. 50–58.

A report (from the 专责小组, the victim or the bureau itself) opens or joins an InvestigationCase. The case
is accepted or not within 3 working days, investigated within 3 months (one 3-month extension with a
manager's approval; suspended time does not count), may go through a 45-day public notice when the
enterprise cannot be reached, and ends with a decision. Evidence and field-check reports are immutable
once submitted: a correction is a new version that supersedes the old one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel


class ReportSource(models.TextChoices):
    TASK_FORCE = "task_force", "专责小组转办"
    VICTIM = "victim", "被冒用人申请"
    EX_OFFICIO = "ex_officio", "依职权发现"


class VerificationMethod(models.TextChoices):
    """How the person whose identity was used proved who they are (实施细则 art. 51)."""

    ONLINE_FACE = "online_face", "线上实名认证（人脸识别）"
    OFFLINE_WINDOW = "offline_window", "线下窗口核验身份证原件"
    NOTARIZED = "notarized", "公证/领事认证文书"
    TASK_FORCE = "task_force", "专责小组已核验"
    NOT_APPLICABLE = "not_applicable", "不适用（依职权发现）"


class VerificationResult(models.TextChoices):
    PASSED = "passed", "核验通过"
    FAILED = "failed", "核验未通过"
    PENDING = "pending", "待核验"


class CaseState(models.TextChoices):
    RECEIVED = "received", "待受理"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    INVESTIGATING = "investigating", "调查中"
    SUSPENDED = "suspended", "中止调查"
    PUBLIC_NOTICE = "public_notice", "公示中"
    DECIDED = "decided", "已作出决定"
    CLOSED = "closed", "已结案"
    MERGED = "merged", "已并案"


OPEN_STATES = (CaseState.RECEIVED, CaseState.INVESTIGATING, CaseState.SUSPENDED, CaseState.PUBLIC_NOTICE)


class SuspensionGround(models.TextChoices):
    """实施细则 art. 54's situations in which the investigation is suspended (中止)."""

    CIVIL_DISPUTE = "civil_dispute", "涉及民事纠纷，当事人已提起诉讼或仲裁"
    CRIMINAL = "criminal", "涉嫌犯罪，已移送公安机关"
    OTHER_AUTHORITY = "other_authority", "需其他机关作出认定或提供协助"
    FORCE_MAJEURE = "force_majeure", "因不可抗力等原因暂时无法调查"


class InvestigationCase(AuthorityScopedModel):
    # Unique per authority: each authority numbers its own cases (冒调{year}{seq}) from its own counter.
    number = models.CharField("案件编号", max_length=30)
    state = models.CharField(
        "状态", max_length=20, choices=CaseState.choices, default=CaseState.RECEIVED, db_index=True
    )
    source = models.CharField("线索来源", max_length=20, choices=ReportSource.choices)
    summary = models.CharField("案情摘要", max_length=300)
    # The person whose identity was used; kept on the case so duplicates and bans are found by ID.
    victim_name = models.CharField("被冒用人姓名", max_length=50)
    victim_id_number = models.CharField("被冒用人身份证号", max_length=18, db_index=True)
    victim_phone = models.CharField("被冒用人联系电话", max_length=20, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="承办人",
    )
    received_on = models.DateField("收到日期", db_index=True)
    acceptance_due_on = models.DateField("受理期限", db_index=True)
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    not_accepted_reason = models.CharField("不予受理理由", max_length=300, blank=True)
    # 3 months from acceptance, moved by the extension and by every suspension's working length.
    investigation_due_on = models.DateField("调查期限", null=True, blank=True, db_index=True)
    extended = models.BooleanField("已延期", default=False)
    suspended_since = models.DateField("中止开始日期", null=True, blank=True)
    notice_started_on = models.DateField("公示开始日期", null=True, blank=True)
    notice_ends_on = models.DateField("公示截止日期", null=True, blank=True, db_index=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    closed_within_deadline = models.BooleanField("期限内办结", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "冒用身份案件"
        verbose_name_plural = "冒用身份案件"
        ordering = ["-received_on", "-id"]
        permissions = [
            ("accept_investigationcase", "作出受理决定"),
            ("approve_investigation_extension", "批准调查延期"),
            ("decide_investigationcase", "作出撤销/不予撤销决定"),
        ]
        indexes = [models.Index(fields=["authority", "state", "-received_on"], name="inv_auth_state_recv")]
        constraints = [models.UniqueConstraint(fields=["authority", "number"], name="uniq_inv_case_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class InvestigationNumberCounter(models.Model):
    """The last sequence number of an authority's investigation cases in one year (taken under a row lock)."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField("年度")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "案件编号计数器"
        verbose_name_plural = "案件编号计数器"
        constraints = [models.UniqueConstraint(fields=["authority", "year"], name="uniq_inv_case_counter")]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.year} {self.last}"


class Report(AuthorityScopedModel):
    """One report (线索/申请) as received. Several reports of one misuse are merged into one case."""

    case = models.ForeignKey(
        InvestigationCase, on_delete=models.PROTECT, related_name="reports", verbose_name="案件"
    )
    source = models.CharField("来源", max_length=20, choices=ReportSource.choices)
    received_at = models.DateTimeField("收到时间")
    referral_reference = models.CharField("转办单号", max_length=60, blank=True)
    reporter_name = models.CharField("申请人/被冒用人", max_length=50)
    reporter_id_number = models.CharField("身份证号", max_length=18, db_index=True)
    reporter_phone = models.CharField("联系电话", max_length=20, blank=True)
    verification_method = models.CharField("身份核验方式", max_length=20, choices=VerificationMethod.choices)
    verification_result = models.CharField("身份核验结果", max_length=10, choices=VerificationResult.choices)
    verification_note = models.CharField("核验说明", max_length=300, blank=True)
    narrative = models.TextField("情况说明")
    via_portal = models.BooleanField("网上提交", default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="录入人",
    )
    # The duplicate detection's verdict when this report joined an existing case (empty for the first).
    merged_reason = models.CharField("并案说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "线索/申请"
        verbose_name_plural = "线索/申请"
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.received_at:%Y-%m-%d}"


class ReportedEnterprise(models.Model):
    """An enterprise as the report names it. A name the register does not know is kept and flagged."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="named_enterprises")
    name_as_given = models.CharField("所报企业名称", max_length=200)
    uscc_as_given = models.CharField("所报统一社会信用代码", max_length=18, blank=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="匹配的商事主体",
    )
    unmatched = models.BooleanField("登记簿中未找到", default=False, db_index=True)

    class Meta:
        verbose_name = "所报企业"
        verbose_name_plural = "所报企业"

    def __str__(self) -> str:
        return self.name_as_given


class CaseEnterprise(models.Model):
    """An enterprise under investigation in a case; locked through enterprises services while open."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="enterprises")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+", verbose_name="商事主体"
    )
    added_at = models.DateTimeField("加入时间")
    # Empty for the enterprises a victim named on the portal (matched at intake, no staff involved).
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    locked = models.BooleanField("已锁定", default=False)

    class Meta:
        verbose_name = "涉案企业"
        verbose_name_plural = "涉案企业"
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "enterprise"], name="uniq_case_enterprise"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.enterprise_id}"


class CaseEvent(models.Model):
    """Every transition and clock event of a case: who, when, from which state to which, why."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=40)
    label = models.CharField("操作名称", max_length=40)
    from_state = models.CharField("原状态", max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=20, choices=CaseState.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="操作人"
    )
    occurred_at = models.DateTimeField("时间", db_index=True)
    reason = models.TextField("理由/说明", blank=True)

    class Meta:
        verbose_name = "案件流转记录"
        verbose_name_plural = "案件流转记录"
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class Suspension(models.Model):
    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="suspensions")
    ground = models.CharField("中止情形", max_length=20, choices=SuspensionGround.choices)
    reason = models.CharField("说明", max_length=300)
    started_on = models.DateField("中止日期")
    ended_on = models.DateField("恢复日期", null=True, blank=True)
    # Calendar days the investigation deadline moved when this suspension ended.
    days_added = models.PositiveIntegerField("顺延天数", default=0)

    class Meta:
        verbose_name = "中止记录"
        verbose_name_plural = "中止记录"
        ordering = ["started_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(ended_on__isnull=True), name="one_open_suspension_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.started_on}"


class NoticeObjection(models.Model):
    """An objection (异议) received during the 45-day public notice."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="objections")
    received_on = models.DateField("收到日期")
    objector = models.CharField("异议人", max_length=100)
    content = models.TextField("异议内容")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.objector}"


class FieldCheckResult(models.TextChoices):
    OPERATING = "operating", "在登记住所正常经营"
    NOT_FOUND = "not_found", "登记住所无该企业"
    ADDRESS_MISSING = "address_missing", "登记住所不存在"
    VACANT = "vacant", "场所空置"
    REFUSED = "refused", "拒绝配合核查"


class FieldCheckState(models.TextChoices):
    ASSIGNED = "assigned", "待核查"
    SUBMITTED = "submitted", "已提交"
    SUPERSEDED = "superseded", "已被更正版本取代"


class FieldCheck(AuthorityScopedModel):
    """A field verification task (实地核查) and, once submitted, its immutable report."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="field_checks")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="核查企业",
    )
    address = models.CharField("核查地址", max_length=300)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="核查人"
    )
    due_on = models.DateField("要求完成日期")
    state = models.CharField(
        "状态", max_length=12, choices=FieldCheckState.choices, default=FieldCheckState.ASSIGNED
    )
    version = models.PositiveSmallIntegerField("版本", default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.CharField("更正理由", max_length=300, blank=True)
    visited_at = models.DateTimeField("核查时间", null=True, blank=True)
    result = models.CharField("核查结果", max_length=20, choices=FieldCheckResult.choices, blank=True)
    findings = models.TextField("核查情况", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "实地核查"
        verbose_name_plural = "实地核查"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.address} v{self.version}"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "电话"
    VISIT = "visit", "上门"
    SMS = "sms", "短信"
    MAIL = "mail", "邮寄"


class ContactAttempt(models.Model):
    """One attempt to reach the enterprise or a person during a field check."""

    field_check = models.ForeignKey(FieldCheck, on_delete=models.CASCADE, related_name="contact_attempts")
    attempted_at = models.DateTimeField("联系时间")
    method = models.CharField("方式", max_length=10, choices=ContactMethod.choices)
    target = models.CharField("联系对象", max_length=100)
    reached = models.BooleanField("已联系上", default=False)
    note = models.CharField("情况", max_length=300, blank=True)

    class Meta:
        verbose_name = "联系记录"
        verbose_name_plural = "联系记录"
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M} {self.target}"


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", "现场照片"
    DOCUMENT = "document", "书证材料"
    STATEMENT = "statement", "询问笔录/情况说明"
    IDENTITY = "identity", "身份核验材料"
    OTHER = "other", "其他"


class Evidence(models.Model):
    """A piece of evidence: stored once with its SHA-256, never changed; a correction supersedes it."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="evidence")
    field_check = models.ForeignKey(
        FieldCheck, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    kind = models.CharField("类型", max_length=12, choices=EvidenceKind.choices)
    description = models.CharField("说明", max_length=300)
    file = models.FileField("文件", upload_to="investigations/evidence/%Y/%m/")
    file_name = models.CharField("文件名", max_length=255)
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间")
    version = models.PositiveSmallIntegerField("版本", default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.CharField("更正理由", max_length=300, blank=True)

    class Meta:
        verbose_name = "证据"
        verbose_name_plural = "证据"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.file_name


class DecisionOutcome(models.TextChoices):
    REVOKE_ALL = "revoke_all", "撤销全部登记"
    REVOKE_ITEMS = "revoke_items", "撤销部分登记事项"
    NOT_REVOKED = "not_revoked", "不予撤销"
    REFER_POLICE = "refer_police", "移送公安机关"


class NonRevocationGround(models.TextChoices):
    """条例 art. 41: registration is not revoked where revoking would harm the public interest or others'
    lawful rights, or where the person has since confirmed the registration."""

    PUBLIC_INTEREST = "public_interest", "撤销可能对社会公共利益造成重大损害（条例第四十一条第一项）"
    THIRD_PARTY = "third_party", "撤销后无法恢复到登记前状态（条例第四十一条第二项）"
    OTHER_LAW = "other_law", "法律、行政法规规定的其他情形（条例第四十一条第三项）"
    CONFIRMED = "confirmed", "被冒用人事后追认或经查不属于冒用"


class Decision(models.Model):
    case = models.OneToOneField(InvestigationCase, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField("决定", max_length=20, choices=DecisionOutcome.choices)
    # For a partial revocation: the registration items revoked, as the register names them.
    items = models.JSONField("撤销事项", default=list, blank=True)
    legal_basis = models.CharField("法律依据", max_length=300)
    non_revocation_ground = models.CharField(
        "不予撤销依据", max_length=20, choices=NonRevocationGround.choices, blank=True
    )
    police_reference = models.CharField("移送编号", max_length=60, blank=True)
    reasoning = models.TextField("理由")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("决定时间")

    class Meta:
        verbose_name = "处理决定"
        verbose_name_plural = "处理决定"

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_outcome_display()}"


class RegistrationBan(TimeStampedModel):
    """A person responsible for a false registration may not register again for 3 years (条例 art. 40)."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    id_number = models.CharField("身份证号", max_length=18, db_index=True)
    name = models.CharField("姓名", max_length=50)
    role = models.CharField("在虚假登记中的身份", max_length=50)
    case = models.ForeignKey(InvestigationCase, on_delete=models.PROTECT, related_name="bans")
    starts_on = models.DateField("起始日期")
    ends_on = models.DateField("截止日期", db_index=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "限制登记名单"
        verbose_name_plural = "限制登记名单"
        ordering = ["-starts_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "id_number"], name="uniq_ban_case_person"),
        ]

    def __str__(self) -> str:
        return f"{self.name} 至 {self.ends_on}"


class DocumentKind(models.TextChoices):
    OPINION = "opinion", "专业意见书"
    DUE_DILIGENCE = "due_diligence", "尽职调查报告"
    DECISION = "decision", "决定书"
    PUBLIC_NOTICE = "public_notice", "公告"


class CaseDocument(AuthorityScopedModel):
    """A numbered, reproducible document of a case, kept as .docx and PDF with their SHA-256."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField("文书类型", max_length=20, choices=DocumentKind.choices)
    number = models.CharField("文书编号", max_length=40, unique=True)
    issued_at = models.DateTimeField("出具时间")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField("文书内容", default=dict)
    pdf = models.FileField("PDF", upload_to="investigations/documents/%Y/%m/")
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64)
    docx = models.FileField("Word", upload_to="investigations/documents/%Y/%m/")
    docx_sha256 = models.CharField("Word SHA-256", max_length=64)

    class Meta:
        verbose_name = "调查文书"
        verbose_name_plural = "调查文书"
        ordering = ["issued_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class DocumentCounter(models.Model):
    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("文书类型", max_length=20, choices=DocumentKind.choices)
    year = models.PositiveIntegerField("年度")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "调查文书编号计数器"
        verbose_name_plural = "调查文书编号计数器"
        constraints = [
            models.UniqueConstraint(fields=["authority", "kind", "year"], name="uniq_inv_doc_counter")
        ]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.kind} {self.year} {self.last}"


class DeadlineKind(models.TextChoices):
    ACCEPTANCE = "acceptance", "受理期限"
    INVESTIGATION = "investigation", "调查期限"
    NOTICE = "notice", "公示期满"
    FIELD_CHECK = "field_check", "实地核查期限"


class DeadlineReminder(models.Model):
    """A reminder sent once per case, deadline and due date (a moved deadline is reminded again)."""

    case = models.ForeignKey(InvestigationCase, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("期限", max_length=20, choices=DeadlineKind.choices)
    due_on = models.DateField("到期日")
    sent_at = models.DateTimeField("提醒时间")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "期限提醒"
        verbose_name_plural = "期限提醒"
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "due_on"], name="uniq_inv_reminder"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.due_on}"


class VictimSurvey(models.Model):
    """The satisfaction survey sent to the victim after closing (indicator 9); answered on the portal."""

    case = models.OneToOneField(InvestigationCase, on_delete=models.CASCADE, related_name="survey")
    token = models.CharField("问卷口令", max_length=43, unique=True)
    sent_at = models.DateTimeField("发送时间")
    answered_at = models.DateTimeField("填写时间", null=True, blank=True)
    # 1 very dissatisfied … 5 very satisfied; 4 and 5 count as satisfied.
    score = models.PositiveSmallIntegerField("满意度", null=True, blank=True)
    comment = models.TextField("意见建议", blank=True)

    class Meta:
        verbose_name = "被冒用人满意度调查"
        verbose_name_plural = "被冒用人满意度调查"

    def __str__(self) -> str:
        return f"{self.case_id} {self.score}"
