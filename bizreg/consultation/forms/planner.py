"""Forms of the hotline dashboard (the period) and the capacity planner (measured or typed arrivals, holding
times, targets). They parse input; the formulas are in consultation.erlang."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizreg.consultation.selectors import metrics as selectors
from bizreg.enterprises.forms import BootstrapMixin

DEFAULT_DAYS = 30
MAX_HOLDING_SECONDS = 7200
MAX_LINES = 500
MAX_ARRIVALS_PER_HOUR = 100_000
_SEPARATORS = re.compile(r"[\s,，;；、]+")


def _date_field(label):
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


class _PeriodMixin:
    """date_from/date_to, inclusive; by default the last DEFAULT_DAYS days up to today, and a missing end
    DEFAULT_DAYS from the other."""

    def _init_period(self) -> None:
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = _("请输入有效日期（YYYY-MM-DD）。")

    @staticmethod
    def default_period() -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        return today - dt.timedelta(days=DEFAULT_DAYS - 1), today

    def _clean_period(self, data: dict) -> None:
        default_first, default_last = self.default_period()
        first = data.get("date_from")
        last = data.get("date_to")
        if first is None and last is None:
            first, last = default_first, default_last
        elif first is None:
            first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
        elif last is None:
            last = max(first, min(first + dt.timedelta(days=DEFAULT_DAYS - 1), default_last))
        try:
            selectors.check_period(first, last)
        except selectors.PeriodError as exc:
            raise forms.ValidationError(str(exc), code="period") from None
        data["date_from"], data["date_to"] = first, last


class DashboardForm(_PeriodMixin, BootstrapMixin, forms.Form):
    date_from = _date_field(_("起始日期"))
    date_to = _date_field(_("截止日期"))
    hotline = forms.ModelChoiceField(
        label=_("热线"), queryset=None, required=False, empty_label=_("全部热线")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_period()
        self.fields["hotline"].queryset = selectors.hotlines_for(user)
        self.fields["hotline"].error_messages["invalid_choice"] = _("所选热线不存在或不属于您的登记机关。")

    def clean(self):
        data = super().clean()
        if not self.errors:
            self._clean_period(data)
        return data

    def period(self) -> tuple[dt.date, dt.date, object]:
        """(first, last, hotline) of a valid form, else the default period over every hotline."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"], self.cleaned_data["hotline"]
        first, last = self.default_period()
        return first, last, None


def parse_hourly_arrivals(text: str) -> list[float]:
    """24 numbers (calls per hour for 0:00–1:00 … 23:00–24:00), separated by spaces, commas or new lines."""
    values = [part for part in _SEPARATORS.split(text.strip()) if part]
    if len(values) != 24:
        raise forms.ValidationError(
            _("请填写 24 个数（0 时至 23 时每小时的来电量），现在是 %(count)d 个。"),
            params={"count": len(values)},
            code="count",
        )
    numbers: list[float] = []
    for hour, value in enumerate(values):
        try:
            number = float(value)
        except ValueError:
            raise forms.ValidationError(
                _("%(hour)d 时的来电量“%(value)s”不是数字。"),
                params={"hour": hour, "value": value[:20]},
                code="number",
            ) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise forms.ValidationError(_("%(hour)d 时的来电量不是有限的数。"), params={"hour": hour})
        if number < 0:
            raise forms.ValidationError(
                _("%(hour)d 时的来电量不能为负数。"), params={"hour": hour}, code="negative"
            )
        if number > MAX_ARRIVALS_PER_HOUR:
            raise forms.ValidationError(
                _("%(hour)d 时的来电量超过每小时 %(max)s 个，请检查输入。"),
                params={"hour": hour, "max": f"{MAX_ARRIVALS_PER_HOUR:,}"},
                code="too_many",
            )
        numbers.append(number)
    return numbers


class CapacityPlannerForm(_PeriodMixin, BootstrapMixin, forms.Form):
    """Every field is optional: left empty, arrivals and holding times are measured from the calls of the
    period and the current lines are the hotline's active lines."""

    hotline = forms.ModelChoiceField(
        label=_("热线"), queryset=None, required=False, empty_label=_("全部热线")
    )
    date_from = _date_field(_("测算起始日期"))
    date_to = _date_field(_("测算截止日期"))
    arrivals = forms.CharField(
        label=_("每小时来电量（24 个数，留空则按实测）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "0 0 0 0 0 0 0 0 12 30 35 28 10 20 32 30 25 8 0 0 0 0 0 0"}
        ),
    )
    line_holding_seconds = forms.DecimalField(
        label=_("每通占线时长（秒，通话+保持，留空按实测）"),
        required=False,
        min_value=Decimal("1"),
        max_value=MAX_HOLDING_SECONDS,
        decimal_places=1,
    )
    aht_seconds = forms.DecimalField(
        label=_("平均处理时长 AHT（秒，含话后处理，留空按实测）"),
        required=False,
        min_value=Decimal("1"),
        max_value=MAX_HOLDING_SECONDS,
        decimal_places=1,
    )
    lines = forms.IntegerField(
        label=_("现有线路数（留空按热线启用的分线）"), required=False, min_value=1, max_value=MAX_LINES
    )
    agents = forms.IntegerField(
        label=_("当班坐席数（排队测算，留空同线路数）"), required=False, min_value=1, max_value=MAX_LINES
    )
    target_answer_rate = forms.DecimalField(
        label=_("目标接听率（%）"),
        initial=Decimal(99),
        min_value=Decimal("0.1"),
        max_value=Decimal("99.99"),
        decimal_places=2,
        required=False,
    )
    target_service_level = forms.DecimalField(
        label=_("目标服务水平（%）"),
        initial=Decimal(80),
        min_value=Decimal("0.1"),
        max_value=Decimal("99.99"),
        decimal_places=2,
        required=False,
    )
    answer_within_seconds = forms.IntegerField(
        label=_("服务水平时限（秒）"), initial=20, min_value=0, max_value=600, required=False
    )
    simulate = forms.BooleanField(label=_("同时运行仿真校验"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_period()
        self.fields["hotline"].queryset = selectors.hotlines_for(user)
        self.fields["hotline"].error_messages["invalid_choice"] = _("所选热线不存在或不属于您的登记机关。")
        messages = {
            "line_holding_seconds": _("每通占线时长"),
            "aht_seconds": _("平均处理时长"),
            "lines": _("线路数"),
            "agents": _("坐席数"),
            "target_answer_rate": _("目标接听率"),
            "target_service_level": _("目标服务水平"),
            "answer_within_seconds": _("服务水平时限"),
        }
        for name, label in messages.items():
            field = self.fields[name]
            field.error_messages.update(
                {
                    "invalid": _("%(label)s必须是数字。") % {"label": label},
                    "min_value": _("%(label)s不能小于 %%(limit_value)s。") % {"label": label},
                    "max_value": _("%(label)s不能大于 %%(limit_value)s。") % {"label": label},
                    "max_decimal_places": _("%(label)s最多保留 %%(max)s 位小数。") % {"label": label},
                    "max_digits": _("%(label)s位数过多。") % {"label": label},
                    "max_whole_digits": _("%(label)s位数过多。") % {"label": label},
                }
            )
        # A bound form shows no initial values: the placeholders say what an empty field stands for.
        for name, placeholder in (
            ("target_answer_rate", "99"),
            ("target_service_level", "80"),
            ("answer_within_seconds", _("热线设定，默认 20")),
            ("lines", _("启用分线数，默认 5")),
            ("agents", _("同线路数")),
            ("line_holding_seconds", _("实测")),
            ("aht_seconds", _("实测")),
        ):
            self.fields[name].widget.attrs.setdefault("placeholder", placeholder)
        self.fields["target_answer_rate"].error_messages["max_value"] = _(
            "目标接听率不能为 100%%：只要有来电，有限的线路总有被占满的可能；最高可填 99.99%%。"
        )

    def clean_arrivals(self):
        text = self.cleaned_data.get("arrivals") or ""
        return parse_hourly_arrivals(text) if text.strip() else None

    def clean(self):
        data = super().clean()
        if "date_from" not in self.errors and "date_to" not in self.errors:
            try:
                self._clean_period(data)
            except forms.ValidationError as exc:
                self.add_error("date_to", exc)
        if data.get("target_answer_rate") is None:
            data["target_answer_rate"] = self.fields["target_answer_rate"].initial
        if data.get("target_service_level") is None:
            data["target_service_level"] = self.fields["target_service_level"].initial
        return data
