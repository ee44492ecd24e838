"""Forms of the investigation pages. They check shape only; the services check the rules (ID numbers,
states, legal basis) and their ValidationError lands on the matching field (ServiceErrorsMixin)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.enterprises.models import PersonRole
from bizreg.enterprises.services import RESCINDABLE_FIELDS
from bizreg.investigations.models import (
    CaseState,
    ContactMethod,
    DecisionOutcome,
    DocumentKind,
    EvidenceKind,
    FieldCheckResult,
    NonRevocationGround,
    ReportSource,
    SuspensionGround,
    VerificationMethod,
    VerificationResult,
)

DATE = forms.DateInput(attrs={"type": "date"})
# What a partial revocation may name: a role's current holders, or an item of the register entry.
RESCINDABLE_ITEMS = [
    *((role, f"{label}登记事项") for role, label in PersonRole.choices),
    *((field, f"{label}登记事项") for field, label in RESCINDABLE_FIELDS.items()),
]
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

ENTERPRISES_HELP = "每行一家：企业名称，可在名称后加空格和统一社会信用代码；登记簿中找不到的也会保留并标注"


def parse_enterprise_lines(text: str) -> list[dict]:
    """'名称 [USCC]' per line → [{"name", "uscc"}]: an 18-character last token is taken as the code."""
    named = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        uscc = ""
        if len(parts) > 1 and len(parts[-1]) == 18:
            uscc = parts.pop().upper()
        named.append({"name": " ".join(parts), "uscc": uscc})
    return named


def parse_person_lines(text: str) -> list[dict]:
    """'姓名 身份证号 身份' per line → [{"name", "id_number", "role"}]."""
    persons = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise forms.ValidationError(
                f"“{line.strip()}”：每行须写姓名、身份证号，可再写在虚假登记中的身份。"
            )
        persons.append({"name": parts[0], "id_number": parts[1].upper(), "role": " ".join(parts[2:])})
    return persons


class CaseFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    date_range = ("received_from", "received_to")

    q = forms.CharField(label="关键词", required=False, max_length=100)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *CaseState.choices])
    source = forms.ChoiceField(
        label="来源", required=False, choices=[("", "全部来源"), *ReportSource.choices]
    )
    overdue = forms.BooleanField(label="仅看超期", required=False)
    mine = forms.BooleanField(label="只看我承办的", required=False)
    received_from = forms.DateField(label="收到日期自", required=False, widget=DATE)
    received_to = forms.DateField(label="至", required=False, widget=DATE)


class ReportForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    """A report taken in by staff: from the 专责小组, from the victim at the window, or ex officio."""

    source = forms.ChoiceField(label="线索来源", choices=ReportSource.choices)
    referral_reference = forms.CharField(label="专责小组转办单号", required=False, max_length=60)
    reporter_name = forms.CharField(label="被冒用人姓名", max_length=50)
    reporter_id_number = forms.CharField(label="被冒用人身份证号", max_length=18)
    reporter_phone = forms.CharField(label="联系电话", required=False, max_length=20)
    verification_method = forms.ChoiceField(label="身份核验方式", choices=VerificationMethod.choices)
    verification_result = forms.ChoiceField(label="身份核验结果", choices=VerificationResult.choices)
    verification_note = forms.CharField(label="核验说明", required=False, max_length=300)
    narrative = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 4}))
    enterprises = forms.CharField(
        label="涉及企业", widget=forms.Textarea(attrs={"rows": 3}), help_text=ENTERPRISES_HELP
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "source": data["source"],
            "referral_reference": data["referral_reference"],
            "reporter": {
                "name": data["reporter_name"],
                "id_number": data["reporter_id_number"].strip().upper(),
                "phone": data["reporter_phone"],
            },
            "verification_method": data["verification_method"],
            "verification_result": data["verification_result"],
            "verification_note": data["verification_note"],
            "narrative": data["narrative"],
            "enterprises": parse_enterprise_lines(data["enterprises"]),
        }


PUBLIC_METHODS = [
    (VerificationMethod.ONLINE_FACE, VerificationMethod.ONLINE_FACE.label),
    (VerificationMethod.OFFLINE_WINDOW, "到登记窗口出示身份证原件核验（提交后请于 3 个工作日内到窗口）"),
    (VerificationMethod.NOTARIZED, "提交经公证/认证的身份证明（境外人员）"),
]


class PublicReportForm(BootstrapMixin, forms.Form):
    """The victim's own application on the portal (实施细则 art. 51: the person must verify identity)."""

    reporter_name = forms.CharField(label="您的姓名", max_length=50)
    reporter_id_number = forms.CharField(label="您的身份证号", max_length=18)
    reporter_phone = forms.CharField(label="手机号码", max_length=20)
    verification_method = forms.ChoiceField(
        label="身份核验方式", choices=PUBLIC_METHODS, widget=forms.RadioSelect
    )
    enterprises = forms.CharField(
        label="被冒用身份登记的企业", widget=forms.Textarea(attrs={"rows": 3}), help_text=ENTERPRISES_HELP
    )
    narrative = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 5}), max_length=2000)
    consent = forms.BooleanField(label="本人承诺所填信息真实，并同意登记机关为调查核实使用上述个人信息")

    def clean_reporter_phone(self) -> str:
        phone = self.cleaned_data["reporter_phone"].strip()
        if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
            raise forms.ValidationError("请填写 11 位手机号码。")
        return phone


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="理由/说明", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


class SuspendForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    ground = forms.ChoiceField(label="中止情形", choices=SuspensionGround.choices)
    reason = forms.CharField(label="说明", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ObjectionForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    objector = forms.CharField(label="异议人", max_length=100)
    received_on = forms.DateField(label="收到日期", widget=DATE)
    content = forms.CharField(label="异议内容", widget=forms.Textarea(attrs={"rows": 3}))


class MergeForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    into = forms.CharField(label="并入案件编号", max_length=30)
    reason = forms.CharField(label="并案理由", max_length=300)


class AddEnterpriseForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    uscc = forms.CharField(label="统一社会信用代码", max_length=18)
    reason = forms.CharField(label="理由", max_length=300)


class DecisionForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(label="决定", choices=DecisionOutcome.choices)
    legal_basis = forms.CharField(
        label="法律依据",
        max_length=300,
        required=False,  # the service refuses an empty one with its own message, which the test checks
        help_text="如：《市场主体登记管理条例》第四十条、《实施细则》第五十六条",
    )
    items = forms.MultipleChoiceField(
        label="撤销事项（部分撤销时勾选）",
        required=False,
        choices=RESCINDABLE_ITEMS,
        widget=forms.CheckboxSelectMultiple,
    )
    non_revocation_ground = forms.ChoiceField(
        label="不予撤销依据", required=False, choices=[("", "—"), *NonRevocationGround.choices]
    )
    police_reference = forms.CharField(label="移送编号", required=False, max_length=60)
    reasoning = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 4}))
    responsible_persons = forms.CharField(
        label="责任人（每行：姓名 身份证号 身份），撤销时列入三年内不得登记名单",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_responsible_persons(self) -> list[dict]:
        return parse_person_lines(self.cleaned_data["responsible_persons"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "outcome": data["outcome"],
            "legal_basis": data["legal_basis"],
            "reasoning": data["reasoning"],
            "items": list(data["items"]),
            "non_revocation_ground": data["non_revocation_ground"],
            "police_reference": data["police_reference"],
            "responsible_persons": data["responsible_persons"],
        }


def investigators():
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__permissions__codename="change_investigationcase",
            groups__permissions__content_type__app_label="investigations",
        )
        .distinct()
        .order_by("username")
    )


class FieldCheckForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    enterprise = forms.ModelChoiceField(label="核查企业", queryset=None, required=False)
    address = forms.CharField(label="核查地址", max_length=300)
    assigned_to = forms.ModelChoiceField(label="核查人", queryset=None)
    due_on = forms.DateField(label="要求完成日期", widget=DATE)

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        self.fields["assigned_to"].queryset = investigators()
        self.fields["assigned_to"].label_from_instance = str


class ContactAttemptForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    attempted_at = forms.DateTimeField(label="联系时间", widget=DATETIME)
    method = forms.ChoiceField(label="方式", choices=ContactMethod.choices)
    target = forms.CharField(label="联系对象", max_length=100)
    reached = forms.BooleanField(label="已联系上", required=False)
    note = forms.CharField(label="情况", max_length=300, required=False)


class FieldCheckReportForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    visited_at = forms.DateTimeField(label="核查时间", widget=DATETIME)
    result = forms.ChoiceField(label="核查结果", choices=FieldCheckResult.choices)
    findings = forms.CharField(label="核查情况", widget=forms.Textarea(attrs={"rows": 4}))


class FieldCheckCorrectionForm(FieldCheckReportForm):
    reason = forms.CharField(label="更正理由", max_length=300)


class EvidenceForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=EvidenceKind.choices)
    description = forms.CharField(label="说明", max_length=300)
    upload = forms.FileField(label="文件（JPEG、PNG、TIFF 或 PDF）")
    field_check = forms.ModelChoiceField(label="所属实地核查", queryset=None, required=False)

    def __init__(self, *args, field_checks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_check"].queryset = field_checks


class EvidenceCorrectionForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    upload = forms.FileField(label="更正后的文件")
    reason = forms.CharField(label="更正理由", max_length=300)


class DocumentForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label="文书", choices=DocumentKind.choices)
    # The 专业意见书 states the investigator's opinion and the legal basis proposed (both required there).
    opinion = forms.CharField(
        label="调查意见（专业意见书）", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    legal_basis = forms.CharField(label="拟适用的法律依据（专业意见书）", required=False, max_length=300)


class LinkSearchForm(BootstrapMixin, forms.Form):
    id_number = forms.CharField(label="身份证号", max_length=18)
    depth = forms.IntegerField(label="关联层数", min_value=1, max_value=3, initial=2, required=False)


class SurveyForm(BootstrapMixin, forms.Form):
    score = forms.TypedChoiceField(
        label="您对本次冒名登记处理情况是否满意",
        coerce=int,
        choices=[(5, "非常满意"), (4, "满意"), (3, "一般"), (2, "不满意"), (1, "非常不满意")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label="意见建议", required=False, widget=forms.Textarea(attrs={"rows": 3}))
