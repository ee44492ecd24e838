"""Forms of the knowledge-base pages. They parse input; the rules (duplicates, lengths, chains of
synonyms, four-eyes) live in services.knowledge, whose ValidationErrors the forms put on their fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bizreg.consultation.models import ArticleVersion, CallTopic, KnowledgeGap, TicketChannel, Visibility
from bizreg.consultation.selectors import knowledge as selectors
from bizreg.consultation.services.knowledge import TITLE_MAX
from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.registration.models import CaseType

BLANK = [("", _("全部"))]


class ArticleVersionForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """The content of a version: the standard question, its variants, the answer and where it applies."""

    title = forms.CharField(
        label=_("标准问题"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"autofocus": True, "maxlength": TITLE_MAX}),
    )
    question_variants = forms.CharField(
        label=_("相似问法（每行一个）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("群众常用的其他问法，每行一个；不能重复，也不能与标准问题相同。"),
    )
    answer = forms.CharField(label=_("答案"), widget=forms.Textarea(attrs={"rows": 8}))
    legal_basis = forms.CharField(
        label=_("政策法规依据"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    case_types = forms.MultipleChoiceField(
        label=_("适用业务类型"),
        required=False,
        choices=CaseType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    topic = forms.ChoiceField(label=_("咨询主题"), required=False, choices=[("", "—")] + CallTopic.choices)
    visibility = forms.ChoiceField(
        label=_("公开范围"), choices=Visibility.choices, initial=Visibility.PUBLIC, widget=forms.RadioSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["max_length"] = _("标准问题不能超过 %(limit_value)d 个字。")
        self.fields["case_types"].error_messages["invalid_choice"] = _("未知的业务类型：%(value)s。")
        self.fields["topic"].error_messages["invalid_choice"] = _("未知的咨询主题：%(value)s。")
        # Checkboxes and radios are laid out by the template; form-control would break them.
        for name in ("case_types", "visibility"):
            self.fields[name].widget.attrs.pop("class", None)

    @classmethod
    def initial_from(cls, version: ArticleVersion) -> dict:
        return {
            "title": version.title,
            "question_variants": version.question_variants,
            "answer": version.answer,
            "legal_basis": version.legal_basis,
            "case_types": list(version.case_types),
            "topic": version.topic,
            "visibility": version.visibility,
        }

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class ReasonForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("理由/意见"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, reason_required: bool = False, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if label:
            self.fields["reason"].label = label
            self.fields["reason"].error_messages["required"] = _("请填写%(label)s。") % {"label": label}


class GapDismissForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("无需补充的理由"), max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = _("理由不能超过 %(limit_value)d 个字。")


class ArticleSettingsForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    owner = forms.ChoiceField(label=_("负责人"))
    review_by = forms.DateField(label=_("复核期限"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, candidates, **kwargs):
        self.candidates = {str(u.pk): u for u in candidates}
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(pk, str(u)) for pk, u in self.candidates.items()]
        self.fields["owner"].error_messages["invalid_choice"] = _("负责人须是本机关能维护知识库的工作人员。")
        self.fields["review_by"].error_messages["invalid"] = _("请输入有效的日期。")

    def clean_owner(self):
        return self.candidates[self.cleaned_data["owner"]]


class KnowledgeFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    case_type = forms.ChoiceField(label=_("业务类型"), required=False, choices=BLANK + CaseType.choices)
    topic = forms.ChoiceField(label=_("咨询主题"), required=False, choices=BLANK + CallTopic.choices)
    visibility = forms.ChoiceField(label=_("公开范围"), required=False, choices=BLANK + Visibility.choices)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=BLANK + list(selectors.STATUS_CHOICES)
    )
    freshness = forms.ChoiceField(
        label=_("新鲜度"), required=False, choices=BLANK + list(selectors.FRESHNESS_CHOICES)
    )
    owner = forms.ModelChoiceField(label=_("负责人"), required=False, queryset=None, empty_label=_("全部"))
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=selectors.SORT_CHOICES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.owner_choices(user=user)

    def filters(self) -> dict:
        """The valid filters; an invalid one is ignored (the page says which)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


GAP_STATUS_CHOICES = [
    ("", _("全部")),
    *KnowledgeGap.Status.choices,
    ("writing", _("条目撰写中")),
]


class GapFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label=_("问题"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=GAP_STATUS_CHOICES, initial=KnowledgeGap.Status.OPEN
    )
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=BLANK + TicketChannel.choices)
    date_from = forms.DateField(
        label=_("提问日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    min_occurrences = forms.IntegerField(
        label=_("最少次数"), required=False, min_value=1, max_value=1_000_000
    )
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=selectors.GAP_SORT_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["min_occurrences"].error_messages.update(
            {"invalid": _("次数应为整数。"), "min_value": _("次数至少为 1。")}
        )

    def filters(self) -> dict:
        """The valid filters; open gaps unless a status (or "全部") was chosen."""
        if not self.is_bound:
            return {"status": KnowledgeGap.Status.OPEN}
        self.is_valid()
        filters = {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
        if "status" not in self.data:
            filters["status"] = KnowledgeGap.Status.OPEN
        return filters


class SynonymForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    term = forms.CharField(label=_("词语（简称/俗称）"), max_length=50)
    canonical = forms.CharField(label=_("标准词"), max_length=50)
