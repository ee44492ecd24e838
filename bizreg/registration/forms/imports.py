"""Form of the online-submission import page (the file's rules are checked by services.imports)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.enterprises.forms import BootstrapMixin


class OnlineImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("一网通办导出文件（.json 或 .xlsx）"))
    good_rows_only = forms.BooleanField(
        label=_("仅导入正确的行"),
        required=False,
        help_text=_("默认整份文件全部正确才导入；勾选后导入正确的行，其余行列入错误报告。"),
    )
