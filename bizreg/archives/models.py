"""The enterprise archive (档案): one archive file per enterprise, its items (件) grouped by registration
case, the shelf it sits on, what is lent, who asked to see it, and the digitization that turns its paper
into a searchable e-archive.

Field names follow DA/T 18-2022 / DA/T 22-2015 where they apply (docs/archives.md maps them):
档号 archival_code, 题名 title, 文件编号 doc_number, 日期 doc_date, 责任者 responsible_party, 页数 pages,
密级 classification, 开放标识 open_status, 保管期限 retention, 主题词 keywords. 档号 of an item =
全宗号-门类代码·年度-保管期限-机构代码-件号 (the archive file's code + the item's number).

State machines (allowed transitions and who may do them) are declared in `workflows.py`, enforced in the
services; every transition is one ArchiveEvent row (actor, time, reason).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel

SHA256_LENGTH = 64


class Retention(models.TextChoices):
    """保管期限 (DA/T 22 codes)."""

    PERMANENT = "Y", "永久"
    LONG = "D30", "30年"
    SHORT = "D10", "10年"


class Classification(models.TextChoices):
    """密级. Registration papers are almost always 非密; 内部 items are never shown outside the bureau."""

    NONE = "none", "非密"
    INTERNAL = "internal", "内部"


class OpenStatus(models.TextChoices):
    """开放标识: open items are the basic registration record anyone may see; controlled ones only to the
    enterprise itself and parties with a legal interest, after approval."""

    OPEN = "open", "开放"
    CONTROLLED = "controlled", "控制"


class ArchiveStatus(models.TextChoices):
    PENDING = "pending", "待整理"
    SHELVED = "shelved", "在库"
    LENT = "lent", "借出"
    MOVED_OUT = "moved_out", "迁出"


class ShelfLocation(TimeStampedModel):
    """库房-区-列-节-层: one shelf layer, where archive files stand."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    repository = models.CharField("库房", max_length=30)
    zone = models.CharField("区", max_length=10)
    column = models.PositiveSmallIntegerField("列")
    section = models.PositiveSmallIntegerField("节")
    layer = models.PositiveSmallIntegerField("层")
    capacity = models.PositiveIntegerField("容量（卷）", default=60)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "库位"
        verbose_name_plural = "库位"
        ordering = ["repository", "zone", "column", "section", "layer"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "repository", "zone", "column", "section", "layer"],
                name="uniq_shelf_location",
            )
        ]

    @property
    def label(self) -> str:
        return f"{self.repository}-{self.zone}区-{self.column:02d}列-{self.section}节-{self.layer}层"

    def __str__(self) -> str:
        return self.label


class ArchiveFile(AuthorityScopedModel):
    """One enterprise's archive (企业档案). Its code is 全宗号-门类代码·年度-保管期限-机构代码 of the year the
    enterprise was registered here; the paper folder is what stands on a shelf and is lent."""

    archival_code = models.CharField("档号", max_length=60, unique=True)
    fonds_code = models.CharField("全宗号", max_length=10)
    category_code = models.CharField("门类代码", max_length=4, default="SS")
    year = models.PositiveSmallIntegerField("年度")
    retention = models.CharField(
        "保管期限", max_length=4, choices=Retention.choices, default=Retention.PERMANENT
    )
    organization_code = models.CharField("机构代码", max_length=10)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="archive_files",
        verbose_name="企业",
    )
    # Snapshots: an archive moved in before its enterprise is on the register still has a name and USCC.
    enterprise_name = models.CharField("企业名称", max_length=200, db_index=True)
    uscc = models.CharField("统一社会信用代码", max_length=18, db_index=True)
    status = models.CharField(
        "状态", max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING
    )
    location = models.ForeignKey(
        ShelfLocation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="archives",
        verbose_name="库位",
    )
    shelved_at = models.DateTimeField("上架时间", null=True, blank=True)
    moved_in_from = models.CharField("迁入自（原登记机关）", max_length=100, blank=True)
    moved_out_to = models.CharField("迁往（登记机关）", max_length=100, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        verbose_name="已合并至",
    )
    note = models.CharField("备注", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "企业档案"
        verbose_name_plural = "企业档案"
        ordering = ["-year", "archival_code"]
        indexes = [
            models.Index(fields=["authority", "status"], name="archive_auth_status"),
            # The archive list's order, so a page is read from the index instead of sorting the register.
            models.Index(fields=["authority", "-year", "archival_code"], name="archive_auth_year_code"),
        ]
        permissions = [
            ("shelve_archive", "上架、调整库位"),
            ("move_archive", "迁出/迁入档案、合并档案"),
            ("view_controlled_items", "查看控制使用的档案件"),
        ]

    def __str__(self) -> str:
        return f"{self.archival_code} {self.enterprise_name}"


class DocType(models.TextChoices):
    APPLICATION = "application", "登记申请书"
    ARTICLES = "articles", "公司章程"
    RESOLUTION = "resolution", "股东会决议/股东决定"
    IDENTITY = "identity", "主体资格/身份证明"
    APPOINTMENT = "appointment", "任职文件"
    PREMISES = "premises", "住所使用证明"
    NOTICE_APPROVAL = "notice_approval", "准予登记通知书"
    NOTICE_CHANGE = "notice_change", "变更登记通知书"
    NOTICE_OTHER = "notice_other", "其他登记文书"
    LICENCE_COPY = "licence_copy", "营业执照副本复印件"
    DEREGISTRATION = "deregistration", "清算/注销材料"
    MIGRATION = "migration", "迁移调档函"
    PUBLIC_NOTICE = "public_notice", "商事公示材料"
    OTHER = "other", "其他"


class ItemSource(models.TextChoices):
    PAPER = "paper", "纸质扫描"
    BORN_DIGITAL = "born_digital", "电子原生（一网通办/全程电子化）"
    PUBLIC_NOTICE = "public_notice", "商事公示上传"
    MOVED_IN = "moved_in", "迁入档案"


class DigitizationStatus(models.TextChoices):
    NOT_DIGITIZED = "none", "未数字化"
    IN_BATCH = "in_batch", "加工中"
    REWORK = "rework", "返工"
    DIGITIZED = "digitized", "已入库"


class ArchiveItem(TimeStampedModel):
    """One item (件) of an archive: a document with its description and, once digitized or received
    electronically, its searchable PDF (e_file) with a SHA-256 and its text (for full-text search)."""

    archive = models.ForeignKey(
        ArchiveFile, on_delete=models.PROTECT, related_name="items", verbose_name="档案"
    )
    case = models.ForeignKey(
        "registration.RegistrationCase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="archive_items",
        verbose_name="登记业务",
    )
    case_number = models.CharField("业务编号", max_length=30, blank=True, db_index=True)
    item_number = models.PositiveIntegerField("件号")
    archival_code = models.CharField("档号", max_length=70, unique=True)
    doc_type = models.CharField("文件类型", max_length=20, choices=DocType.choices)
    title = models.CharField("题名", max_length=300)
    responsible_party = models.CharField("责任者", max_length=200, blank=True)
    doc_date = models.DateField("日期", null=True, blank=True)
    doc_number = models.CharField("文件编号", max_length=60, blank=True)
    pages = models.PositiveIntegerField("页数", default=0)
    classification = models.CharField(
        "密级", max_length=10, choices=Classification.choices, default=Classification.NONE
    )
    open_status = models.CharField(
        "开放标识", max_length=12, choices=OpenStatus.choices, default=OpenStatus.CONTROLLED
    )
    keywords = models.CharField("主题词", max_length=200, blank=True)
    source = models.CharField("来源", max_length=20, choices=ItemSource.choices, default=ItemSource.PAPER)
    digitization = models.CharField(
        "数字化状态",
        max_length=10,
        choices=DigitizationStatus.choices,
        default=DigitizationStatus.NOT_DIGITIZED,
    )
    digitized_at = models.DateTimeField("入库时间", null=True, blank=True, db_index=True)
    e_file = models.FileField("电子文件（可检索 PDF）", upload_to="archives/items/%Y/%m/", blank=True)
    e_file_sha256 = models.CharField("SHA-256", max_length=SHA256_LENGTH, blank=True)
    e_file_size = models.PositiveBigIntegerField("文件大小", default=0)
    text = models.TextField("全文（OCR/抽取）", blank=True)
    flags = models.JSONField(
        "问题标记", default=list, blank=True
    )  # [{"code", "message"}], e.g. other enterprise named
    history = HistoricalRecords()

    class Meta:
        verbose_name = "档案件"
        verbose_name_plural = "档案件"
        ordering = ["archive", "item_number"]
        constraints = [
            models.UniqueConstraint(fields=["archive", "item_number"], name="uniq_archive_item_number")
        ]

    def __str__(self) -> str:
        return f"{self.archival_code} {self.title}"


# --- transfer lists (移交清单) -----------------------------------------------------------------------------


class TransferState(models.TextChoices):
    DRAFT = "draft", "草稿"
    SIGNED = "signed", "已签收确认"
    SENT = "sent", "已移交扫描"
    RECEIVED = "received", "已接收清点"
    CANCELLED = "cancelled", "已作废"


class TransferList(AuthorityScopedModel):
    """A list of completed cases' papers handed to the digitization contractor and counted back."""

    number = models.CharField("清单编号", max_length=30, unique=True)
    state = models.CharField(
        "状态", max_length=10, choices=TransferState.choices, default=TransferState.DRAFT
    )
    title = models.CharField("说明", max_length=200, blank=True)
    period_start = models.DateField("业务起始日期", null=True, blank=True)
    period_end = models.DateField("业务截止日期", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField("确认时间", null=True, blank=True)
    sent_at = models.DateTimeField("移交时间", null=True, blank=True)
    received_at = models.DateTimeField("接收时间", null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contractor = models.CharField("扫描加工单位", max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "移交清单"
        verbose_name_plural = "移交清单"
        ordering = ["-created_at"]
        permissions = [
            ("sign_transferlist", "确认移交清单"),
            ("receive_transferlist", "接收清点返还档案"),
        ]

    def __str__(self) -> str:
        return self.number


class TransferEntry(models.Model):
    """One case on a transfer list: the items expected from its materials checklist, what is there, what is
    missing; and, when the batch comes back, what was counted."""

    transfer = models.ForeignKey(TransferList, on_delete=models.CASCADE, related_name="entries")
    case = models.ForeignKey("registration.RegistrationCase", on_delete=models.PROTECT, related_name="+")
    archive = models.ForeignKey(ArchiveFile, on_delete=models.PROTECT, related_name="transfer_entries")
    expected_items = models.PositiveIntegerField("应有件数", default=0)
    present_items = models.PositiveIntegerField("实有件数", default=0)
    pages = models.PositiveIntegerField("页数", default=0)
    missing = models.JSONField("缺失材料", default=list, blank=True)  # names from the materials checklist
    returned_items = models.PositiveIntegerField("返还件数", null=True, blank=True)
    return_note = models.CharField("清点说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "移交清单条目"
        verbose_name_plural = "移交清单条目"
        ordering = ["transfer", "id"]
        constraints = [models.UniqueConstraint(fields=["transfer", "case"], name="uniq_transfer_case")]

    def __str__(self) -> str:
        return f"{self.transfer_id}/{self.case_id}"


# --- borrowing (借阅) ------------------------------------------------------------------------------------


class BorrowKind(models.TextChoices):
    PAPER = "paper", "纸质借阅"
    ELECTRONIC = "electronic", "电子限时调阅"


class BorrowState(models.TextChoices):
    REQUESTED = "requested", "待审批"
    APPROVED = "approved", "已批准"
    LENT = "lent", "借出中"  # paper handed over, or electronic access open
    RETURNED = "returned", "已归还"  # or electronic access ended
    REJECTED = "rejected", "未批准"
    CANCELLED = "cancelled", "已撤回"


class BorrowRequest(AuthorityScopedModel):
    archive = models.ForeignKey(
        ArchiveFile, on_delete=models.PROTECT, related_name="borrows", verbose_name="档案"
    )
    kind = models.CharField("方式", max_length=12, choices=BorrowKind.choices)
    state = models.CharField(
        "状态", max_length=10, choices=BorrowState.choices, default=BorrowState.REQUESTED
    )
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.CharField("借阅部门", max_length=100)
    purpose = models.CharField("用途", max_length=300)
    requested_days = models.PositiveSmallIntegerField("借阅天数", default=7)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    lent_at = models.DateTimeField("借出时间", null=True, blank=True)
    due_at = models.DateTimeField("应还时间", null=True, blank=True, db_index=True)
    returned_at = models.DateTimeField("归还时间", null=True, blank=True)
    reminded_at = models.DateTimeField("最近催还时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "借阅"
        verbose_name_plural = "借阅"
        ordering = ["-created_at"]
        permissions = [("approve_borrow", "审批借阅"), ("lend_archive", "办理借出与归还")]
        constraints = [
            # The paper folder is in one pair of hands at a time: the database refuses a second loan too.
            models.UniqueConstraint(
                fields=["archive"],
                condition=Q(kind="paper", state="lent"),
                name="uniq_paper_loan_per_archive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.archive.archival_code} {self.get_kind_display()} {self.get_state_display()}"


# --- queries and access (查询与调阅) ----------------------------------------------------------------------


class RequesterKind(models.TextChoices):
    ENTERPRISE = "enterprise", "企业本身"
    STATE_ORGAN = "state_organ", "国家机关（持公函）"
    LAWYER = "lawyer", "律师（持立案证明）"
    BANKRUPTCY_ADMIN = "bankruptcy_admin", "破产管理人"
    DEPARTMENT = "department", "本局业务部门"
    PUBLIC = "public", "社会公众（仅基本登记信息）"


class QueryChannel(models.TextChoices):
    PORTAL = "portal", "网上查询"
    WINDOW = "window", "窗口查询"
    DEPARTMENT = "department", "业务部门调阅"


class AccessState(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已批准"
    SERVED = "served", "已提供"
    REJECTED = "rejected", "未批准"
    EXPIRED = "expired", "已过期"


class AccessRequest(AuthorityScopedModel):
    """A request to query an archive (档案查询申请) — the unit of the 档案查询服务率 indicator: served within
    its deadline ÷ requests. Portal requests carry the applicant's identity (validated, masked) and proof;
    a manager approves the full file for the enterprise itself and parties with a legal interest."""

    reference = models.CharField("查询编号", max_length=24, unique=True)
    channel = models.CharField("渠道", max_length=12, choices=QueryChannel.choices)
    requester_kind = models.CharField("申请人类别", max_length=20, choices=RequesterKind.choices)
    state = models.CharField(
        "状态", max_length=10, choices=AccessState.choices, default=AccessState.SUBMITTED
    )
    archive = models.ForeignKey(
        ArchiveFile, null=True, blank=True, on_delete=models.PROTECT, related_name="access_requests"
    )
    uscc = models.CharField("统一社会信用代码", max_length=18)
    enterprise_name = models.CharField("企业名称", max_length=200, blank=True)
    applicant_name = models.CharField("申请人", max_length=50)
    applicant_id_number = models.CharField("申请人证件号", max_length=18)
    applicant_phone = models.CharField("联系电话", max_length=20)
    organization = models.CharField("单位/律所/部门", max_length=200, blank=True)
    purpose = models.CharField("查询用途", max_length=300)
    proof = models.FileField("证明材料", upload_to="archives/proofs/%Y/%m/", blank=True)
    proof_sha256 = models.CharField("证明材料 SHA-256", max_length=SHA256_LENGTH, blank=True)
    full_file = models.BooleanField("申请查阅完整档案", default=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("申请时间", db_index=True)
    due_at = models.DateTimeField("办结期限", db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_reason = models.CharField("审核意见", max_length=300, blank=True)
    served_at = models.DateTimeField("提供时间", null=True, blank=True)
    grant_until = models.DateTimeField("调阅有效期至", null=True, blank=True)
    access_token_hash = models.CharField("调阅凭证摘要", max_length=SHA256_LENGTH, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "档案查询申请"
        verbose_name_plural = "档案查询申请"
        ordering = ["-submitted_at"]
        permissions = [("approve_accessrequest", "审核档案查询申请")]

    def __str__(self) -> str:
        return self.reference


class ArchiveAccessLog(models.Model):
    """Every view, download, print and refused attempt on an archive or item, staff or external."""

    class Action(models.TextChoices):
        VIEW = "view", "查看"
        DOWNLOAD = "download", "下载"
        PRINT = "print", "打印"
        SEARCH = "search", "检索"
        DENIED = "denied", "拒绝访问"

    occurred_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    authority = models.ForeignKey(
        "core.Authority", null=True, on_delete=models.SET_NULL, verbose_name="登记机关"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    access_request = models.ForeignKey(AccessRequest, null=True, blank=True, on_delete=models.SET_NULL)
    who = models.CharField("访问人", max_length=100)  # user name or masked external applicant
    archive = models.ForeignKey(ArchiveFile, null=True, blank=True, on_delete=models.SET_NULL)
    item = models.ForeignKey(ArchiveItem, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    detail = models.CharField("说明", max_length=300, blank=True)  # the reason of a refusal, the query text …
    watermark = models.CharField("水印", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)

    class Meta:
        verbose_name = "档案利用日志"
        verbose_name_plural = "档案利用日志"
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["archive", "occurred_at"], name="archive_log_archive_time")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.who} {self.get_action_display()}"


# --- the audit trail of transitions -----------------------------------------------------------------------


class ArchiveEvent(models.Model):
    """One state transition of an archives object (archive file, transfer list, borrow, access request,
    digitization batch, scan page): who, when, from which state to which, why."""

    occurred_at = models.DateTimeField("时间", db_index=True)
    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT)
    object_type = models.CharField("对象类型", max_length=30)
    object_id = models.PositiveBigIntegerField("对象标识")
    action = models.CharField("操作", max_length=40)
    from_state = models.CharField("原状态", max_length=20, blank=True)
    to_state = models.CharField("新状态", max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField("理由/说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "档案操作记录"
        verbose_name_plural = "档案操作记录"
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="archive_event_object")]

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id} {self.action}"


# --- digitization (DA/T 31-2017) --------------------------------------------------------------------------


class BatchState(models.TextChoices):
    INTAKE = "intake", "收图"
    PROCESSING = "processing", "图像处理"
    OCR = "ocr", "文字识别"
    INDEXING = "indexing", "著录标引"
    QA = "qa", "质检"
    REWORK = "rework", "返工"
    IMPORTING = "importing", "入库"
    DONE = "done", "已入库"
    FAILED = "failed", "失败"


class DigitizationBatch(AuthorityScopedModel):
    number = models.CharField("批次号", max_length=30, unique=True)
    transfer = models.ForeignKey(
        TransferList,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches",
        verbose_name="移交清单",
    )
    state = models.CharField("状态", max_length=12, choices=BatchState.choices, default=BatchState.INTAKE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sample_percent = models.DecimalField("抽检比例（%）", max_digits=5, decimal_places=2, default=5)
    pass_mark_percent = models.DecimalField("合格线（%）", max_digits=5, decimal_places=2, default=95)
    job = models.ForeignKey(
        "core.BackgroundJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="当前任务",
    )
    pages_total = models.PositiveIntegerField("页数", default=0)
    pages_rejected = models.PositiveIntegerField("退回页数", default=0)
    qa_sampled = models.PositiveIntegerField("抽检页数", default=0)
    qa_passed = models.PositiveIntegerField("抽检合格页数", default=0)
    finished_at = models.DateTimeField("入库时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "数字化批次"
        verbose_name_plural = "数字化批次"
        ordering = ["-created_at"]
        permissions = [
            ("operate_digitization", "数字化加工（收图、处理、著录）"),
            ("qa_digitization", "图文质检"),
        ]

    def __str__(self) -> str:
        return self.number


class PageQA(models.TextChoices):
    PENDING = "pending", "待检"
    PASSED = "passed", "合格"
    REJECTED = "rejected", "退回返工"


class ScanPage(models.Model):
    """One scanned page of a batch: the original as received (kept), the processed image, what the
    automatic checks found, the OCR text and, for sampled pages, the human check."""

    batch = models.ForeignKey(DigitizationBatch, on_delete=models.CASCADE, related_name="pages")
    item = models.ForeignKey(
        ArchiveItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="scan_pages"
    )
    sequence = models.PositiveIntegerField("顺序")
    original_name = models.CharField("原文件名", max_length=255)
    original = models.FileField("原始图像", upload_to="archives/scans/original/%Y/%m/")
    original_sha256 = models.CharField("原始 SHA-256", max_length=SHA256_LENGTH)
    processed = models.FileField("处理后图像", upload_to="archives/scans/processed/%Y/%m/", blank=True)
    processed_sha256 = models.CharField("处理后 SHA-256", max_length=SHA256_LENGTH, blank=True)
    width = models.PositiveIntegerField("宽（像素）", default=0)
    height = models.PositiveIntegerField("高（像素）", default=0)
    dpi = models.PositiveIntegerField("分辨率（dpi）", default=0)
    skew_before = models.FloatField("原始倾斜（度）", null=True, blank=True)
    skew_after = models.FloatField("残余倾斜（度）", null=True, blank=True)
    rotation = models.PositiveSmallIntegerField("旋转（度）", default=0)
    is_blank = models.BooleanField("空白页", default=False)
    ocr_text = models.TextField("识别文字", blank=True)
    ocr_confidence = models.FloatField("识别置信度", null=True, blank=True)
    ocr_boxes = models.JSONField("文字位置", default=list, blank=True)  # [[x0,y0,x1,y1,text,score]], pixels
    auto_checks = models.JSONField("自动检查", default=list, blank=True)  # [{"code","message","severity"}]
    qa_sampled = models.BooleanField("抽检", default=False)
    qa_status = models.CharField("质检", max_length=10, choices=PageQA.choices, default=PageQA.PENDING)
    qa_note = models.CharField("质检意见", max_length=300, blank=True)
    qa_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rework_count = models.PositiveSmallIntegerField("返工次数", default=0)

    class Meta:
        verbose_name = "扫描页"
        verbose_name_plural = "扫描页"
        ordering = ["batch", "sequence"]
        constraints = [models.UniqueConstraint(fields=["batch", "sequence"], name="uniq_scan_page_sequence")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.sequence}"


# --- fixity (DA/T 70 四性: integrity) ---------------------------------------------------------------------


class FixityRun(models.Model):
    """One pass of the scheduled fixity job over an authority's stored files (item PDFs, scan originals and
    processed images, proofs): each file re-hashed and compared with the SHA-256 recorded when stored."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    files_checked = models.PositiveIntegerField("核验文件数", default=0)
    files_missing = models.PositiveIntegerField("缺失", default=0)
    files_altered = models.PositiveIntegerField("被改动", default=0)
    problems = models.JSONField(
        "问题清单", default=list, blank=True
    )  # [{"kind","object","path","expected","found"}]

    class Meta:
        verbose_name = "固定性核验"
        verbose_name_plural = "固定性核验"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"


from bizreg.archives.models_search import ItemSearchDoc  # noqa: E402,F401
