"""Forms of the indicator pages: shape and parse only; the rules live in services.indicators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.core.metrics_registry import all_metrics
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.performance.models import AdjustmentStatus, Direction, Indicator, Level1, Level2, QualitativeTier

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def metric_choices() -> list[tuple[str, str]]:
    return [("", _("（无：手工填报实际值＋佐证材料）"))] + [
        (m.key, f"{m.label}（{m.key}，{m.unit}）") for m in all_metrics()
    ]


class IndicatorForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=_("指标编号"), max_length=20)
    order = forms.IntegerField(label=_("序号"), min_value=0, required=False, initial=0)
    level1 = forms.ChoiceField(label=_("一级指标"), choices=[("", "—")] + Level1.choices)
    level2 = forms.ChoiceField(
        label=_("二级指标"),
        choices=[("", "—")] + Level2.choices,
        help_text=_("产出：数量/质量/时效/成本；效益：经济/社会/生态/可持续影响；满意度：服务对象满意度"),
    )
    name = forms.CharField(label=_("三级指标"), max_length=200)
    unit = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    direction = forms.ChoiceField(label=_("指标方向"), choices=Direction.choices)
    target_value = forms.DecimalField(
        label=_("年度指标值（数值）"),
        max_digits=16,
        decimal_places=4,
        required=False,
        help_text=_("定量指标必填。“≥”“≤”方向的目标不能为 0（无法按完成比例计分）；目标确为 0 时选“=”。"),
    )
    target_text = forms.CharField(
        label=_("年度指标值（定性）"),
        max_length=50,
        required=False,
        help_text=_("定性指标必填，如“有效”“满意”"),
    )
    weight = forms.DecimalField(label=_("分值"), max_digits=5, decimal_places=2)
    metric_key = forms.ChoiceField(label=_("数据来源指标键"), required=False)
    data_source = forms.CharField(label=_("数据来源说明"), max_length=200, required=False)
    manual_value = forms.DecimalField(
        label=_("实际完成值（手工）"), max_digits=16, decimal_places=4, required=False
    )
    manual_text = forms.CharField(label=_("实际完成情况（定性）"), max_length=100, required=False)
    evidence = forms.FileField(label=_("佐证材料"), required=False)
    evidence_note = forms.CharField(label=_("佐证说明"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = metric_choices()
        current = self.initial.get("metric_key") or ""
        if current and current not in dict(choices):
            # A catalog key whose module is not built yet stays selectable on edit (the lint notes it).
            choices.append((current, _("%(key)s（模块尚未发布）") % {"key": current}))
        self.fields["metric_key"].choices = choices
        # A blank weight should reach the service as "missing", not as the form's generic message.
        self.fields["weight"].error_messages["invalid"] = _("分值须为数字。")
        self.fields["target_value"].error_messages["invalid"] = _("年度指标值须为数字。")

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "evidence"}
        data["order"] = data.get("order") or 0
        return data

    @classmethod
    def initial_from(cls, indicator: Indicator) -> dict:
        return {f: getattr(indicator, f) for f in cls.base_fields if f != "evidence"}


class AdjustmentForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    new_target_value = forms.DecimalField(
        label=_("调整后年度指标值"), max_digits=16, decimal_places=4, required=False
    )
    new_target_text = forms.CharField(label=_("调整后年度指标值（定性）"), max_length=50, required=False)
    new_weight = forms.DecimalField(label=_("调整后分值"), max_digits=5, decimal_places=2, required=False)
    counterpart = forms.ModelChoiceField(
        label=_("分值调出/调入指标"),
        queryset=Indicator.objects.none(),
        required=False,
        help_text=_("调整分值时必选：该指标承接分值差额，使权重合计仍为 100。"),
    )
    reason = forms.CharField(label=_("调整理由"), widget=forms.Textarea(attrs={"rows": 3}))
    suggested_by_monitoring = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.fields["counterpart"].queryset = indicator.project.indicators.exclude(pk=indicator.pk).order_by(
            "order", "code"
        )
        if indicator.is_qualitative:
            del self.fields["new_target_value"]
        else:
            del self.fields["new_target_text"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "new_target_value": data.get("new_target_value"),
            "new_target_text": data.get("new_target_text") or "",
            "new_weight": data.get("new_weight"),
            "counterpart": data.get("counterpart"),
            "reason": data.get("reason", ""),
            "suggested_by_monitoring": bool(data.get("suggested_by_monitoring")),
        }


class DecisionForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    action = forms.ChoiceField(
        label=_("操作"), choices=[("approve", _("批准")), ("reject", _("驳回")), ("withdraw", _("撤回"))]
    )
    reason = forms.CharField(label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AdjustmentFilterForm(BootstrapMixin, forms.Form):
    project = forms.ModelChoiceField(label=_("项目"), queryset=None, required=False, empty_label=_("全部"))
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + AdjustmentStatus.choices
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects


class EvaluateForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    tier = forms.ChoiceField(
        label=_("定性评价档次"), choices=[("", "—")] + QualitativeTier.choices, required=False
    )
    percent = forms.DecimalField(
        label=_("得分比例（%）"),
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("达成 80–100，部分达成 60–80，未达成 0–60"),
    )
    reason = forms.CharField(label=_("评价理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    deviation_note = forms.CharField(
        label=_("偏差原因分析及改进措施"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        if not indicator.is_qualitative:
            for name in ("tier", "percent", "reason"):
                del self.fields[name]


PERIOD_CHOICES = (
    ("ytd", _("年初至今")),
    ("year", _("全年")),
    ("month", _("月份")),
    ("quarter", _("季度")),
    ("custom", _("自定义")),
)


class PeriodForm(BootstrapMixin, forms.Form):
    """The period of a measurement: month, quarter, year-to-date, the whole year or a custom range."""

    period = forms.ChoiceField(label=_("统计期"), choices=PERIOD_CHOICES, required=False)
    month = forms.IntegerField(label=_("月份"), min_value=1, max_value=12, required=False)
    quarter = forms.IntegerField(label=_("季度"), min_value=1, max_value=4, required=False)
    date_from = forms.DateField(label=_("起"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("止（含）"), required=False, widget=DATE)

    def __init__(self, *args, project, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.today = today

    def clean(self):
        data = super().clean()
        period = data.get("period") or "ytd"
        if period == "month" and not data.get("month"):
            self.add_error("month", _("请选择月份。"))
        if period == "quarter" and not data.get("quarter"):
            self.add_error("quarter", _("请选择季度。"))
        if period == "custom":
            start, end = data.get("date_from"), data.get("date_to")
            if not start or not end:
                raise forms.ValidationError(_("自定义统计期须填写起止日期。"))
            if start > end:
                raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return data

    def bounds(self) -> tuple[dt.date, dt.date]:
        """[start, end) of the chosen period (the year-to-date when the form is invalid or empty)."""
        p = self.project
        year = p.period_start.year
        year_end = p.period_end + dt.timedelta(days=1)
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = data.get("period") or "ytd"
        if period == "year":
            return p.period_start, year_end
        if period == "month":
            start = dt.date(year, data["month"], 1)
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return start, end
        if period == "quarter":
            start = dt.date(year, 3 * data["quarter"] - 2, 1)
            end = (
                dt.date(year + 1, 1, 1) if data["quarter"] == 4 else dt.date(year, 3 * data["quarter"] + 1, 1)
            )
            return start, end
        if period == "custom":
            return data["date_from"], data["date_to"] + dt.timedelta(days=1)
        # Year to date includes today; before the year starts it is the first day, after it the year.
        end = min(max(self.today, p.period_start) + dt.timedelta(days=1), year_end)
        return p.period_start, end


def decimal_or_none(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text not in (None, "") else None
    except ArithmeticError:
        return None
