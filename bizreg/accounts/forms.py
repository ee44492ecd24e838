"""Forms of the accounts pages; bad filter input becomes a field error, never a crash."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bizreg.accounts import selectors
from bizreg.accounts.roles import ROLES


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。请注意密码区分大小写。"),
        "inactive": _("该账户已停用，请联系系统管理员。"),
    }


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("角色"), required=False)
    authority = forms.TypedChoiceField(label=_("登记机关"), required=False, coerce=int, empty_value=None)
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), ("1", _("启用")), ("0", _("停用"))]
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("全部角色"))] + [(r.code, gettext(r.name)) for r in ROLES]
        self.fields["authority"].choices = [("", _("全部机关"))] + [
            (a.pk, a.name) for a in selectors.authorities_of(viewer)
        ]
