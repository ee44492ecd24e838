"""Forms of the information-entry/guidance records and the follow-up pages (they parse input; the rules are
in services.records)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.registration.models import ContactMethod, FollowUpTask, ServiceRecord
from bizreg.registration.selectors import records as selectors
from bizreg.registration.services.records import FOLLOW_UP_STATES, MAX_MINUTES


class ServiceRecordForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """The keyboard-first entry form: enterprise (name or USCC), kind, minutes, optional case and note.

    The enterprise box takes a USCC or the exact registered name; a name not in the register is kept as
    typed (guidance before establishment). An 18-character code that is not registered is an error, not
    a silent free-text name.
    """

    enterprise = forms.CharField(
        label=_("企业名称或统一社会信用代码"),
        max_length=200,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "list": "enterprise-options"}
        ),
    )
    kind = forms.ChoiceField(
        label=_("类型"), choices=ServiceRecord.Kind.choices, widget=forms.RadioSelect, initial="info_entry"
    )
    minutes = forms.IntegerField(
        label=_("用时（分钟）"), min_value=1, max_value=MAX_MINUTES, initial=5, widget=forms.NumberInput()
    )
    case_number = forms.CharField(label=_("业务编号（可选）"), max_length=30, required=False)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["minutes"].error_messages.update(
            {
                "invalid": _("用时应为整数分钟。"),
                "min_value": _("用时至少 1 分钟。"),
                "max_value": _("用时不能超过 %(limit_value)s 分钟。"),
            }
        )
        # Radio buttons are laid out by the template; the Bootstrap mixin's form-control would break them.
        self.fields["kind"].widget.attrs.pop("class", None)

    def clean_case_number(self):
        number = selectors.normalize_case_number(self.cleaned_data.get("case_number"))
        if not number:
            return None
        case = selectors.case_by_number(user=self.user, number=number)
        if case is None:
            raise forms.ValidationError(_("没有找到业务编号为 %(number)s 的业务。") % {"number": number})
        return case

    def clean(self):
        data = super().clean()
        text = (data.get("enterprise") or "").strip()
        data["enterprise_obj"] = None
        if text:
            enterprise = selectors.enterprise_matching(user=self.user, text=text)
            if enterprise is None and selectors.looks_like_uscc(text):
                self.add_error(
                    "enterprise",
                    _("登记簿中没有统一社会信用代码为 %(code)s 的商事主体；尚未登记的企业请填写企业名称。")
                    % {"code": text.upper()},
                )
            data["enterprise_obj"] = enterprise
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "minutes": data["minutes"],
            "enterprise": data.get("enterprise_obj"),
            "enterprise_name": "" if data.get("enterprise_obj") else data["enterprise"],
            "case": data.get("case_number"),
            "note": data.get("note") or "",
        }


class ServiceRecordFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("搜索"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型"))] + list(ServiceRecord.Kind.choices)
    )
    staff = forms.ModelChoiceField(
        label=_("工作人员"), queryset=None, required=False, empty_label=_("全部人员")
    )
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = selectors.staff_choices(user)
        self.fields["staff"].error_messages["invalid_choice"] = _("所选工作人员不存在或不属于本登记机关。")


class DailyCountsForm(BootstrapMixin, forms.Form):
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型"))] + list(ServiceRecord.Kind.choices)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = _("请输入有效日期（YYYY-MM-DD）。")

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        start = data.get("date_from") or today.replace(day=1)
        end = data.get("date_to") or today
        if start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"), code="date_range")
        if (end - start).days >= selectors.MAX_DAILY_SPAN_DAYS:
            raise forms.ValidationError(
                _("统计区间不能超过 %(days)d 天，请缩短区间。") % {"days": selectors.MAX_DAILY_SPAN_DAYS},
                code="span",
            )
        data["date_from"], data["date_to"] = start, end
        return data

    @classmethod
    def default_range(cls) -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        return today.replace(day=1), today


class ContactForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    method = forms.ChoiceField(label=_("联系方式"), choices=ContactMethod.choices)
    result = forms.CharField(label=_("联系结果"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    outcome = forms.CharField(label=_("跟进结果"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """Who follows the task up; empty leaves it unassigned (the next one to log a contact takes it)."""

    assignee = forms.ModelChoiceField(
        label=_("负责人"), queryset=None, required=False, empty_label=_("（未指派）")
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff


class FollowUpFilterForm(BootstrapMixin, forms.Form):
    """The follow-up list's filters; the status is chosen by the tabs above them."""

    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部"))] + list(FollowUpTask.Status.choices),
        widget=forms.HiddenInput,
    )
    q = forms.CharField(label=_("业务编号 / 企业名称"), max_length=100, required=False)
    assignee = forms.ModelChoiceField(
        label=_("负责人"), queryset=None, required=False, empty_label=_("全部负责人")
    )
    reason = forms.ChoiceField(
        label=_("原因"),
        required=False,
        choices=[("", _("全部原因"))] + [(state.value, state.label) for state in FOLLOW_UP_STATES],
    )
    overdue = forms.BooleanField(label=_("只看已逾期"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.staff_choices(user)
        self.fields["assignee"].error_messages["invalid_choice"] = _("所选负责人不存在或不属于本登记机关。")
        self.fields["status"].error_messages["invalid_choice"] = _("跟进状态“%(value)s”无效。")
        self.fields["reason"].error_messages["invalid_choice"] = _("原因“%(value)s”无效。")
