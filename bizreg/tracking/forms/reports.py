"""Forms of the periodic-report pages; services.reports checks the period rules."""

from __future__ import annotations

from django import forms

from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.tracking.models import ReportPeriod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReportFilterForm(BootstrapMixin, forms.Form):
    period = forms.ChoiceField(
        label="报告类型", required=False, choices=[("", "全部"), *ReportPeriod.choices]
    )
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    q = forms.CharField(label="报告编号", required=False, max_length=50)


class ReportGenerateForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    period = forms.ChoiceField(label="报告类型", choices=ReportPeriod.choices)
    period_start = forms.DateField(
        label="期间开始日期",
        widget=DATE,
        help_text="月报为当月 1 日；季报为 1 月、4 月、7 月或 10 月 1 日",
    )
