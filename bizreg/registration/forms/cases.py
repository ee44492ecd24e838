"""Forms of the case pages. They parse input; the rules of intake and of each step live in services.cases,
whose field errors come back onto the matching form fields (add_service_errors)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from bizreg.core.forms import DateRangeMixin
from bizreg.core.money import wan_to_yuan
from bizreg.enterprises.forms import BootstrapMixin
from bizreg.enterprises.models import EntityType, IndustrySection
from bizreg.enterprises.services import streets_for_authority
from bizreg.registration.models import (
    CaseExtension,
    CaseMaterial,
    CaseType,
    Channel,
    MaterialRequirement,
)

# Form field → key of RegistrationCase.requested_changes (services.cases.REQUESTED_CHANGE_LABELS).
CHANGE_FORM_FIELDS = {
    "rc_name": "name",
    "rc_entity_type": "entity_type",
    "rc_legal_rep_name": "legal_rep_name",
    "rc_legal_rep_id_number": "legal_rep_id_number",
    "rc_registered_capital": "registered_capital",
    "rc_business_scope": "business_scope",
    "rc_industry": "industry",
    "rc_address": "address",
    "rc_street": "street",
    "rc_established_on": "established_on",
    "rc_origin_authority": "origin_authority",
    "rc_destination_authority": "destination_authority",
    "rc_destination_address": "destination_address",
    "rc_filing_items": "filing_items",
}
# Which requested-change fields each case type uses (the page shows only these; the service checks).
FIELDS_BY_TYPE = {
    CaseType.ESTABLISHMENT: [
        "rc_entity_type",
        "rc_legal_rep_name",
        "rc_legal_rep_id_number",
        "rc_registered_capital",
        "rc_industry",
        "rc_street",
        "rc_address",
        "rc_business_scope",
    ],
    CaseType.MIGRATION_IN: [
        "rc_entity_type",
        "rc_legal_rep_name",
        "rc_legal_rep_id_number",
        "rc_registered_capital",
        "rc_industry",
        "rc_established_on",
        "rc_street",
        "rc_address",
        "rc_business_scope",
        "rc_origin_authority",
    ],
    CaseType.CHANGE: [
        "rc_name",
        "rc_street",
        "rc_address",
        "rc_legal_rep_name",
        "rc_legal_rep_id_number",
        "rc_registered_capital",
        "rc_entity_type",
        "rc_industry",
        "rc_business_scope",
    ],
    CaseType.FILING: ["rc_filing_items"],
    CaseType.MIGRATION_OUT: ["rc_destination_authority", "rc_destination_address"],
    CaseType.DEREGISTRATION: [],
    CaseType.SIMPLE_DEREGISTRATION: [],
}
SERVICE_FIELD_ALIASES = {"enterprise": "enterprise_uscc"}


class ServiceErrorsMixin:
    """Puts a service's ValidationError on the matching field (the rest above the form)."""

    def field_for_error(self, name: str) -> str | None:
        if name.startswith("requested_changes."):
            key = name.split(".", 1)[1]
            name = next((f for f, k in CHANGE_FORM_FIELDS.items() if k == key), "")
        name = SERVICE_FIELD_ALIASES.get(name, name)
        return name if name in self.fields else None

    def add_service_errors(self, exc: ValidationError, *, beside_own_errors: bool = False) -> None:
        """With `beside_own_errors`, a field the form itself already refused keeps only the form's message
        (the service, not given the value, would say it is missing)."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        refused = set(self.errors) if beside_own_errors else set()
        for name, errors in exc.error_dict.items():
            target = None if name == NON_FIELD_ERRORS else self.field_for_error(name)
            if target in refused:
                continue
            for error in errors:
                message = error.message % error.params if error.params else error.message
                self.add_error(target, message)


def _materials_choices() -> list[tuple[int, str]]:
    return [
        (m.pk, m.name)
        for m in MaterialRequirement.objects.filter(is_active=True).order_by("case_type", "order", "id")
    ]


class CaseIntakeForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    case_type = forms.ChoiceField(
        label=_("业务类型"), choices=[("", _("请选择"))] + list(CaseType.choices), required=False
    )
    channel = forms.ChoiceField(
        label=_("办理渠道"), choices=Channel.choices, initial=Channel.WINDOW, required=False
    )
    enterprise_uscc = forms.CharField(
        label=_("商事主体统一社会信用代码"),
        max_length=40,
        required=False,
        help_text=_("变更、注销、备案、迁出：输入代码，或按名称查找后选择"),
    )
    enterprise_name = forms.CharField(label=_("企业名称"), max_length=200, required=False)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=40,
        required=False,
        help_text=_("设立可留空，核准时由系统赋码；迁入须填写原代码"),
    )
    applicant_name = forms.CharField(label=_("申请人姓名"), max_length=50, required=False)
    applicant_id_number = forms.CharField(label=_("申请人身份证号"), max_length=30, required=False)
    applicant_phone = forms.CharField(label=_("申请人手机"), max_length=20, required=False)
    agent_name = forms.CharField(label=_("代理人姓名"), max_length=50, required=False)
    agent_id_number = forms.CharField(label=_("代理人身份证号"), max_length=30, required=False)
    agent_phone = forms.CharField(label=_("代理人手机"), max_length=20, required=False)
    materials = forms.TypedMultipleChoiceField(
        label=_("已收材料"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    rc_name = forms.CharField(label=_("变更后名称"), max_length=200, required=False)
    rc_entity_type = forms.ChoiceField(
        label=_("主体类型"), choices=[("", "—")] + list(EntityType.choices), required=False
    )
    rc_legal_rep_name = forms.CharField(label=_("法定代表人/负责人"), max_length=50, required=False)
    rc_legal_rep_id_number = forms.CharField(label=_("法定代表人身份证号"), max_length=30, required=False)
    rc_registered_capital = forms.DecimalField(
        label=_("注册资本（万元）"), required=False, max_digits=18, decimal_places=6, min_value=Decimal("0")
    )
    rc_industry = forms.ChoiceField(
        label=_("行业门类"), choices=[("", "—")] + list(IndustrySection.choices), required=False
    )
    rc_street = forms.ModelChoiceField(label=_("街道/镇"), queryset=None, required=False)
    rc_address = forms.CharField(label=_("住所"), max_length=300, required=False)
    rc_business_scope = forms.CharField(
        label=_("经营范围"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    rc_established_on = forms.DateField(
        label=_("原成立日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rc_origin_authority = forms.CharField(label=_("迁出地登记机关"), max_length=100, required=False)
    rc_destination_authority = forms.CharField(label=_("迁入地登记机关"), max_length=100, required=False)
    rc_destination_address = forms.CharField(label=_("迁入地址"), max_length=300, required=False)
    rc_filing_items = forms.CharField(
        label=_("备案事项"),
        max_length=300,
        required=False,
        help_text=_("如章程修正案、董事/监事/经理、联络员、受益所有人"),
    )
    investigation_reference = forms.CharField(
        label=_("关联调查案件编号"),
        max_length=100,
        required=False,
        help_text=_("办理被锁定企业的业务时须填写锁定所关联的案件编号"),
    )
    external_id = forms.CharField(label=_("一网通办申请号"), max_length=64, required=False)

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["materials"].choices = _materials_choices()
        self.fields["rc_street"].queryset = streets_for_authority(authority)
        self.fields["rc_street"].empty_label = "—"
        self.fields["case_type"].widget.attrs["autofocus"] = True
        for name in ("applicant_phone", "agent_phone"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        for name in (
            "applicant_id_number",
            "agent_id_number",
            "rc_legal_rep_id_number",
            "uscc",
            "enterprise_uscc",
        ):
            self.fields[name].widget.attrs.update(
                {"autocomplete": "off", "class": "form-control font-monospace"}
            )
        for name in ("case_type", "channel", "applicant_name", "applicant_id_number", "applicant_phone"):
            self.fields[name].widget.attrs["aria-required"] = "true"

    def service_data(self) -> dict:
        data = self.cleaned_data
        changes: dict = {}
        for field, key in CHANGE_FORM_FIELDS.items():
            value = data.get(field)
            if value in (None, ""):
                continue
            if field == "rc_registered_capital":
                value = str(wan_to_yuan(value))
            elif field == "rc_street":
                value = value.pk
            elif field == "rc_established_on":
                value = value.isoformat()
            changes[key] = value
        return {
            "case_type": data.get("case_type", ""),
            "channel": data.get("channel", ""),
            "enterprise_uscc": data.get("enterprise_uscc", ""),
            "enterprise_name": data.get("enterprise_name", ""),
            "uscc": data.get("uscc", ""),
            "applicant_name": data.get("applicant_name", ""),
            "applicant_id_number": data.get("applicant_id_number", ""),
            "applicant_phone": data.get("applicant_phone", ""),
            "agent_name": data.get("agent_name", ""),
            "agent_id_number": data.get("agent_id_number", ""),
            "agent_phone": data.get("agent_phone", ""),
            "materials": list(data.get("materials") or []),
            "requested_changes": changes,
            "investigation_reference": data.get("investigation_reference", ""),
            "external_id": data.get("external_id", ""),
        }

    def material_groups(self) -> list[dict]:
        """The checklist checkboxes grouped by case type (the page shows the group of the chosen type)."""
        chosen = {str(v) for v in (self["materials"].value() or [])}
        groups: dict[str, dict] = {}
        for m in MaterialRequirement.objects.filter(is_active=True).order_by("case_type", "order", "id"):
            group = groups.setdefault(
                m.case_type, {"case_type": m.case_type, "label": m.get_case_type_display(), "items": []}
            )
            group["items"].append(
                {"pk": m.pk, "name": m.name, "mandatory": m.mandatory, "checked": str(m.pk) in chosen}
            )
        return list(groups.values())


class ReasonForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("理由/说明"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data.get("reason", "")}


class ReturnForCorrectionForm(ReasonForm):
    """一次性告知: every deficiency listed at once — ticked checklist items and free-text lines."""

    deficient_materials = forms.TypedMultipleChoiceField(
        label=_("需补正的材料"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    other_deficiencies = forms.CharField(
        label=_("其他需补正的事项（每行一项）"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, materials: list[CaseMaterial], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deficient_materials"].choices = [
            (m.requirement_id, m.requirement.name) for m in materials
        ]
        if not self.is_bound:
            self.initial["deficient_materials"] = [
                m.requirement_id for m in materials if m.requirement.mandatory and not m.received
            ]
        self.fields["reason"].label = _("补充说明（可选）")

    def service_kwargs(self) -> dict:
        items: list = [{"requirement": pk} for pk in self.cleaned_data.get("deficient_materials") or []]
        for line in (self.cleaned_data.get("other_deficiencies") or "").splitlines():
            if line.strip():
                items.append(line.strip())
        return {"reason": self.cleaned_data.get("reason", ""), "deficiencies": items}

    def field_for_error(self, name: str) -> str | None:
        if name == "deficiencies":
            return "other_deficiencies"
        return super().field_for_error(name)


class ResubmitForm(ReasonForm):
    materials = forms.TypedMultipleChoiceField(
        label=_("本次补交的此前未收材料"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, materials: list[CaseMaterial], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["materials"].choices = [
            (m.requirement_id, m.requirement.name) for m in materials if not m.received
        ]

    def service_kwargs(self) -> dict:
        return {
            "reason": self.cleaned_data.get("reason", ""),
            "materials": self.cleaned_data.get("materials") or [],
        }


class MaterialsForm(forms.Form):
    received = forms.TypedMultipleChoiceField(
        label=_("已收材料"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, materials: list[CaseMaterial], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received"].choices = [(m.requirement_id, m.requirement.name) for m in materials]


class ExtensionRequestForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("延长理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("情形复杂、需要核实的具体情况；将载入延长办理期限通知书"),
    )


class ExtensionDecisionForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("审批结果"), choices=(("approve", _("批准延长 3 个工作日")), ("refuse", _("不批准")))
    )
    reason = forms.CharField(
        label=_("审批意见"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtensionHistoryFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("业务编号 / 企业名称"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=_("审批结果"),
        required=False,
        choices=[
            ("", _("全部结果")),
            (CaseExtension.Status.APPROVED, CaseExtension.Status.APPROVED.label),
            (CaseExtension.Status.REFUSED, CaseExtension.Status.REFUSED.label),
        ],
    )
    date_from = forms.DateField(
        label=_("审批日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("审批日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = _("审批结果“%(value)s”无效。")
