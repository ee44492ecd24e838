"""The cockpit's chooser: which project, as of which day (the rules live in selectors.monitoring)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.performance.selectors import monitoring as selectors


class CockpitForm(forms.Form):
    project = forms.ModelChoiceField(
        label=_("项目"),
        queryset=None,
        required=False,
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        error_messages={"invalid_choice": _("没有找到该预算项目。")},
    )
    as_of = forms.DateField(
        label=_("截至日期"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
        ),
        error_messages={"invalid": _("请输入有效日期，例如 2023-06-30。")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = selectors.cockpit_projects(user)
