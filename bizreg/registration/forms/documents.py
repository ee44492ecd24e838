"""Forms of the notice pages (filters only: notices are issued by the case workflow)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin
from bizreg.registration.models import NoticeKind


class NoticeFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("文书编号 / 企业名称 / 业务编号"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("文书类型"), required=False, choices=[("", _("全部"))] + NoticeKind.choices
    )
    date_from = forms.DateField(
        label=_("签发日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
