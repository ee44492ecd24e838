"""Filter forms of the migration analysis, the migration list and the watch list.

The period picker: a year, a quarter or a month of a year, or a from–to range (both ends inclusive). The
analysis defaults to the current year; the list to every period.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django import forms
from django.utils import timezone

from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.enterprises.models import EntityType, IndustrySection
from bizreg.tracking.models import MigrationDirection, MoveOutReason, WatchRule, WatchState
from bizreg.tracking.selectors.migrations import MigrationFilters

DATE = forms.DateInput(attrs={"type": "date"})
PERIODS = [("year", "按年"), ("quarter", "按季度"), ("month", "按月"), ("range", "自定义起止")]
QUARTERS = [(str(q), f"第{q}季度") for q in range(1, 5)]
MONTHS = [(str(m), f"{m}月") for m in range(1, 13)]


class MigrationFilterForm(BootstrapMixin, forms.Form):
    period = forms.ChoiceField(label="统计期间", required=False, choices=PERIODS)
    year = forms.IntegerField(label="年份", required=False, min_value=1990, max_value=2100)
    quarter = forms.ChoiceField(label="季度", required=False, choices=[("", "—"), *QUARTERS])
    month = forms.ChoiceField(label="月份", required=False, choices=[("", "—"), *MONTHS])
    date_from = forms.DateField(label="起", required=False, widget=DATE)
    date_to = forms.DateField(label="止", required=False, widget=DATE)
    direction = forms.ChoiceField(
        label="方向", required=False, choices=[("", "迁入和迁出"), *MigrationDirection.choices]
    )
    industry = forms.ChoiceField(
        label="行业门类", required=False, choices=[("", "全部行业"), *IndustrySection.choices]
    )
    entity_type = forms.ChoiceField(
        label="主体类型", required=False, choices=[("", "全部类型"), *EntityType.choices]
    )

    # The analysis always covers a period; the list may cover every period ("all").
    default_period = "year"

    def __init__(self, data=None, *args, today: dt.date | None = None, **kwargs):
        self.today = today or timezone.localdate()
        super().__init__(data if data is not None else {}, *args, **kwargs)
        self.fields["year"].widget.attrs["style"] = "width: 6.5rem"
        if self.default_period == "all":
            self.fields["period"].choices = [("", "全部期间"), *PERIODS]

    def clean(self):
        data = super().clean()
        period = data.get("period") or self.default_period
        data["period"] = period
        year = data.get("year") or self.today.year
        data["year"] = year
        start = end = None
        if period == "year":
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        elif period == "quarter":
            if not data.get("quarter"):
                self.add_error("quarter", "请选择季度。")
            else:
                first = (int(data["quarter"]) - 1) * 3 + 1
                start = dt.date(year, first, 1)
                end = dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])
        elif period == "month":
            if not data.get("month"):
                self.add_error("month", "请选择月份。")
            else:
                month = int(data["month"])
                start = dt.date(year, month, 1)
                end = dt.date(year, month, calendar.monthrange(year, month)[1])
        elif period == "range":
            start, end = data.get("date_from"), data.get("date_to")
            if start is None and end is None:
                self.add_error("date_from", "请填写起止日期。")
            elif start and end and start > end:
                self.add_error("date_to", "结束日期不能早于开始日期。")
            elif self.default_period != "all" and (start is None or end is None):
                self.add_error("date_to" if start else "date_from", "统计分析须同时填写起止日期。")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> MigrationFilters:
        """The cleaned filters (the form must be valid)."""
        data = self.cleaned_data
        return MigrationFilters(
            start=data.get("start"),
            end=data.get("end"),
            direction=data.get("direction") or "",
            industry=data.get("industry") or "",
            entity_type=data.get("entity_type") or "",
            region=data.get("region") or "",
            reason=data.get("reason") or "",
            q=(data.get("q") or "").strip(),
        )

    def period_label(self) -> str:
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if data.get("period") == "year" and start:
            return f"{start.year}年"
        if data.get("period") == "quarter" and start:
            return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
        if data.get("period") == "month" and start:
            return f"{start.year}年{start.month}月"
        if start or end:
            return f"{start or '…'} 至 {end or '…'}"
        return "全部期间"


class MigrationListFilterForm(MigrationFilterForm):
    q = forms.CharField(label="关键词", required=False, max_length=100)
    region = forms.CharField(label="迁出地/迁入地区域", required=False, max_length=50)
    reason = forms.ChoiceField(
        label="迁出原因", required=False, choices=[("", "全部原因"), *MoveOutReason.choices]
    )

    default_period = "all"

    def clean(self):
        data = self.cleaned_data
        if not (self.data.get("period") or "") and self.default_period == "all":
            # No period asked: every period (year/quarter/month fields are ignored).
            data["period"] = ""
            data["start"] = data["end"] = None
            data["year"] = data.get("year")
            return data
        return super().clean()


class WatchFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="企业名称/代码", required=False, max_length=100)
    rule = forms.ChoiceField(label="预警规则", required=False, choices=[("", "全部规则"), *WatchRule.choices])
    # Empty means the open entries (关注中), the list's default; "all" every state.
    state = forms.ChoiceField(
        label="状态", required=False, choices=[*WatchState.choices, ("all", "全部状态")]
    )


class WatchClearForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="解除原因",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：企业已明确留区发展，经走访核实"}),
    )
