"""Forms of the digitization pages: batch filter and creation, scan upload (several files at once), the
QA decision of a page, the replacement scan of a rejected page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.archives.models import BatchState, TransferList, TransferState
from bizreg.core.scoping import scope_to_user
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin


class BatchFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("批次号/移交清单号"), required=False, max_length=40)
    state = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + list(BatchState.choices)
    )
    created_from = forms.DateField(
        label=_("创建自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("创建至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class BatchCreateForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    transfer = forms.ModelChoiceField(
        label=_("移交清单"), required=False, queryset=TransferList.objects.none(), empty_label=_("（不关联）")
    )
    sample_percent = forms.DecimalField(label=_("抽检比例（%）"), initial=5, min_value=0.1, max_value=100)
    pass_mark_percent = forms.DecimalField(label=_("合格线（%）"), initial=95, min_value=50, max_value=100)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transfer"].queryset = scope_to_user(
            TransferList.objects.filter(state__in=[TransferState.SENT, TransferState.RECEIVED]), user
        ).order_by("-created_at")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".tif,.tiff,.jpg,.jpeg,.png,.pdf"}))
        # An empty file among good ones is refused by intake with its reason; the form must not drop
        # the whole upload for it.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ScanUploadForm(BootstrapMixin, forms.Form):
    files = MultipleFileField(
        label=_("扫描文件"),
        help_text=_(
            "TIFF、JPEG、PNG 或扫描 PDF，可多选；文件名用档案件档号加页码（如 …-0003-001.jpg）可自动归件。"
        ),
    )


class PageQaForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(label=_("结论"), choices=[("pass", _("合格")), ("reject", _("退回返工"))])
    note = forms.CharField(label=_("质检意见"), required=False, max_length=300)


class PageReplaceForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    file = forms.FileField(label=_("重新扫描的图像"))


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("说明"), required=False, max_length=300)
