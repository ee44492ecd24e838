"""Forms of the visit and questionnaire pages. The visit form renders the questionnaire's questions as
fields `q_<code>` by answer type; every answer is passed to the service as given, which checks its type
and options, so the page shows the service's message ("“职工人数”须为整数。") on the question."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.tracking.models import (
    AnswerType,
    MoveOutReason,
    PlanReason,
    Questionnaire,
    VisitMethod,
    VisitState,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PREFIX = "q_"
YES_NO = [("yes", "是"), ("no", "否")]


class VisitFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    date_range = ("visited_from", "visited_to")

    q = forms.CharField(label="编号/企业名称/信用代码", required=False, max_length=100)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *VisitState.choices])
    method = forms.ChoiceField(label="方式", required=False, choices=[("", "全部方式"), *VisitMethod.choices])
    reason = forms.ChoiceField(
        label="计划来源",
        required=False,
        choices=[("", "全部"), *PlanReason.choices, ("none", "无计划（临时走访）")],
    )
    officer = forms.ChoiceField(label="走访专员", required=False)
    visited_from = forms.DateField(label="走访日期自", required=False, widget=DATE)
    visited_to = forms.DateField(label="至", required=False, widget=DATE)

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = [
            ("", "全部专员"),
            ("me", "我的走访"),
            *((str(user.pk), str(user)) for user in officers),
        ]


class _ListField(forms.Field):
    """The ticked options as given (the service checks them against the question's options)."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        if not value:
            return []
        return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


def _question_field(question) -> forms.Field:
    label = question.text
    common = {"label": label, "required": False, "help_text": question.help_text}
    kind = question.answer_type
    if kind == AnswerType.TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), strip=True, **common)
    if kind == AnswerType.INTEGER:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "numeric"}), **common)
    if kind == AnswerType.DECIMAL:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == AnswerType.YES_NO:
        return forms.CharField(widget=forms.RadioSelect(choices=YES_NO), **common)
    if kind == AnswerType.CHOICE:
        options = [("", "请选择"), *((c, c) for c in question.choices)]
        return forms.CharField(widget=forms.Select(choices=options), **common)
    if kind == AnswerType.MULTI:
        return _ListField(
            widget=forms.CheckboxSelectMultiple(choices=[(c, c) for c in question.choices]), **common
        )
    if kind == AnswerType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return forms.CharField(**common)


def _initial(question, value: Any) -> Any:
    if question.answer_type == AnswerType.YES_NO and isinstance(value, bool):
        return "yes" if value else "no"
    return value


class VisitForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    """A visit with its questionnaire. `ask_enterprise`: the enterprise is typed (USCC) rather than given by
    the plan or the page's ?enterprise=."""

    enterprise = forms.CharField(
        label="企业", required=False, max_length=40, help_text="统一社会信用代码（或企业编号）"
    )
    method = forms.ChoiceField(label="走访方式", choices=VisitMethod.choices)
    visited_on = forms.DateField(label="走访日期", widget=DATE)
    contact_name = forms.CharField(label="企业联系人", required=False, max_length=50)
    contact_phone = forms.CharField(label="联系电话", required=False, max_length=20)
    findings = forms.CharField(
        label="走访发现",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="企业经营情况、反映的问题和诉求；提交时必填",
    )
    move_out_reason = forms.ChoiceField(
        label="拟迁出原因",
        required=False,
        choices=[("", "—"), *MoveOutReason.choices],
        help_text="拟迁出企业必填；其他企业有迁出意向时填写",
    )

    def __init__(
        self,
        *args,
        questionnaire: Questionnaire,
        ask_enterprise: bool = False,
        move_out_required: bool = False,
        answers: dict | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not ask_enterprise:
            del self.fields["enterprise"]
        if move_out_required:
            self.fields["move_out_reason"].label = "拟迁出原因 *"
        self.questions = list(questionnaire.questions.all())
        answers = answers or {}
        for question in self.questions:
            field = _question_field(question)
            if question.required:
                field.label = f"{field.label} *"
            field.initial = _initial(question, answers.get(question.code))
            self.fields[PREFIX + question.code] = _bootstrap(field)

    def question_fields(self):
        return [self[PREFIX + q.code] for q in self.questions]

    def visit_fields(self):
        return [self[name] for name in self.fields if not name.startswith(PREFIX)]

    def signal_fields(self) -> list[str]:
        """Names of the fields whose "yes" shows the move-out reason."""
        return [PREFIX + q.code for q in self.questions if q.signals_move_out]

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {q.code: data.get(PREFIX + q.code) for q in self.questions}

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "method": data["method"],
            "visited_on": data["visited_on"],
            "contact_name": data["contact_name"],
            "contact_phone": data["contact_phone"],
            "findings": data["findings"],
            "move_out_reason": data["move_out_reason"],
            "answers": self.answers(),
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        """A question code's errors go to its field; the rest as ServiceErrorsMixin places them."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        codes = {q.code for q in self.questions}
        rest = {}
        for name, errors in exc.error_dict.items():
            if name in codes:
                for error in errors:
                    self.add_error(
                        PREFIX + name, error.message % error.params if error.params else error.message
                    )
            else:
                rest[name] = errors
        if rest:
            super().add_service_errors(ValidationError(rest))


def _bootstrap(field: forms.Field) -> forms.Field:
    """Bootstrap's class on a question field (added after BootstrapMixin styled the declared ones)."""
    widget = field.widget
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return field


# --- questionnaire ---------------------------------------------------------------------------------------


class QuestionnaireForm(ServiceErrorsMixin, BootstrapMixin, forms.Form):
    title = forms.CharField(label="问卷名称", max_length=100, required=False)


class QuestionForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label="编码", required=False, max_length=40)
    text = forms.CharField(label="题目", required=False, max_length=200)
    answer_type = forms.ChoiceField(
        label="答案类型", required=False, choices=[("", "—"), *AnswerType.choices]
    )
    choices = forms.CharField(label="选项", required=False, help_text="单选、多选题填写，用“、”分隔")
    required = forms.BooleanField(label="必答", required=False)
    signals_move_out = forms.BooleanField(label="迁出意向信号", required=False)
    help_text = forms.CharField(label="填写说明", required=False, max_length=200)


QuestionFormSet = forms.formset_factory(QuestionForm, extra=2, can_delete=True, max_num=60, validate_max=True)


def question_initial(questionnaire: Questionnaire) -> list[dict[str, Any]]:
    return [
        {
            "code": q.code,
            "text": q.text,
            "answer_type": q.answer_type,
            "choices": "、".join(q.choices or []),
            "required": q.required,
            "signals_move_out": q.signals_move_out,
            "help_text": q.help_text,
        }
        for q in questionnaire.questions.all()
    ]


def questions_from(formset) -> list[dict[str, Any]]:
    """The questions the formset keeps, in order: deleted rows and untouched blank rows left out."""
    kept = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("DELETE"):
            continue
        if not (data.get("code") or data.get("text")):
            continue
        kept.append({name: value for name, value in data.items() if name != "DELETE"})
    return kept
