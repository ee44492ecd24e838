"""Forms of the appeal and department pages. They check shape only; services.appeals checks the rules and its
ValidationError lands on the matching field (ServiceErrorsMixin)."""

from __future__ import annotations

from django import forms

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.tracking.models import AppealCategory, AppealState, Satisfaction

DATE = forms.DateInput(attrs={"type": "date"})


class AppealFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    date_range = ("raised_from", "raised_to")

    q = forms.CharField(label="关键词", required=False, max_length=100)
    state = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态"), ("open", "未办结（全部）"), *AppealState.choices],
    )
    category = forms.ChoiceField(
        label="类别", required=False, choices=[("", "全部类别"), *AppealCategory.choices]
    )
    department = forms.ModelChoiceField(
        label="承办部门", required=False, queryset=None, empty_label="全部部门"
    )
    overdue = forms.BooleanField(label="仅看逾期", required=False)
    mine = forms.BooleanField(label="只看本部门", required=False)
    raised_from = forms.DateField(label="登记日期自", required=False, widget=DATE)
    raised_to = forms.DateField(label="至", required=False, widget=DATE)

    def __init__(self, *args, departments=None, show_mine: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        if not show_mine:
            del self.fields["mine"]


class AppealForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    enterprise = forms.CharField(
        label="企业统一社会信用代码",
        max_length=40,
        help_text="填写诉求企业的统一社会信用代码；从走访记录登记时已自动填入。",
    )
    visit = forms.IntegerField(required=False, widget=forms.HiddenInput)
    category = forms.ChoiceField(label="诉求类别", choices=[("", "请选择"), *AppealCategory.choices])
    title = forms.CharField(label="诉求标题", max_length=100)
    description = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 5}), max_length=2000)
    contact_name = forms.CharField(label="联系人", max_length=50)
    contact_phone = forms.CharField(
        label="联系电话", max_length=20, help_text="企业凭诉求编号和该电话的后 4 位在门户查询办理进度。"
    )
    raised_on = forms.DateField(label="登记日期", required=False, widget=DATE, help_text="不填为今天。")


class RouteForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    department = forms.ModelChoiceField(label="承办部门", queryset=None, empty_label="请选择")
    due_on = forms.DateField(
        label="办理期限",
        required=False,
        widget=DATE,
        help_text="不填则按该部门的默认办理时限（工作日）计算。",
    )
    reason = forms.CharField(label="转办说明", required=False, max_length=300)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class AnswerForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    feedback = forms.CharField(
        label="办理反馈",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text="企业可在门户看到本反馈内容。",
    )


class ReasonForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    reason = forms.CharField(label="理由", max_length=300)

    def __init__(self, *args, label: str = "理由", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].error_messages["required"] = f"请填写{label}。"


class CloseForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    # Not required here: the service decides (the department's answer may already be there).
    feedback = forms.CharField(
        label="办理反馈（办结说明）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="承办部门未反馈或需补充时填写；企业可在门户看到。",
    )
    satisfaction = forms.TypedChoiceField(
        label="企业满意度", coerce=int, choices=[("", "请选择"), *Satisfaction.choices]
    )
    comment = forms.CharField(label="满意度说明", required=False, max_length=300)


class DepartmentForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    name = forms.CharField(label="部门名称", max_length=100)
    default_days = forms.IntegerField(label="默认办理时限（工作日）", min_value=1, max_value=180, initial=10)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)
    members = forms.ModelMultipleChoiceField(
        label="部门人员",
        required=False,
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="可答复转办本部门诉求的人员（需具有业务部门人员角色）。",
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = candidates


class DepartmentFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="部门名称", required=False, max_length=50)
    active = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), ("1", "启用"), ("0", "停用")]
    )
