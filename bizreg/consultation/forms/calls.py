"""Forms of the call pages: the fast call log, the note edit and the list filters (the rules are in
services.calls; these forms parse and hand over)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.consultation.models import CallOutcome, CallSource, CallTopic
from bizreg.consultation.selectors import calls as call_selectors
from bizreg.consultation.selectors import hotline as hotline_selectors
from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin

DATETIME_SECONDS = "%Y-%m-%dT%H:%M:%S"

# The topic picker: each topic has a number the agent types (1 企业设立 … 13 其他).
TOPIC_NUMBERS: list[tuple[int, str, str]] = [
    (index, value, str(label)) for index, (value, label) in enumerate(CallTopic.choices, start=1)
]


def topic_from_text(text: str | None) -> str | None:
    """The topic code for what was typed: its number ("3"), "3 注销登记", the label or the code.

    "" for nothing typed; None when it names no topic.
    """
    text = (text or "").strip()
    if not text:
        return ""
    head = text.split()[0]
    if head.isdigit():
        number = int(head)
        return TOPIC_NUMBERS[number - 1][1] if 1 <= number <= len(TOPIC_NUMBERS) else None
    for _number, value, label in TOPIC_NUMBERS:
        if text in (value, label):
            return value
    return None


def _datetime_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format=DATETIME_SECONDS),
        error_messages={"invalid": _("请输入有效的日期时间（YYYY-MM-DD HH:MM:SS）。")},
    )


class TopicField(forms.CharField):
    """A text box with a datalist of numbered topics; cleans to a CallTopic value."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"list": "topic-options", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        topic = topic_from_text(value)
        if topic is None:
            raise forms.ValidationError(
                _("没有编号或名称为“%(value)s”的咨询主题，请输入 1–%(max)d 的编号或从列表中选择。"),
                params={"value": value, "max": len(TOPIC_NUMBERS)},
            )
        return topic

    def prepare_value(self, value):
        # Show "3 注销登记" for a stored code so a re-rendered form reads like what was picked.
        for number, code, label in TOPIC_NUMBERS:
            if value == code:
                return f"{number} {label}"
        return value


class CallLogForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """The agent's fast call log: one screen, keyboard-first, Enter submits."""

    caller_number = forms.CharField(
        label=_("来电号码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "off", "accesskey": "n"}
        ),
    )
    withheld = forms.BooleanField(
        label=_("号码未显示"), required=False, widget=forms.CheckboxInput(attrs={"accesskey": "w"})
    )
    outcome = forms.ChoiceField(
        label=_("结果"), choices=CallOutcome.choices, initial=CallOutcome.ANSWERED, widget=forms.RadioSelect
    )
    topic = TopicField(label=_("咨询主题"), widget=forms.TextInput(attrs={"accesskey": "t"}))
    summary = forms.CharField(
        label=_("咨询内容摘要"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "accesskey": "s"}),
    )
    resolved = forms.BooleanField(
        label=_("当场解答"), required=False, widget=forms.CheckboxInput(attrs={"accesskey": "r"})
    )
    needs_follow_up = forms.BooleanField(
        label=_("需跟进（转工单）"), required=False, widget=forms.CheckboxInput(attrs={"accesskey": "f"})
    )
    related_case_number = forms.CharField(
        label=_("关联业务编号"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"accesskey": "c", "autocomplete": "off"}),
    )
    line = forms.ModelChoiceField(
        label=_("分线"), queryset=None, empty_label=_("请选择"), widget=forms.Select(attrs={"accesskey": "l"})
    )
    agent = forms.ModelChoiceField(
        label=_("接听坐席"), queryset=None, required=False, empty_label=_("（无）")
    )
    offered_at = _datetime_field(_("来电时间"))
    answered_at = _datetime_field(_("接听时间"))
    ended_at = _datetime_field(_("结束时间（留空为现在）"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = hotline_selectors.line_choices(user=user)
        self.fields["line"].error_messages["invalid_choice"] = _("所选分线不存在、已停用或不属于本登记机关。")
        self.fields["agent"].queryset = hotline_selectors.agent_choices(user=user)
        self.fields["agent"].error_messages["invalid_choice"] = _(
            "所选坐席不存在、已停用或不属于本登记机关。"
        )
        self.fields["summary"].error_messages["max_length"] = _("摘要不能超过 2000 个字。")
        # Radios and checkboxes are laid out by the template.
        self.fields["outcome"].widget.attrs.pop("class", None)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            name: data.get(name)
            for name in (
                "caller_number",
                "withheld",
                "outcome",
                "topic",
                "summary",
                "resolved",
                "needs_follow_up",
                "related_case_number",
                "line",
                "agent",
                "offered_at",
                "answered_at",
                "ended_at",
            )
        }


class CallNoteForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    topic = TopicField(label=_("咨询主题"), widget=forms.TextInput(attrs={"autofocus": True}))
    summary = forms.CharField(
        label=_("咨询内容摘要"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    resolved = forms.BooleanField(label=_("当场解答"), required=False)
    needs_follow_up = forms.BooleanField(label=_("需跟进（转工单）"), required=False)
    related_case_number = forms.CharField(label=_("关联业务编号"), max_length=30, required=False)
    reason = forms.CharField(label=_("修改说明"), max_length=100, required=False)


_YES_NO = [("", _("全部")), ("1", _("是")), ("0", _("否"))]


class CallFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("号码后四位、摘要、业务编号")}),
    )
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    hotline = forms.ModelChoiceField(
        label=_("热线"), queryset=None, required=False, empty_label=_("全部热线")
    )
    line = forms.ModelChoiceField(label=_("分线"), queryset=None, required=False, empty_label=_("全部分线"))
    agent = forms.ModelChoiceField(label=_("坐席"), queryset=None, required=False, empty_label=_("全部坐席"))
    outcome = forms.ChoiceField(
        label=_("结果"), required=False, choices=[("", _("全部结果"))] + list(CallOutcome.choices)
    )
    topic = forms.ChoiceField(
        label=_("主题"), required=False, choices=[("", _("全部主题"))] + list(CallTopic.choices)
    )
    resolved = forms.ChoiceField(label=_("当场解答"), required=False, choices=_YES_NO)
    follow_up = forms.ChoiceField(label=_("需跟进"), required=False, choices=_YES_NO)
    satisfaction = forms.ChoiceField(
        label=_("满意度"),
        required=False,
        choices=[("", _("全部"))] + list(call_selectors.SATISFACTION_FILTERS),
    )
    source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部来源"))] + list(CallSource.choices)
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hotline"].queryset = hotline_selectors.hotlines_visible_to(user).order_by("number")
        self.fields["line"].queryset = hotline_selectors.lines_visible_to(user).order_by(
            "hotline__number", "position"
        )
        self.fields["agent"].queryset = hotline_selectors.agents_visible_to(user).order_by("pbx_code")
        for name, message in (
            ("hotline", _("所选热线不存在或不属于本登记机关。")),
            ("line", _("所选分线不存在或不属于本登记机关。")),
            ("agent", _("所选坐席不存在或不属于本登记机关。")),
        ):
            self.fields[name].error_messages["invalid_choice"] = message
        for name in ("outcome", "topic", "resolved", "follow_up", "satisfaction", "source"):
            self.fields[name].error_messages["invalid_choice"] = _("“%(value)s”不是有效的选项。")
