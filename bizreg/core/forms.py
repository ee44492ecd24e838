"""Forms of core's pages (filters); bad input comes back as field errors, never as a crash."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.core.models import AccessLog


class DateRangeMixin:
    """A filter form's date range (`date_range`: its two fields, date_from/date_to unless the form names
    others): it may be open at either end, not reversed, and a date that does not parse says which
    spelling is expected."""

    date_range: tuple[str, str] = ("date_from", "date_to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.date_range:
            if name in self.fields:
                self.fields[name].error_messages["invalid"] = _("请输入有效日期（YYYY-MM-DD）。")

    def clean(self):
        data = super().clean()
        start, end = (data.get(name) for name in self.date_range)
        if start and end and start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"), code="date_range")
        return data


class AccessLogFilterForm(DateRangeMixin, forms.Form):
    user = forms.CharField(label=_("用户"), required=False, max_length=50)
    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=[("", _("全部"))] + list(AccessLog.Action.choices)
    )
    object = forms.CharField(label=_("对象"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
