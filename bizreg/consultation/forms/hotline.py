"""Forms of the hotline set-up pages (they parse input; the rules are in services.hotline)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizreg.consultation.selectors import hotline as selectors
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HotlineForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    number = forms.CharField(
        label=_("热线号码"), max_length=20, widget=forms.TextInput(attrs={"autofocus": True})
    )
    name = forms.CharField(label=_("名称"), max_length=100)
    service_level_seconds = forms.IntegerField(
        label=_("服务水平时限（秒）"), min_value=1, max_value=600, initial=20
    )
    is_active = forms.BooleanField(label=_("启用"), required=False)
    reason = forms.CharField(label=_("修改说明"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_level_seconds"].error_messages.update(
            {
                "invalid": _("服务水平时限应为整数秒。"),
                "min_value": _("服务水平时限至少 1 秒。"),
                "max_value": _("服务水平时限不能超过 600 秒。"),
            }
        )


class LineForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    label = forms.CharField(
        label=_("分线名称"), max_length=50, widget=forms.TextInput(attrs={"autofocus": True})
    )
    pbx_channel = forms.CharField(
        label=_("PBX 通道名"),
        max_length=100,
        help_text=_("话单中该分线的通道名，如 SIP/line1、sofia/internal/8001。"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    reason = forms.CharField(label=_("修改说明"), max_length=100, required=False)


class LineReorderForm(forms.Form):
    """The whole ringing order at once: `order` = line ids, first rings first (comma list or repeated)."""

    order = forms.CharField()

    def clean_order(self) -> list[int]:
        raw = self.data.getlist("order") if hasattr(self.data, "getlist") else [self.cleaned_data["order"]]
        parts = [p.strip() for item in raw for p in str(item).split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("分线顺序无效。"))
        return [int(p) for p in parts]


class AgentForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    user = forms.ModelChoiceField(label=_("工作人员"), queryset=None, empty_label=_("请选择"))
    pbx_code = forms.CharField(
        label=_("PBX 坐席标识"),
        max_length=100,
        help_text=_("队列日志中的坐席名，如 Agent/1001 或 SIP/1001。"),
    )
    extension = forms.CharField(label=_("分机号"), max_length=20, required=False)
    is_active = forms.BooleanField(label=_("在岗"), required=False, initial=True)

    def __init__(self, *args, user, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["user"]
        else:
            self.fields["user"].queryset = selectors.agent_user_choices(user=user)
            self.fields["user"].error_messages["invalid_choice"] = _(
                "所选工作人员不存在、不属于本登记机关或已是坐席。"
            )


class AgentFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("搜索"), max_length=100, required=False)
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), ("1", _("在岗")), ("0", _("停用"))]
    )


class ShiftForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    agent = forms.ModelChoiceField(label=_("坐席"), queryset=None, empty_label=_("请选择"))
    starts_at = forms.DateTimeField(label=_("开始"), widget=_datetime_widget())
    ends_at = forms.DateTimeField(label=_("结束"), widget=_datetime_widget())
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Editing may keep an agent who has since been switched off; the service refuses new shifts for them.
        self.fields["agent"].queryset = selectors.agents_visible_to(user).order_by("-is_active", "pbx_code")
        self.fields["agent"].error_messages["invalid_choice"] = _("所选坐席不存在或不属于本登记机关。")
        for name in ("starts_at", "ends_at"):
            self.fields[name].error_messages["invalid"] = _("请输入有效的日期时间（YYYY-MM-DD HH:MM）。")


class ShiftFilterForm(BootstrapMixin, forms.Form):
    week = forms.DateField(label=_("周（任一天）"), required=False, widget=_date_widget())
    agent = forms.ModelChoiceField(label=_("坐席"), queryset=None, required=False, empty_label=_("全部坐席"))
    q = forms.CharField(label=_("搜索"), max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = selectors.agents_visible_to(user).order_by("pbx_code")
        self.fields["agent"].error_messages["invalid_choice"] = _("所选坐席不存在或不属于本登记机关。")
        self.fields["week"].error_messages["invalid"] = _("请输入有效日期（YYYY-MM-DD）。")

    def week_start(self) -> dt.date:
        day = self.cleaned_data.get("week") if self.is_valid() else None
        return selectors.week_start(day or timezone.localdate())
