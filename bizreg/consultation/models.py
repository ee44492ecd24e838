"""Consultation (seed 一(三)5): the hotline and its calls, PBX imports, online tickets from every channel,
complaints, the knowledge base and the answering engine's logs.

Personal data here is the caller's number, a contact's name, phone and e-mail: stored whole, shown masked
(core.masking) unless the viewer holds core.view_full_personal_data, and every full view is access-logged.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel
from bizreg.core.statemachine import StateMachine, transition

# --- the hotline ------------------------------------------------------------------------------------------


class HotlineNumber(AuthorityScopedModel):
    """A published hotline number (企业登记咨询热线 39914115) whose lines form one linear hunt group."""

    number = models.CharField("热线号码", max_length=20)
    name = models.CharField("名称", max_length=100)
    # Calls answered within this many seconds count toward the service level (Asterisk SL, usual 80/20).
    service_level_seconds = models.PositiveIntegerField("服务水平时限（秒）", default=20)
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "咨询热线"
        verbose_name_plural = "咨询热线"
        constraints = [models.UniqueConstraint(fields=["authority", "number"], name="uniq_hotline_number")]

    def __str__(self) -> str:
        return f"{self.name} {self.number}"


class HotlineLine(TimeStampedModel):
    """One line (分线) of a hunt group. Every call tries position 1 first, then 2, … (Asterisk `linear`)."""

    hotline = models.ForeignKey(HotlineNumber, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField("响铃顺序")
    label = models.CharField("名称", max_length=50)
    # The PBX's name for the line as it appears in CDRs (e.g. "SIP/line1", "sofia/internal/8001"): the key
    # the importers use to put a call on its line.
    pbx_channel = models.CharField("PBX 通道名", max_length=100)
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "热线分线"
        verbose_name_plural = "热线分线"
        ordering = ["hotline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["hotline", "position"], name="uniq_line_position"),
            models.UniqueConstraint(fields=["hotline", "pbx_channel"], name="uniq_line_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.label}"


class Agent(AuthorityScopedModel):
    """A hotline/online agent (坐席): a staff user with the PBX's name for them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent_profiles"
    )
    # The agent as the PBX names it: queue_log's agent field ("Agent/1001", "SIP/1001") or the extension.
    pbx_code = models.CharField("PBX 坐席标识", max_length=100)
    extension = models.CharField("分机号", max_length=20, blank=True)
    is_active = models.BooleanField("在岗", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "坐席"
        verbose_name_plural = "坐席"
        constraints = [
            models.UniqueConstraint(fields=["authority", "pbx_code"], name="uniq_agent_pbx_code"),
            models.UniqueConstraint(fields=["authority", "user"], name="uniq_agent_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.pbx_code})"


class Shift(AuthorityScopedModel):
    """An agent's shift (排班): who is on the phones when."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField("开始")
    ends_at = models.DateTimeField("结束")
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "排班"
        verbose_name_plural = "排班"
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["authority", "starts_at"], name="shift_auth_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.starts_at:%Y-%m-%d %H:%M}"


class CallTopic(models.TextChoices):
    ESTABLISHMENT = "establishment", "企业设立"
    CHANGE = "change", "变更登记"
    DEREGISTRATION = "deregistration", "注销登记"
    FILING = "filing", "备案"
    MIGRATION = "migration", "迁入迁出"
    ONLINE_SERVICE = "online_service", "一网通办/全程电子化操作"
    MATERIALS = "materials", "申请材料准备"
    PROGRESS = "progress", "办理进度查询"
    LICENCE = "licence", "营业执照领取/邮寄"
    ARCHIVES = "archives", "档案查询"
    IDENTITY_MISUSE = "identity_misuse", "冒用身份"
    COMPLAINT = "complaint", "投诉"
    OTHER = "other", "其他"


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", "已接听"
    ABANDONED = "abandoned", "呼损（来电方挂断）"
    BUSY = "busy", "占线/拥塞"
    MISSED = "missed", "未接（无人应答/失败）"


class CallSource(models.TextChoices):
    MANUAL = "manual", "坐席登记"
    ASTERISK_CDR = "asterisk_cdr", "Asterisk CDR"
    ASTERISK_QUEUE_LOG = "asterisk_queue_log", "Asterisk queue_log"
    FREESWITCH_CDR = "freeswitch_cdr", "FreeSWITCH CDR"


class Call(AuthorityScopedModel):
    """One call to the hotline: offered, and then answered, abandoned, blocked or missed.

    Times are the caller's: offered when the call reached the hunt group, answered when an agent picked
    up, ended at hang-up. wait = answered (or ended) − offered; talk = ended − answered. AHT adds hold and
    wrap-up. A call from a PBX import has `source` ≠ manual and `external_id` = the PBX's call key
    (linkedid / queue_log callid / FreeSWITCH uuid), unique per authority and source, so a re-import
    updates the call instead of counting it twice. The agent's note (topic, summary, resolution) is kept
    when a later import refreshes the timings.
    """

    # No index of its own: every index of the table begins with the authority (a PBX import writes a
    # million calls a file, and each index costs it time).
    authority = models.ForeignKey(
        "core.Authority", on_delete=models.PROTECT, verbose_name="登记机关", db_index=False
    )
    source = models.CharField("来源", max_length=20, choices=CallSource.choices, default=CallSource.MANUAL)
    external_id = models.CharField("PBX 呼叫标识", max_length=150, blank=True)
    hotline = models.ForeignKey(HotlineNumber, on_delete=models.PROTECT, related_name="calls")
    line = models.ForeignKey(
        HotlineLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    caller_number = models.CharField("来电号码", max_length=32, blank=True)
    offered_at = models.DateTimeField("来电时间", db_index=True)
    answered_at = models.DateTimeField("接听时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    wait_seconds = models.PositiveIntegerField("等待（秒）", default=0)
    talk_seconds = models.PositiveIntegerField("通话（秒）", default=0)
    hold_seconds = models.PositiveIntegerField("保持（秒）", default=0)
    wrap_up_seconds = models.PositiveIntegerField("话后处理（秒）", default=0)
    # Filtered only with the authority and a time range: call_auth_time_outcome serves it.
    outcome = models.CharField("结果", max_length=10, choices=CallOutcome.choices)
    topic = models.CharField("咨询主题", max_length=20, choices=CallTopic.choices, blank=True)
    summary = models.TextField("咨询内容摘要", blank=True)
    # Answered and settled on the call (完成解答); otherwise a follow-up ticket carries it to closing.
    resolved = models.BooleanField("当场解答", default=False)
    needs_follow_up = models.BooleanField("需跟进", default=False)
    follow_up_ticket = models.OneToOneField(
        "Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="source_call"
    )
    related_case_number = models.CharField("关联业务编号", max_length=30, blank=True)
    # The post-call survey (满意度回访): 1 very dissatisfied … 5 very satisfied.
    satisfaction_score = models.PositiveSmallIntegerField("满意度评分", null=True, blank=True)
    satisfaction_at = models.DateTimeField("评价时间", null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "来电"
        verbose_name_plural = "来电"
        ordering = ["-offered_at", "-id"]
        permissions = [
            ("import_pbx", "导入话单/队列日志/满意度"),
            ("plan_capacity", "使用容量规划"),
        ]
        indexes = [
            models.Index(fields=["authority", "offered_at", "outcome"], name="call_auth_time_outcome"),
            models.Index(fields=["authority", "agent", "offered_at"], name="call_auth_agent_time"),
            models.Index(fields=["authority", "line", "offered_at"], name="call_auth_line_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "source", "external_id"],
                condition=~Q(external_id=""),
                name="uniq_call_external_id",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction_score__isnull=True)
                | Q(satisfaction_score__gte=1, satisfaction_score__lte=5),
                name="call_satisfaction_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offered_at:%Y-%m-%d %H:%M:%S} {self.get_outcome_display()}"


class PbxFormat(models.TextChoices):
    ASTERISK_CDR = "asterisk_cdr", "Asterisk cdr_csv (Master.csv)"
    ASTERISK_QUEUE_LOG = "asterisk_queue_log", "Asterisk queue_log"
    FREESWITCH_CDR = "freeswitch_cdr", "FreeSWITCH mod_cdr_csv"
    SURVEY = "survey", "满意度回访 CSV"


class PbxImportBatch(AuthorityScopedModel):
    """One uploaded PBX file: what it was, and what became of every line."""

    class Mode(models.TextChoices):
        PARTIAL = "partial", "导入正确的行，列出错误行"
        ALL_OR_NOTHING = "all_or_nothing", "有错误行则全部不导入"

    class Status(models.TextChoices):
        PENDING = "pending", "待处理"
        DONE = "done", "已完成"
        REJECTED = "rejected", "有错误，未导入"
        FAILED = "failed", "失败"

    format = models.CharField("格式", max_length=20, choices=PbxFormat.choices)
    hotline = models.ForeignKey(HotlineNumber, on_delete=models.PROTECT, related_name="imports")
    mode = models.CharField("错误处理", max_length=20, choices=Mode.choices, default=Mode.PARTIAL)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField("文件", upload_to="consultation/pbx/%Y/%m/", blank=True)
    file_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    lines_total = models.PositiveIntegerField("总行数", default=0)
    records_new = models.PositiveIntegerField("新增记录", default=0)
    records_duplicate = models.PositiveIntegerField("重复记录（已导入过）", default=0)
    lines_rejected = models.PositiveIntegerField("错误行", default=0)
    calls_created = models.PositiveIntegerField("新增来电", default=0)
    calls_updated = models.PositiveIntegerField("更新来电", default=0)
    # [{"line": 12, "message": "第 12 行：…", "text": the line, cut to 300 chars}, …] (first 1,000 kept)
    errors = models.JSONField("错误明细", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "话单导入批次"
        verbose_name_plural = "话单导入批次"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.file_name}"


class PbxRecord(models.Model):
    """One imported PBX line (a CDR row, a queue_log event, a survey answer), kept so that a re-import is
    recognised (unique record_key) and so a call is rebuilt from all the records of its call_key, whichever
    file they came in. record_key: the CDR's uniqueid (+ sequence), else the SHA-1 of the raw line."""

    # Indexed as the first column of uniq_pbx_record_key.
    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, db_index=False)
    format = models.CharField("格式", max_length=20, choices=PbxFormat.choices)
    record_key = models.CharField("记录标识", max_length=150)
    call_key = models.CharField("呼叫标识", max_length=150)
    batch = models.ForeignKey(PbxImportBatch, on_delete=models.CASCADE, related_name="records")
    line_number = models.PositiveIntegerField("行号")
    event = models.CharField("事件/处置", max_length=40)  # disposition, queue event, hangup cause, score
    caller_number = models.CharField("主叫", max_length=80, blank=True)
    destination = models.CharField("被叫", max_length=80, blank=True)
    channel = models.CharField("通道", max_length=150, blank=True)
    dst_channel = models.CharField("目标通道", max_length=150, blank=True)
    agent_code = models.CharField("坐席", max_length=100, blank=True)
    started_at = models.DateTimeField("开始", null=True, blank=True)
    answered_at = models.DateTimeField("应答", null=True, blank=True)
    ended_at = models.DateTimeField("结束", null=True, blank=True)
    duration_seconds = models.IntegerField("时长", null=True, blank=True)
    billsec_seconds = models.IntegerField("计费时长", null=True, blank=True)
    wait_seconds = models.IntegerField("等待", null=True, blank=True)
    raw = models.TextField("原始行")

    class Meta:
        verbose_name = "话单记录"
        verbose_name_plural = "话单记录"
        constraints = [
            models.UniqueConstraint(fields=["authority", "format", "record_key"], name="uniq_pbx_record_key")
        ]
        indexes = [models.Index(fields=["authority", "format", "call_key"], name="pbx_auth_fmt_call")]

    def __str__(self) -> str:
        return f"{self.format} {self.record_key}"


# --- online tickets ---------------------------------------------------------------------------------------


class TicketChannel(models.TextChoices):
    WEB_CHAT = "web_chat", "网站在线咨询"
    EMAIL = "email", "电子邮件"
    WECHAT = "wechat", "微信公众号"
    QQ = "qq", "QQ"
    WEBHOOK = "webhook", "其他渠道（接口）"
    PHONE = "phone", "电话（来电跟进）"
    WINDOW = "window", "咨询窗口"


class TicketKind(models.TextChoices):
    CONSULTATION = "consultation", "咨询"
    GUIDANCE = "guidance", "导办"
    COMPLAINT = "complaint", "投诉"
    FOLLOW_UP = "follow_up", "来电跟进"


class TicketPriority(models.TextChoices):
    NORMAL = "normal", "普通"
    HIGH = "high", "紧急"


class TicketState(models.TextChoices):
    NEW = "new", "待分派"
    OPEN = "open", "处理中"
    WAITING = "waiting", "等待群众回复"
    RESOLVED = "resolved", "已解答"
    CLOSED = "closed", "已关闭"
    MERGED = "merged", "已合并"


TICKET_OPEN_STATES = (TicketState.NEW, TicketState.OPEN, TicketState.WAITING)

TICKET_WORKFLOW = StateMachine(
    state_labels=dict(TicketState.choices),
    transitions=[
        # Taking a ticket from the queue, or a lead assigning it, opens it.
        transition(
            "assign",
            "分派",
            [TicketState.NEW, TicketState.OPEN, TicketState.WAITING],
            TicketState.OPEN,
            "consultation.change_ticket",
        ),
        # Asking the citizen something pauses the SLA clock until they answer.
        transition(
            "wait_for_customer",
            "等待群众回复",
            [TicketState.OPEN],
            TicketState.WAITING,
            "consultation.change_ticket",
        ),
        # An inbound message on a waiting/resolved ticket reopens it (actor: the system).
        transition(
            "customer_replied",
            "群众回复",
            [TicketState.WAITING, TicketState.RESOLVED],
            TicketState.OPEN,
            None,
        ),
        transition(
            "resolve",
            "解答完毕",
            [TicketState.NEW, TicketState.OPEN, TicketState.WAITING],
            TicketState.RESOLVED,
            "consultation.change_ticket",
        ),
        transition("close", "关闭", [TicketState.RESOLVED], TicketState.CLOSED, "consultation.change_ticket"),
        transition(
            "reopen",
            "重新打开",
            [TicketState.RESOLVED, TicketState.CLOSED],
            TicketState.OPEN,
            "consultation.change_ticket",
        ),
        transition(
            "merge",
            "合并到其他工单",
            [TicketState.NEW, TicketState.OPEN, TicketState.WAITING],
            TicketState.MERGED,
            "consultation.merge_ticket",
        ),
    ],
)


class Contact(AuthorityScopedModel):
    """Who wrote to us on a channel: the WeChat openid, e-mail address, QQ number, a web-chat visitor's
    session key, a caller's number. One contact per (channel, external_id)."""

    channel = models.CharField("渠道", max_length=20, choices=TicketChannel.choices)
    external_id = models.CharField("渠道标识", max_length=200)
    display_name = models.CharField("称呼", max_length=100, blank=True)
    phone = models.CharField("电话", max_length=32, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    enterprise_name = models.CharField("企业名称", max_length=200, blank=True)

    class Meta:
        verbose_name = "咨询人"
        verbose_name_plural = "咨询人"
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "channel", "external_id"], name="uniq_contact_channel_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.display_name or self.external_id[:12]}"


class SlaPolicy(AuthorityScopedModel):
    """The deadlines of a ticket kind, in business minutes (working days × business hours)."""

    kind = models.CharField("工单类型", max_length=20, choices=TicketKind.choices)
    first_response_minutes = models.PositiveIntegerField("首次响应时限（工作分钟）")
    resolution_minutes = models.PositiveIntegerField("解决时限（工作分钟）")
    # Complaints escalate to the section head when this share of the resolution time is used up.
    escalate_at_percent = models.PositiveSmallIntegerField("升级阈值（%）", default=80)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "服务时限"
        verbose_name_plural = "服务时限"
        constraints = [models.UniqueConstraint(fields=["authority", "kind"], name="uniq_sla_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.first_response_minutes}/{self.resolution_minutes}"


class Ticket(AuthorityScopedModel):
    """One conversation with a citizen or enterprise, on any channel, from arrival to closing."""

    number = models.CharField("工单号", max_length=30, unique=True)
    kind = models.CharField(
        "类型", max_length=20, choices=TicketKind.choices, default=TicketKind.CONSULTATION
    )
    channel = models.CharField("渠道", max_length=20, choices=TicketChannel.choices, db_index=True)
    state = models.CharField("状态", max_length=10, choices=TicketState.choices, default=TicketState.NEW)
    priority = models.CharField(
        "优先级", max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    subject = models.CharField("主题", max_length=200)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="处理人",
    )
    topic = models.CharField("咨询主题", max_length=20, choices=CallTopic.choices, blank=True)
    related_case_number = models.CharField("关联业务编号", max_length=30, blank=True)
    # The channel's thread key: the e-mail Message-ID that started the thread, the webhook's conversation id.
    thread_key = models.CharField("会话标识", max_length=300, blank=True)
    opened_at = models.DateTimeField("创建时间", db_index=True)
    first_response_due_at = models.DateTimeField("首次响应期限", null=True, blank=True)
    resolution_due_at = models.DateTimeField("解决期限", null=True, blank=True, db_index=True)
    first_responded_at = models.DateTimeField("首次响应时间", null=True, blank=True)
    resolved_at = models.DateTimeField("解答时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    # SLA pause (waiting for the citizen): deadlines move by the business minutes spent waiting.
    waiting_since = models.DateTimeField("开始等待时间", null=True, blank=True)
    paused_business_minutes = models.PositiveIntegerField("暂停计时（工作分钟）", default=0)
    escalation_level = models.PositiveSmallIntegerField("升级级别", default=0)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_tickets",
        verbose_name="合并到",
    )
    # CSAT after closing: the citizen answers through a link carrying this token (portal, no login).
    csat_token = models.CharField("评价令牌", max_length=64, unique=True)
    csat_score = models.PositiveSmallIntegerField("满意度评分", null=True, blank=True)
    csat_comment = models.CharField("评价意见", max_length=500, blank=True)
    csat_at = models.DateTimeField("评价时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "在线工单"
        verbose_name_plural = "在线工单"
        ordering = ["-opened_at", "-id"]
        permissions = [
            ("assign_ticket", "分派工单"),
            ("merge_ticket", "合并重复工单"),
            ("escalate_complaint", "处理升级的投诉"),
        ]
        indexes = [
            models.Index(fields=["authority", "state", "opened_at"], name="ticket_auth_state_open"),
            models.Index(fields=["authority", "assignee", "state"], name="ticket_auth_assignee"),
            models.Index(fields=["authority", "kind", "opened_at"], name="ticket_auth_kind_open"),
            models.Index(fields=["authority", "channel", "thread_key"], name="ticket_auth_thread"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat_score__isnull=True) | Q(csat_score__gte=1, csat_score__lte=5),
                name="ticket_csat_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class TicketNumberCounter(models.Model):
    """The last sequence number of an authority's tickets of one day (工单号 = ZX+机关代码+日期+序号)."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT)
    day = models.DateField("日期")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "工单号计数器"
        verbose_name_plural = "工单号计数器"
        constraints = [models.UniqueConstraint(fields=["authority", "day"], name="uniq_ticket_counter_day")]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.day} {self.last}"


class TicketMessage(models.Model):
    """A message in a ticket: inbound from the citizen, outbound from an agent or the answering engine, or
    an internal note citizens never see. Text is stored as plain text; an e-mail's HTML is kept only after
    sanitizing (nh3), and templates always escape."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "群众来信"
        OUTBOUND = "outbound", "答复"
        NOTE = "note", "内部备注"

    class Delivery(models.TextChoices):
        NOT_APPLICABLE = "", "—"
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField("方向", max_length=10, choices=Direction.choices)
    channel = models.CharField("渠道", max_length=20, choices=TicketChannel.choices)
    # The channel's own id for de-duplication: WeChat MsgId, e-mail Message-ID, the webhook's message id.
    channel_message_id = models.CharField("渠道消息标识", max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField("内容")
    body_html = models.TextField("内容（已净化 HTML）", blank=True)
    created_at = models.DateTimeField("时间", db_index=True)
    # An engine answer or a canned reply cites the article version it came from.
    cited_version = models.ForeignKey(
        "ArticleVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_automatic = models.BooleanField("智能应答", default=False)
    delivery = models.CharField("发送状态", max_length=10, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.CharField("发送错误", max_length=300, blank=True)

    class Meta:
        verbose_name = "工单消息"
        verbose_name_plural = "工单消息"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "channel", "channel_message_id"],
                condition=~Q(channel_message_id=""),
                name="uniq_ticket_message_channel_id",
            )
        ]
        indexes = [models.Index(fields=["ticket", "id"], name="ticketmsg_ticket_id")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.direction} {self.created_at:%Y-%m-%d %H:%M}"


class TicketAttachment(models.Model):
    """A file that came with a message. Anything too big or of a dangerous kind is refused at intake; a
    file whose content does not match its claimed type is kept in quarantine, never served to staff."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件", upload_to="consultation/attachments/%Y/%m/", blank=True)
    file_name = models.CharField("文件名", max_length=255)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    quarantined = models.BooleanField("已隔离", default=False)
    quarantine_reason = models.CharField("隔离原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "工单附件"
        verbose_name_plural = "工单附件"

    def __str__(self) -> str:
        return self.file_name


class TicketTransitionLog(models.Model):
    """Every state change of a ticket: who (none for the system), when, from what to what, why."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField("操作", max_length=40)
    from_state = models.CharField("原状态", max_length=10, choices=TicketState.choices)
    to_state = models.CharField("新状态", max_length=10, choices=TicketState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name="操作人"
    )
    occurred_at = models.DateTimeField("时间", db_index=True)
    reason = models.TextField("理由/说明", blank=True)

    class Meta:
        verbose_name = "工单流转记录"
        verbose_name_plural = "工单流转记录"
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


class InboundWebhookEvent(models.Model):
    """A raw delivery from WeChat or a signed webhook, kept for audit and replay protection."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT)
    channel = models.CharField("渠道", max_length=20, choices=TicketChannel.choices)
    received_at = models.DateTimeField("接收时间", auto_now_add=True, db_index=True)
    event_id = models.CharField("事件标识", max_length=300, blank=True)
    signature_valid = models.BooleanField("签名有效")
    payload = models.TextField("原始内容")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField("处理结果", max_length=200, blank=True)

    class Meta:
        verbose_name = "渠道回调记录"
        verbose_name_plural = "渠道回调记录"
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.received_at:%Y-%m-%d %H:%M:%S}"


# --- knowledge base ---------------------------------------------------------------------------------------


class Visibility(models.TextChoices):
    PUBLIC = "public", "公开"
    INTERNAL = "internal", "内部"


class Article(AuthorityScopedModel):
    """A knowledge-base article (知识条目). Its content lives in versions; `published_version` is the one
    the public KB and the answering engine use. Every article has a review-by date: past it, the article
    is stale (知识新鲜度) and listed to its owner."""

    code = models.CharField("条目编号", max_length=20)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="负责人"
    )
    published_version = models.ForeignKey(
        "ArticleVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="现行版本",
    )
    review_by = models.DateField("复核期限", db_index=True)
    is_retired = models.BooleanField("已停用", default=False)
    usage_count = models.PositiveIntegerField("使用次数", default=0)
    stale_notified_at = models.DateTimeField("过期提醒时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "知识条目"
        verbose_name_plural = "知识条目"
        ordering = ["code"]
        permissions = [("review_article", "审核并发布知识条目")]
        constraints = [models.UniqueConstraint(fields=["authority", "code"], name="uniq_article_code")]

    def __str__(self) -> str:
        return self.code


class ArticleVersionState(models.TextChoices):
    DRAFT = "draft", "草稿"
    IN_REVIEW = "in_review", "待审核"
    PUBLISHED = "published", "已发布"
    SUPERSEDED = "superseded", "已被新版本替代"
    REJECTED = "rejected", "审核退回"


ARTICLE_VERSION_WORKFLOW = StateMachine(
    state_labels=dict(ArticleVersionState.choices),
    transitions=[
        transition(
            "submit",
            "提交审核",
            [ArticleVersionState.DRAFT, ArticleVersionState.REJECTED],
            ArticleVersionState.IN_REVIEW,
            "consultation.change_article",
        ),
        transition(
            "reject",
            "审核退回",
            [ArticleVersionState.IN_REVIEW],
            ArticleVersionState.REJECTED,
            "consultation.review_article",
        ),
        # Publishing supersedes the article's previous published version in the same transaction.
        transition(
            "publish",
            "审核通过并发布",
            [ArticleVersionState.IN_REVIEW],
            ArticleVersionState.PUBLISHED,
            "consultation.review_article",
        ),
        transition(
            "supersede",
            "被新版本替代",
            [ArticleVersionState.PUBLISHED],
            ArticleVersionState.SUPERSEDED,
            "consultation.review_article",
        ),
    ],
)


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    state = models.CharField(
        "状态", max_length=12, choices=ArticleVersionState.choices, default=ArticleVersionState.DRAFT
    )
    title = models.CharField("标准问题", max_length=200)
    # One variant per line: the other ways people ask the same question (问法).
    question_variants = models.TextField("相似问法", blank=True)
    answer = models.TextField("答案")
    legal_basis = models.TextField("政策法规依据", blank=True)
    # Registration case types (registration.CaseType values) the article concerns.
    case_types = models.JSONField("适用业务类型", default=list, blank=True)
    topic = models.CharField("咨询主题", max_length=20, choices=CallTopic.choices, blank=True)
    visibility = models.CharField(
        "公开范围", max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_comment = models.TextField("审核意见", blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "知识条目版本"
        verbose_name_plural = "知识条目版本"
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="uniq_article_version_number"),
            models.UniqueConstraint(
                fields=["article"], condition=Q(state="published"), name="one_published_version_per_article"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article.code} v{self.number} {self.title}"

    def variants(self) -> list[str]:
        return [line.strip() for line in self.question_variants.splitlines() if line.strip()]


class ArticleTransitionLog(models.Model):
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField("操作", max_length=40)
    from_state = models.CharField("原状态", max_length=12, choices=ArticleVersionState.choices)
    to_state = models.CharField("新状态", max_length=12, choices=ArticleVersionState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="操作人")
    occurred_at = models.DateTimeField("时间")
    reason = models.TextField("理由/说明", blank=True)

    class Meta:
        verbose_name = "知识条目流转记录"
        verbose_name_plural = "知识条目流转记录"
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.version_id} {self.action}"


class KnowledgeBaseRevision(models.Model):
    """A counter bumped in the same transaction as every publish/retire, so every process's answering
    engine sees the knowledge base changed and rebuilds its index before the next answer."""

    authority = models.OneToOneField("core.Authority", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveBigIntegerField("版本", default=0)

    class Meta:
        verbose_name = "知识库版本"
        verbose_name_plural = "知识库版本"

    def __str__(self) -> str:
        return f"{self.authority_id} r{self.revision}"


class Synonym(TimeStampedModel):
    """A synonym or abbreviation the engine rewrites to its canonical term (个体户 → 个体工商户)."""

    term = models.CharField("词语", max_length=50, unique=True)
    canonical = models.CharField("标准词", max_length=50)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "同义词"
        verbose_name_plural = "同义词"
        ordering = ["canonical", "term"]

    def __str__(self) -> str:
        return f"{self.term} → {self.canonical}"


class ArticleUsage(models.Model):
    """One use of an article: an engine answer, a canned reply, a public page view."""

    class Kind(models.TextChoices):
        ENGINE_ANSWER = "engine_answer", "智能应答"
        CANNED_REPLY = "canned_reply", "坐席引用"
        PUBLIC_VIEW = "public_view", "公开知识库浏览"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="usages")
    version = models.ForeignKey(ArticleVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField("方式", max_length=20, choices=Kind.choices)
    channel = models.CharField("渠道", max_length=20, choices=TicketChannel.choices, blank=True)
    used_at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "知识使用记录"
        verbose_name_plural = "知识使用记录"
        indexes = [models.Index(fields=["article", "used_at"], name="usage_article_time")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.kind}"


class AnswerLog(models.Model):
    """Every question the answering engine was asked, what it answered and how sure it was."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT)
    asked_at = models.DateTimeField("时间", db_index=True)
    channel = models.CharField("渠道", max_length=20, choices=TicketChannel.choices)
    question = models.TextField("问题")
    version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField("置信度")
    handed_over = models.BooleanField("转人工")
    latency_ms = models.FloatField("耗时（毫秒）")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "智能应答记录"
        verbose_name_plural = "智能应答记录"
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return self.question[:40]


class KnowledgeGap(AuthorityScopedModel):
    """A question the engine could not answer with confidence: the list staff write new articles from.
    Asked again (same normalised text), the gap counts one more occurrence instead of a new row."""

    class Status(models.TextChoices):
        OPEN = "open", "待补充"
        COVERED = "covered", "已补充条目"
        DISMISSED = "dismissed", "无需补充"

    question = models.TextField("问题")
    normalized_question = models.CharField("规范化问题", max_length=200)
    channel = models.CharField("首次渠道", max_length=20, choices=TicketChannel.choices)
    first_asked_at = models.DateTimeField("首次提问")
    last_asked_at = models.DateTimeField("最近提问", db_index=True)
    occurrences = models.PositiveIntegerField("次数", default=1)
    best_score = models.FloatField("最高匹配分", default=0)
    best_version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    covered_by = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    # Why a gap was dismissed (or what was done about it): the triage must be explainable later.
    handling_note = models.CharField("处理说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "知识缺口"
        verbose_name_plural = "知识缺口"
        ordering = ["-last_asked_at"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "normalized_question"], name="uniq_gap_question")
        ]

    def __str__(self) -> str:
        return self.question[:40]
