"""Forms of the PBX import pages: the upload and the batch-list filters (rules in services.pbx_import)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.consultation.models import PbxFormat, PbxImportBatch
from bizreg.consultation.selectors import hotline as hotline_selectors
from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin

FORMAT_HELP = {
    PbxFormat.ASTERISK_CDR: _("Asterisk cdr_csv 的 Master.csv（无表头，16–21 列）"),
    PbxFormat.ASTERISK_QUEUE_LOG: _("Asterisk 队列日志 queue_log（时间|呼叫标识|队列|坐席|事件|…）"),
    PbxFormat.FREESWITCH_CDR: _("FreeSWITCH mod_cdr_csv 默认模板（13 列，含编解码 15 列）"),
    PbxFormat.SURVEY: _("满意度回访 CSV，表头：call_id,caller_number,call_time,score,surveyed_at"),
}


class PbxUploadForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    format = forms.ChoiceField(label=_("文件格式"), choices=PbxFormat.choices)
    hotline = forms.ModelChoiceField(label=_("热线"), queryset=None)
    all_or_nothing = forms.BooleanField(
        label=_("有错误行则全部不导入"),
        required=False,
        help_text=_("不勾选时：正确的行照常导入，错误行逐行列出。"),
    )
    file = forms.FileField(label=_("文件"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        hotlines = hotline_selectors.hotlines_visible_to(user).filter(is_active=True).order_by("number")
        self.fields["hotline"].queryset = hotlines
        if hotlines.count() == 1:
            self.fields["hotline"].initial = hotlines.first().pk


class PbxBatchFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("文件名"), required=False, max_length=100)
    format = forms.ChoiceField(label=_("格式"), required=False, choices=[("", _("全部"))] + PbxFormat.choices)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + PbxImportBatch.Status.choices
    )
    hotline = forms.ModelChoiceField(label=_("热线"), required=False, queryset=None, empty_label=_("全部"))
    date_from = forms.DateField(
        label=_("上传日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    with_errors = forms.BooleanField(label=_("仅看有错误行的"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hotline"].queryset = hotline_selectors.hotlines_visible_to(user).order_by("number")
