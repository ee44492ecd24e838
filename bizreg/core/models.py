from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Authority(models.Model):
    """A registration authority (登记机关): the tenant every business record belongs to."""

    code = models.CharField("机关代码", max_length=32, unique=True)
    name = models.CharField("机关名称", max_length=100, unique=True)
    division_code = models.CharField("行政区划代码", max_length=6)
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "登记机关"
        verbose_name_plural = "登记机关"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class AuthorityScopedModel(TimeStampedModel):
    """Base of every business record: it belongs to one authority, the tenancy and the shard key."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, verbose_name="登记机关")

    class Meta:
        abstract = True


class AccessLog(models.Model):
    """One row each time a full personal identifier is displayed or exported."""

    class Action(models.TextChoices):
        VIEW = "view", "查看"
        EXPORT = "export", "导出"
        API = "api", "接口读取"
        # A refused attempt to open a record kept from the user's role (e.g. an investigation case).
        DENIED = "denied", "拒绝访问"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name="用户"
    )
    authority = models.ForeignKey(Authority, null=True, on_delete=models.SET_NULL, verbose_name="登记机关")
    occurred_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    object_type = models.CharField("对象类型", max_length=100)
    object_id = models.CharField("对象标识", max_length=64)
    object_label = models.CharField("对象名称", max_length=200, blank=True)
    fields = models.CharField("字段", max_length=200)
    record_count = models.PositiveIntegerField("记录数", default=1)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    path = models.CharField("访问路径", max_length=300, blank=True)

    class Meta:
        verbose_name = "个人信息访问日志"
        verbose_name_plural = "个人信息访问日志"
        ordering = ["-occurred_at"]
        permissions = [("view_full_personal_data", "查看完整个人身份信息（会记入访问日志）")]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()} {self.object_label}"
        )


class WorkingCalendarYear(models.Model):
    """A year whose working days staff maintain by hand (chinesecalendar has no data for it yet).

    Days of such a year are Monday–Friday working days unless a WorkingDayOverride says otherwise.
    """

    year = models.PositiveIntegerField("年度", unique=True)
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "人工维护的工作日历年度"
        verbose_name_plural = "人工维护的工作日历年度"
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class WorkingDayOverride(models.Model):
    """A date whose working/rest status differs from the computed calendar (调休, 临时放假)."""

    date = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("是否工作日")
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'工作日' if self.is_working_day else '休息日'}"


class BackgroundJob(models.Model):
    """A long job (import, OCR batch, report) with progress staff can watch and retry."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "处理中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, verbose_name="登记机关")
    kind = models.CharField("任务类型", max_length=50)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name="提交人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    total = models.PositiveIntegerField("总数", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    parameters = models.JSONField("参数", default=dict, blank=True)
    input_file = models.FileField("输入文件", upload_to="jobs/%Y/%m/", blank=True)
    input_sha256 = models.CharField("输入文件 SHA-256", max_length=64, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    # The last sign of life: queued, started or progressed. A job quiet for too long has lost its worker
    # or its queue message (core.services.job_recover_stalled).
    heartbeat_at = models.DateTimeField("最近活动时间", default=timezone.now)
    # A file the job made for its submitter (an Excel export); deleted after a while (services).
    output_file = models.FileField("生成文件", upload_to="jobs/output/%Y/%m/", blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class DemoSeedRun(models.Model):
    """Which demo seeder has filled which authority's demo year, so seed_demo is idempotent."""

    seeder = models.CharField("数据生成器", max_length=100)
    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, verbose_name="登记机关")
    year = models.PositiveIntegerField("年度")
    finished_at = models.DateTimeField("完成时间", auto_now_add=True)
    rows = models.PositiveIntegerField("生成行数", default=0)

    class Meta:
        verbose_name = "演示数据生成记录"
        verbose_name_plural = "演示数据生成记录"
        constraints = [
            models.UniqueConstraint(fields=["seeder", "authority", "year"], name="uniq_demo_seed_run"),
        ]

    def __str__(self) -> str:
        return f"{self.seeder} {self.authority_id} {self.year}"
