from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from bizreg.core.models import AuthorityScopedModel, TimeStampedModel


class EntityType(models.TextChoices):
    LLC = "llc", "有限责任公司"
    JOINT_STOCK = "joint_stock", "股份有限公司"
    SOLE_PROPRIETORSHIP = "sole_prop", "个人独资企业"
    PARTNERSHIP = "partnership", "合伙企业"
    INDIVIDUAL_BUSINESS = "individual", "个体工商户"
    BRANCH = "branch", "分公司"
    FOREIGN_INVESTED = "foreign", "外商投资企业"
    COOPERATIVE = "cooperative", "农民专业合作社"


class IndustrySection(models.TextChoices):
    """GB/T 4754-2017 门类."""

    A = "A", "A 农、林、牧、渔业"
    B = "B", "B 采矿业"
    C = "C", "C 制造业"
    D = "D", "D 电力、热力、燃气及水生产和供应业"
    E = "E", "E 建筑业"
    F = "F", "F 批发和零售业"
    G = "G", "G 交通运输、仓储和邮政业"
    H = "H", "H 住宿和餐饮业"
    I = "I", "I 信息传输、软件和信息技术服务业"  # noqa: E741 — the standard's own letter
    J = "J", "J 金融业"
    K = "K", "K 房地产业"
    L = "L", "L 租赁和商务服务业"
    M = "M", "M 科学研究和技术服务业"
    N = "N", "N 水利、环境和公共设施管理业"
    O = "O", "O 居民服务、修理和其他服务业"  # noqa: E741
    P = "P", "P 教育"
    Q = "Q", "Q 卫生和社会工作"
    R = "R", "R 文化、体育和娱乐业"
    S = "S", "S 公共管理、社会保障和社会组织"
    T = "T", "T 国际组织"


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", "存续"
    REVOKED = "revoked", "吊销"
    DEREGISTERED = "deregistered", "注销"
    MOVED_OUT = "moved_out", "迁出"
    # Set only by services.enterprise_rescind (identity-misuse decision, 条例 art. 40), never by an edit.
    RESCINDED = "rescinded", "撤销登记"


class Street(models.Model):
    """A street (街道) or town (镇) of the district: the address unit staff filter by."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("街道/镇", max_length=50)
    division_code = models.CharField("所属区县代码", max_length=6, db_index=True)

    class Meta:
        verbose_name = "街道/镇"
        verbose_name_plural = "街道/镇"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class FtzAddressRule(TimeStampedModel):
    """An admin-editable rule that tags addresses inside the free-trade zone (自贸区) and names the area."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    area_name = models.CharField("自贸区片区/区块", max_length=100)
    street = models.ForeignKey(
        Street, null=True, blank=True, on_delete=models.PROTECT, verbose_name="限定街道/镇"
    )
    address_keyword = models.CharField(
        "地址关键词", max_length=100, help_text="地址包含该关键词即命中（如“海滨路”“进港大道”）"
    )
    priority = models.PositiveIntegerField("优先级", default=100, help_text="数字小者优先")
    is_active = models.BooleanField("启用", default=True)
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "自贸区地址规则"
        verbose_name_plural = "自贸区地址规则"
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.area_name}：{self.address_keyword}"


class Enterprise(AuthorityScopedModel):
    """A market entity in the register (商事主体)."""

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    uscc_is_exception = models.BooleanField(
        "代码校验例外", default=False, help_text="早期试点地区合法核发但校验位不符的代码，经负责人确认登记"
    )
    # On PostgreSQL the database also keeps a generated column `name_bigrams` derived from `name` for the
    # two-character search (migration 0005): changing this field's type needs that column dropped first.
    name = models.CharField("名称", max_length=200, db_index=True)
    name_initials = models.CharField("名称拼音首字母", max_length=200, db_index=True, editable=False)
    entity_type = models.CharField("主体类型", max_length=20, choices=EntityType.choices, db_index=True)
    legal_rep_name = models.CharField("法定代表人/负责人", max_length=50, db_index=True)
    legal_rep_id_number = models.CharField("法定代表人身份证号", max_length=18)
    registered_capital = models.DecimalField(
        "注册资本（元）", max_digits=18, decimal_places=2, null=True, blank=True
    )
    established_on = models.DateField("成立日期", db_index=True)
    business_scope = models.TextField("经营范围", blank=True)
    industry = models.CharField("行业门类", max_length=1, choices=IndustrySection.choices, db_index=True)
    address = models.CharField("住所", max_length=300)
    # Derived from `address` on every save (rules.address_key), so enterprises at one place written
    # differently are found together by the link analysis; bulk loaders set it themselves.
    address_key = models.CharField("住所归一键", max_length=300, default="", db_default="", editable=False)
    street = models.ForeignKey(Street, on_delete=models.PROTECT, verbose_name="街道/镇")
    in_ftz = models.BooleanField("自贸区", default=False, db_index=True)
    ftz_area = models.CharField("自贸区片区/区块", max_length=100, blank=True)
    ftz_rule = models.ForeignKey(
        FtzAddressRule, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="命中的自贸区规则"
    )
    ftz_override = models.BooleanField(
        "自贸区人工认定", null=True, blank=True, help_text="为空表示按地址规则自动判定"
    )
    ftz_override_reason = models.CharField("人工认定理由", max_length=200, blank=True)
    status = models.CharField(
        "登记状态",
        max_length=20,
        choices=EnterpriseStatus.choices,
        default=EnterpriseStatus.ACTIVE,
        db_index=True,
    )
    status_changed_on = models.DateField("状态变更日期", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "商事主体"
        verbose_name_plural = "商事主体"
        ordering = ["-established_on", "-id"]
        permissions = [
            ("import_enterprise", "导入商事主体"),
            ("export_enterprise", "导出商事主体"),
            ("lock_enterprise", "锁定/解锁商事主体"),
            ("confirm_uscc_exception", "确认统一社会信用代码校验例外"),
        ]
        indexes = [
            models.Index(fields=["authority", "status", "-established_on"], name="ent_auth_status_est"),
            models.Index(fields=["authority", "-established_on", "-id"], name="ent_auth_est_id"),
            # Partial: most look-ups ask for one place, never for "no address".
            models.Index(fields=["address_key"], name="ent_address_key", condition=~Q(address_key="")),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        from bizreg.enterprises.rules import address_key

        self.address_key = address_key(self.address)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "address" in update_fields:
            kwargs["update_fields"] = {*update_fields, "address_key"}
        super().save(*args, **kwargs)


class EnterpriseFormerName(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="former_names", verbose_name="商事主体"
    )
    name = models.CharField("曾用名", max_length=200, db_index=True)
    used_until = models.DateField("使用至", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "曾用名"
        verbose_name_plural = "曾用名"
        ordering = ["-used_until"]

    def __str__(self) -> str:
        return self.name


class UsccException(TimeStampedModel):
    """A manager's recorded confirmation that a code failing a check digit was legally issued."""

    authority = models.ForeignKey("core.Authority", on_delete=models.PROTECT, verbose_name="登记机关")
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    failed_check = models.CharField("未通过的校验", max_length=40)
    reason = models.CharField("确认理由", max_length=300)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="确认人"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "代码校验例外"
        verbose_name_plural = "代码校验例外"

    def __str__(self) -> str:
        return self.uscc


class EnterpriseLock(TimeStampedModel):
    """A lock (锁定) on an enterprise: later modules refuse its cases except those of the linked case."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="locks", verbose_name="商事主体"
    )
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="锁定人"
    )
    locked_at = models.DateTimeField("锁定时间")
    reason = models.CharField("锁定原因", max_length=300)
    case_reference = models.CharField(
        "关联案件",
        max_length=100,
        blank=True,
        help_text="如冒用身份案件编号；只有该案件的业务可在锁定期间办理",
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="解锁人",
    )
    released_at = models.DateTimeField("解锁时间", null=True, blank=True)
    release_reason = models.CharField("解锁原因", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "锁定记录"
        verbose_name_plural = "锁定记录"
        ordering = ["-locked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(released_at__isnull=True),
                name="one_active_lock_per_enterprise",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} 锁定于 {self.locked_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class PersonRole(models.TextChoices):
    LEGAL_REP = "legal_rep", "法定代表人"
    SHAREHOLDER = "shareholder", "股东"
    DIRECTOR = "director", "董事"
    SUPERVISOR = "supervisor", "监事"
    MANAGER = "manager", "经理"
    FINANCE = "finance", "财务负责人"
    LIAISON = "liaison", "联络员"
    AGENT = "agent", "委托代理人"


class EnterprisePerson(TimeStampedModel):
    """A natural person in one role of one enterprise as the register records it (登记的人员事项).

    A role that ends keeps its row with `ended_on` set, so the register answers who held it when; the
    legal representative's current row mirrors Enterprise.legal_rep_* (kept in step by the services).
    ID number, phone and address key are indexed: the link analysis looks people up by each of them.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="persons", verbose_name="商事主体"
    )
    role = models.CharField("职务/身份", max_length=20, choices=PersonRole.choices)
    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("身份证号", max_length=18)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    address = models.CharField("住所/联系地址", max_length=300, blank=True)
    address_key = models.CharField("地址归一键", max_length=300, blank=True, editable=False)
    share_ratio = models.DecimalField("持股比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    started_on = models.DateField("任职/登记日期")
    ended_on = models.DateField("终止日期", null=True, blank=True, help_text="为空表示现任")
    end_reason = models.CharField("终止原因/决定文号", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "登记人员"
        verbose_name_plural = "登记人员"
        ordering = ["enterprise_id", "ended_on", "role", "id"]
        # Plain b-tree indexes in Meta rather than db_index: on PostgreSQL db_index on a CharField adds a
        # second, LIKE-pattern index nobody uses, and the history table needs none of them. Phone and
        # address are often blank: the partial indexes leave those rows out (queries say `<> ''`).
        indexes = [
            models.Index(fields=["enterprise", "role"], name="entperson_ent_role"),
            models.Index(fields=["id_number"], name="entperson_id_number"),
            models.Index(fields=["phone"], name="entperson_phone", condition=~Q(phone="")),
            models.Index(fields=["address_key"], name="entperson_address_key", condition=~Q(address_key="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    def save(self, *args, **kwargs):
        from bizreg.enterprises.rules import address_key

        self.address_key = address_key(self.address)
        super().save(*args, **kwargs)

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class RescissionScope(models.TextChoices):
    ALL = "all", "撤销全部登记"
    ITEMS = "items", "撤销部分登记事项"


class RegistrationRescission(TimeStampedModel):
    """A revocation (撤销登记) of an enterprise's registration or of some of its items, as decided.

    `items` keeps what was revoked in the words of the decision: labels of the person-role entries
    ended and of register items, so the enterprise page shows the decision as it was taken.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="rescissions", verbose_name="商事主体"
    )
    scope = models.CharField("撤销范围", max_length=10, choices=RescissionScope.choices)
    items = models.JSONField("撤销事项", default=list, blank=True)
    decision_reference = models.CharField("决定文号", max_length=100)
    decided_on = models.DateField("决定日期")
    reason = models.CharField("撤销理由", max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="经办人"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "撤销登记记录"
        verbose_name_plural = "撤销登记记录"
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.get_scope_display()} {self.decision_reference}"
