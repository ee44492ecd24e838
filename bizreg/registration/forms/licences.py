"""Forms of the licence-stock pages. They parse input; the stock rules are checked by the services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.registration.models import LicenceKind, LicenceSheet


class BatchForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("执照类型"), choices=[("", "—")] + LicenceKind.choices)
    prefix = forms.CharField(
        label=_("编号前缀"), required=False, max_length=10, help_text=_("印在执照纸编号前的字母，没有可不填")
    )
    serial_start = forms.IntegerField(label=_("起始编号"), min_value=1)
    serial_end = forms.IntegerField(label=_("终止编号"), min_value=1)
    unit_cost = forms.DecimalField(label=_("单价（元）"), min_value=0, max_digits=10, decimal_places=2)
    received_on = forms.DateField(
        label=_("入库日期"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    supplier = forms.CharField(label=_("供应商"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("serial_start", "serial_end"):
            self.fields[name].error_messages["invalid"] = _("%(label)s应为整数。") % {
                "label": self.fields[name].label
            }
        self.fields["unit_cost"].error_messages["invalid"] = _("单价应为金额（元），最多两位小数。")

    def clean_prefix(self):
        return (self.cleaned_data.get("prefix") or "").strip().upper()


class RetireForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200, widget=forms.TextInput)


class SpoilForm(RetireForm):
    reprint = forms.BooleanField(label=_("用下一张空白纸重新打印"), required=False, initial=True)


class ReorderLevelForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("执照类型"), choices=LicenceKind.choices)
    reorder_level = forms.IntegerField(label=_("补货预警线（张）"), min_value=0, max_value=1_000_000)


class PrintForm(forms.Form):
    kind = forms.ChoiceField(choices=LicenceKind.choices)


class SheetFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("编号 / 业务编号 / 企业名称"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部"))] + LicenceKind.choices)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + LicenceSheet.Status.choices
    )
    date_from = forms.DateField(
        label=_("使用日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
