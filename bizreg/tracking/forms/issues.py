"""Forms of the business-environment issue pages. They check shape only; services.issues checks the rules
and its ValidationError lands on the matching field (ServiceErrorsMixin)."""

from __future__ import annotations

import re

from django import forms

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.tracking.models import AppealCategory, IssueState

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBERS_HELP = "可填多个编号，用空格、逗号或换行分隔；须为本机关的记录"


def split_numbers(value: str) -> list[str]:
    return [part for part in re.split(r"[\s,，、；;]+", value or "") if part]


class IssueFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    date_range = ("found_from", "found_to")

    q = forms.CharField(label="关键词", required=False, max_length=100)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *IssueState.choices])
    category = forms.ChoiceField(
        label="类别", required=False, choices=[("", "全部类别"), *AppealCategory.choices]
    )
    owner = forms.ChoiceField(label="责任人", required=False)
    found_from = forms.DateField(label="发现日期自", required=False, widget=DATE)
    found_to = forms.DateField(label="至", required=False, widget=DATE)
    overdue = forms.BooleanField(label="有超期措施", required=False)

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", "全部责任人"),
            ("me", "我负责的"),
            *((str(u.pk), str(u)) for u in owners),
        ]


class IssueForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    title = forms.CharField(label="问题", max_length=200)
    category = forms.ChoiceField(label="类别", choices=AppealCategory.choices)
    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ModelChoiceField(label="责任人", queryset=None)
    found_on = forms.DateField(label="发现日期", widget=DATE)
    appeals = forms.CharField(
        label="相关诉求编号", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=NUMBERS_HELP
    )
    visits = forms.CharField(
        label="相关走访编号", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=NUMBERS_HELP
    )

    def __init__(self, *args, owners, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        if editing:
            del self.fields["found_on"]

    def numbers(self) -> tuple[list[str], list[str]]:
        return split_numbers(self.cleaned_data["appeals"]), split_numbers(self.cleaned_data["visits"])


class AnalysisForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    analysis = forms.CharField(label="原因分析", widget=forms.Textarea(attrs={"rows": 5}))


class MeasureForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    description = forms.CharField(label="改进措施", widget=forms.Textarea(attrs={"rows": 3}))
    owner_department = forms.ModelChoiceField(label="责任部门", queryset=None, required=False)
    due_on = forms.DateField(label="完成期限", widget=DATE)

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_department"].queryset = departments
        self.fields["owner_department"].empty_label = "（本机关）"


class DateForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    """The day a measure was done or the issue resolved (today when left empty)."""

    day = forms.DateField(label="日期", required=False, widget=DATE, help_text="不填为今天")

    def __init__(self, *args, label: str = "日期", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].label = label


class ReasonForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    reason = forms.CharField(label="原因", max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
