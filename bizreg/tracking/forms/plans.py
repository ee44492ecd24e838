"""Forms of the plan pages. They check shape only; the services check the rules and their ValidationError
lands on the matching field (ServiceErrorsMixin)."""

from __future__ import annotations

from django import forms

from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.tracking.models import PlanReason, PlanState
from bizreg.tracking.selectors.plans import DUE_FILTERS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="企业名称/统一社会信用代码", required=False, max_length=100)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *PlanState.choices])
    reason = forms.ChoiceField(
        label="计划来源", required=False, choices=[("", "全部来源"), *PlanReason.choices]
    )
    officer = forms.ChoiceField(label="走访专员", required=False)
    due = forms.ChoiceField(label="期限", required=False, choices=[("", "全部"), *DUE_FILTERS.items()])

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = [
            ("", "全部专员"),
            ("me", "分派给我的"),
            ("none", "未分派"),
            *((str(user.pk), str(user)) for user in officers),
        ]


class PlanAssignForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    officer = forms.ModelChoiceField(label="走访专员", queryset=None, empty_label="请选择")
    due_on = forms.DateField(label="走访期限", required=False, widget=DATE, help_text="不填则保留原期限")

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers


class PlanCancelForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label="取消原因", max_length=300, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class PlanAddForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    enterprise = forms.CharField(label="企业", max_length=40, help_text="统一社会信用代码", required=False)
    note = forms.CharField(label="走访事由", max_length=290, required=False)
    due_on = forms.DateField(label="走访期限", widget=DATE, required=False)
    officer = forms.ModelChoiceField(label="走访专员", queryset=None, required=False, empty_label="暂不分派")

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers


class PlanRuleForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    """One rule's row on the rules page (prefixed by its reason)."""

    enabled = forms.BooleanField(label="启用", required=False)
    window_days = forms.IntegerField(label="统计窗口（天）", required=False)
    threshold = forms.DecimalField(label="阈值", required=False, max_digits=10, decimal_places=2)
    due_days = forms.IntegerField(label="走访期限（天）", required=False)
    note = forms.CharField(label="说明", required=False, max_length=200)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "enabled": data["enabled"],
            "window_days": data["window_days"] if data["window_days"] is not None else "",
            "threshold": data["threshold"] if data["threshold"] is not None else "0",
            "due_days": data["due_days"] if data["due_days"] is not None else "",
            "note": data["note"],
        }
