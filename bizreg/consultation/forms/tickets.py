"""Forms of the ticket pages and the public CSAT page. They parse input; the rules live in
services.tickets, whose field errors come back onto the matching fields (add_service_errors)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from bizreg.consultation.models import CallTopic, TicketChannel, TicketKind, TicketPriority
from bizreg.enterprises.forms import BootstrapMixin

BODY_MAX = 20_000


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for name, errors in exc.error_dict.items():
            target = name if name in self.fields and name != NON_FIELD_ERRORS else None
            for error in errors:
                self.add_error(target, error.message % error.params if error.params else error.message)


class ReplyForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    body = forms.CharField(
        label=_("答复内容"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5, "accesskey": "r"})
    )
    # The knowledge-base version a canned reply was taken from (set by the "insert" button).
    cited_version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NoteForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    body = forms.CharField(label=_("内部备注"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class TransitionForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    action = forms.CharField(max_length=40, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("说明"), max_length=1000, required=False, widget=forms.TextInput)


class AssignForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    assignee = forms.ModelChoiceField(label=_("分派给"), queryset=None, empty_label=_("请选择坐席"))

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users
        self.fields["assignee"].error_messages["invalid_choice"] = _("该人员不能处理本机关的工单。")


class MergeForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    into = forms.CharField(
        label=_("合并到工单号"),
        max_length=30,
        help_text=_("本工单将标记为“已合并”，其对话在目标工单中一并显示。"),
    )
    reason = forms.CharField(label=_("合并理由"), max_length=500)


class TicketCreateForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """Staff taking down a consultation or complaint received at the window, by phone or by letter."""

    kind = forms.ChoiceField(label=_("类型"), choices=TicketKind.choices, initial=TicketKind.CONSULTATION)
    channel = forms.ChoiceField(
        label=_("渠道"),
        choices=[(c, label) for c, label in TicketChannel.choices if c in ("phone", "window", "email")],
        initial=TicketChannel.WINDOW,
    )
    priority = forms.ChoiceField(
        label=_("优先级"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )
    contact_name = forms.CharField(label=_("咨询人称呼"), max_length=100, required=False)
    contact_phone = forms.RegexField(
        label=_("联系电话"),
        regex=r"^[0-9+\-() ]{5,32}$",
        max_length=32,
        required=False,
        error_messages={"invalid": _("请输入有效的电话号码。")},
    )
    contact_email = forms.EmailField(label=_("电子邮箱"), required=False)
    subject = forms.CharField(label=_("主题"), max_length=200)
    body = forms.CharField(label=_("诉求内容"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5}))
    topic = forms.ChoiceField(label=_("咨询主题"), choices=[("", "—"), *CallTopic.choices], required=False)
    related_case_number = forms.CharField(label=_("关联业务编号"), max_length=30, required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("contact_phone") or data.get("contact_email")):
            raise ValidationError(_("请至少填写联系电话或电子邮箱，以便答复。"))
        return data


class CsatForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(5, _("非常满意")), (4, _("满意")), (3, _("一般")), (2, _("不满意")), (1, _("非常不满意"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择满意度评分。"),
            "invalid_choice": _("评分须在 1 至 5 分之间。"),
        },
    )
    comment = forms.CharField(
        label=_("意见建议（选填）"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        error_messages={"max_length": _("意见建议不能超过 500 字。")},
    )
