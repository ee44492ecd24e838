"""Forms of the register pages. They parse input; the rules of an entry are checked by the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from bizreg.core.masking import mask_id_number
from bizreg.core.money import wan_to_yuan, yuan_to_wan
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseStatus,
    EntityType,
    FtzAddressRule,
    IndustrySection,
)
from bizreg.enterprises.services import CONFIRM_EXCEPTION_PERM, streets_for_authority

FTZ_OVERRIDE_CHOICES = (
    ("", _("按地址规则自动判定")),
    ("1", _("人工认定：属于自贸区")),
    ("0", _("人工认定：不属于自贸区")),
)


class BootstrapMixin:
    """Bootstrap 5 classes on every widget, and "请填写<label>" rather than a generic required message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            choose = isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
            message = _("请选择%(label)s。") if choose else _("请填写%(label)s。")
            field.error_messages["required"] = message % {"label": field.label}
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                # RadioSelect covers CheckboxSelectMultiple: the class lands on each option's input.
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class ServiceErrorsMixin:
    """Puts a service's ValidationError on the matching fields (the rest above the form)."""

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            target = name if name in self.fields else None
            for error in errors:
                message = error.message % error.params if error.params else error.message
                self.add_error(target if target != NON_FIELD_ERRORS else None, message)


class EnterpriseForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=40)
    name = forms.CharField(label=_("名称"), max_length=200)
    entity_type = forms.ChoiceField(label=_("主体类型"), choices=EntityType.choices)
    legal_rep_name = forms.CharField(label=_("法定代表人/负责人"), max_length=50)
    legal_rep_id_number = forms.CharField(label=_("法定代表人身份证号"), max_length=30)
    registered_capital = forms.DecimalField(
        label=_("注册资本（万元）"), required=False, max_digits=18, decimal_places=6, min_value=Decimal("0")
    )
    established_on = forms.DateField(label=_("成立日期"), widget=forms.DateInput(attrs={"type": "date"}))
    industry = forms.ChoiceField(label=_("行业门类"), choices=IndustrySection.choices)
    street = forms.ModelChoiceField(label=_("街道/镇"), queryset=None)
    address = forms.CharField(label=_("住所"), max_length=300)
    business_scope = forms.CharField(
        label=_("经营范围"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    status = forms.ChoiceField(
        label=_("登记状态"), choices=EnterpriseStatus.choices, initial=EnterpriseStatus.ACTIVE
    )
    status_changed_on = forms.DateField(
        label=_("状态变更日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("状态改变时默认为今天"),
    )
    ftz_override = forms.ChoiceField(label=_("自贸区认定"), choices=FTZ_OVERRIDE_CHOICES, required=False)
    ftz_override_reason = forms.CharField(label=_("人工认定理由"), max_length=200, required=False)
    uscc_exception_reason = forms.CharField(
        label=_("校验例外确认理由"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=(
            _("仅当代码只有第 18 位校验码不符、且确为早期试点地区合法核发时填写；填写即由您确认登记例外。")
        ),
    )

    def __init__(self, *args, authority, user, instance: Enterprise | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "uscc": instance.uscc,
                "name": instance.name,
                "entity_type": instance.entity_type,
                "legal_rep_name": instance.legal_rep_name,
                "registered_capital": (
                    yuan_to_wan(instance.registered_capital, Decimal("0.000001"))
                    if instance.registered_capital is not None
                    else None
                ),
                "established_on": instance.established_on,
                "industry": instance.industry,
                "street": instance.street_id,
                "address": instance.address,
                "business_scope": instance.business_scope,
                "status": instance.status,
                "status_changed_on": instance.status_changed_on,
                "ftz_override": ""
                if instance.ftz_override is None
                else ("1" if instance.ftz_override else "0"),
                "ftz_override_reason": instance.ftz_override_reason,
            }
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets_for_authority(authority)
        self.fields["street"].empty_label = _("请选择")
        if not user.has_perm(CONFIRM_EXCEPTION_PERM):
            del self.fields["uscc_exception_reason"]
        if instance is not None:
            field = self.fields["legal_rep_id_number"]
            field.required = False
            field.help_text = _("当前：%(masked)s；不修改请留空") % {
                "masked": mask_id_number(instance.legal_rep_id_number)
            }

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        capital = data.pop("registered_capital")
        data["registered_capital"] = wan_to_yuan(capital) if capital is not None else None
        override = data.pop("ftz_override")
        data["ftz_override"] = None if override in ("", None) else override == "1"
        if self.instance is not None:
            if not data.get("legal_rep_id_number"):
                data.pop("legal_rep_id_number", None)
            if not data.get("status_changed_on"):
                data.pop("status_changed_on", None)
        data.setdefault("uscc_exception_reason", "")
        return data


class LockForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("锁定原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    case_reference = forms.CharField(
        label=_("关联案件编号"),
        max_length=100,
        required=False,
        help_text=_("如冒用身份案件编号；锁定期间只有该案件的业务可以办理"),
    )


class UnlockForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("解锁原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class UsccExceptionForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=40)
    reason = forms.CharField(
        label=_("确认理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如核发机关、核发年份、试点地区文件依据"),
    )


class FtzRuleForm(BootstrapMixin, ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = FtzAddressRule
        fields = ["area_name", "address_keyword", "street", "priority", "is_active", "note"]

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.authority = authority
        self.fields["street"].queryset = streets_for_authority(authority)
        self.fields["street"].empty_label = _("不限")


class ImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))
    good_rows_only = forms.BooleanField(
        label=_("仅导入正确的行"),
        required=False,
        help_text=_("默认整份文件全部正确才导入；勾选后导入正确的行，其余行列入错误报告。"),
    )
