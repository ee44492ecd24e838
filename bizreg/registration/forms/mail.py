"""Forms of the mail pages. They parse input; courier formats and links are checked by the services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.registration.models import Courier, MailPackage
from bizreg.registration.services.mail import PURPOSES_BY_DIRECTION, validate_tracking_number


class TrackingNumberMixin:
    """Checks the number against the courier's format with the form's other fields, so every error of a
    submission shows at once (the service checks it again)."""

    def clean(self):
        data = super().clean()
        courier, number = data.get("courier"), data.get("tracking_number")
        if courier and number:
            try:
                data["tracking_number"] = validate_tracking_number(courier, number)
            except ValidationError as exc:
                for message in exc.message_dict.get("tracking_number", []):
                    self.add_error("tracking_number", message)
        return data


class PackageForm(TrackingNumberMixin, BootstrapMixin, ServiceErrorsMixin, forms.Form):
    courier = forms.ChoiceField(label=_("快递公司"), choices=[("", "—")] + Courier.choices)
    tracking_number = forms.CharField(label=_("快递单号"), max_length=60)
    enterprise_name = forms.CharField(label=_("寄件企业名称"), required=False, max_length=200)
    uscc = forms.CharField(
        label=_("统一社会信用代码"), required=False, max_length=30, help_text=_("已在册的企业填写后自动关联")
    )
    documents = forms.CharField(
        label=_("邮寄文件清单"), widget=forms.Textarea(attrs={"rows": 5}), help_text=_("每行一个文件")
    )
    case_number = forms.CharField(label=_("关联业务编号"), required=False, max_length=30)
    address = forms.CharField(label=_("寄件地址"), required=False, max_length=200)
    note = forms.CharField(label=_("备注"), required=False, max_length=300)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_case_number(self):
        """The case (of the user's authorities) the number names, or None when left empty."""
        from bizreg.registration.selectors.mail import case_by_number

        number = (self.cleaned_data.get("case_number") or "").strip()
        if not number:
            return None
        case = case_by_number(user=self.user, number=number)
        if case is None:
            raise forms.ValidationError(_("没有找到业务编号为“%(number)s”的业务。") % {"number": number})
        return case


class LinkCaseForm(BootstrapMixin, forms.Form):
    case_number = forms.CharField(label=_("业务编号"), max_length=30)


class HandoverForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    to_user = forms.ModelChoiceField(label=_("接收人"), queryset=None)
    purpose = forms.ChoiceField(label=_("交接事由"))

    def __init__(self, *args, recipients, direction: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = recipients
        self.fields["to_user"].error_messages["invalid_choice"] = _("请选择本机关的在岗人员。")
        self.fields["purpose"].choices = [("", "—")] + [(p, _(p)) for p in PURPOSES_BY_DIRECTION[direction]]


class OutboundForm(TrackingNumberMixin, BootstrapMixin, ServiceErrorsMixin, forms.Form):
    courier = forms.ChoiceField(label=_("快递公司"), choices=[("", "—")] + Courier.choices)
    tracking_number = forms.CharField(label=_("快递单号"), max_length=60)
    address = forms.CharField(label=_("收件地址"), max_length=200)
    documents = forms.CharField(
        label=_("寄出文件清单"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不填则按已打印的营业执照自动生成"),
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=300)


class MailFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("快递单号 / 企业名称 / 业务编号"), required=False, max_length=100)
    direction = forms.ChoiceField(
        label=_("方向"), required=False, choices=[("", _("全部"))] + MailPackage.Direction.choices
    )
    courier = forms.ChoiceField(
        label=_("快递公司"), required=False, choices=[("", _("全部"))] + Courier.choices
    )
    linked = forms.ChoiceField(
        label=_("关联业务"),
        required=False,
        choices=[("", _("全部")), ("yes", _("已关联")), ("no", _("未关联"))],
    )
    date_from = forms.DateField(
        label=_("登记日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
