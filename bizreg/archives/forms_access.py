"""Forms of archive access: the portal lookup and full-file application, the applicant's status query,
the staff list filter, the decision and the grant."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.archives.models import AccessState, QueryChannel, RequesterKind
from bizreg.archives.services.access import APPLICANT_KINDS, GRANT_DAYS, MAX_GRANT_DAYS
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin

_KIND_LABELS = dict(RequesterKind.choices)


class ApplicationForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """Only the shape is checked here; the service validates the ID number, phone, USCC and proof."""

    requester_kind = forms.ChoiceField(
        label=_("申请人类别"),
        choices=[("", _("请选择"))] + [(k.value, _KIND_LABELS[k]) for k in APPLICANT_KINDS],
    )
    uscc = forms.CharField(label=_("企业统一社会信用代码"), max_length=30)
    applicant_name = forms.CharField(label=_("申请人姓名"), max_length=50)
    applicant_id_number = forms.CharField(label=_("申请人公民身份号码"), max_length=30)
    applicant_phone = forms.CharField(label=_("联系电话"), max_length=20)
    organization = forms.CharField(
        label=_("单位/律所/管理人"), max_length=200, required=False, help_text=_("企业本身申请可不填。")
    )
    purpose = forms.CharField(label=_("查询用途"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    proof = forms.FileField(
        label=_("证明材料"),
        help_text=_(
            "营业执照/授权委托书、公函、律师证及立案证明、法院指定破产管理人决定书等："
            "PDF、JPEG 或 PNG，不超过 10 MB。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        allow_empty_file=True,  # the service names a 0-byte file itself
    )


class StatusForm(BootstrapMixin, forms.Form):
    reference = forms.CharField(label=_("查询编号"), max_length=24)
    phone = forms.CharField(label=_("申请时填写的联系电话"), max_length=20)


class AccessFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("编号/企业/申请人"), required=False, max_length=60)
    state = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部"))] + list(AccessState.choices)
    )
    channel = forms.ChoiceField(
        label=_("渠道"), required=False, choices=[("", _("全部"))] + list(QueryChannel.choices)
    )
    kind = forms.ChoiceField(
        label=_("申请人类别"), required=False, choices=[("", _("全部"))] + list(RequesterKind.choices)
    )
    overdue = forms.BooleanField(label=_("仅逾期未办结"), required=False)
    full_file = forms.BooleanField(label=_("仅完整档案申请"), required=False)
    submitted_from = forms.DateField(
        label=_("申请自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=_("申请至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class DecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"), choices=[("approve", _("批准")), ("reject", _("不批准"))]
    )
    reason = forms.CharField(label=_("审核意见"), required=False, max_length=300)


class GrantForm(BootstrapMixin, forms.Form):
    days = forms.IntegerField(
        label=_("调阅有效期（天）"), initial=GRANT_DAYS, min_value=1, max_value=MAX_GRANT_DAYS
    )
