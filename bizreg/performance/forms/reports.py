"""Forms of the report pages: the narrative, the issue form (one acknowledgement per finding), revise."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from bizreg.performance.models import EvaluationReport, ReportStatus
from bizreg.performance.selectors.reports import NARRATIVE_FIELDS, Finding
from bizreg.performance.services.reports import NARRATIVE_MAX, REASON_MAX


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                target = name if name in self.fields else None
                for message in errors:
                    self.add_error(target, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


class NarrativeForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="报告标题", max_length=EvaluationReport._meta.get_field("title").max_length)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in NARRATIVE_FIELDS:
            self.fields[name] = forms.CharField(
                label=EvaluationReport._meta.get_field(name).verbose_name,
                required=False,
                max_length=NARRATIVE_MAX,
                widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
            )
        self.fields["title"].widget.attrs["class"] = "form-control"

    @classmethod
    def initial_for(cls, report: EvaluationReport | None, default_title: str) -> dict[str, str]:
        if report is None:
            return {"title": default_title}
        return {"title": report.title, **{name: getattr(report, name) for name in NARRATIVE_FIELDS}}

    def narrative(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in NARRATIVE_FIELDS}


class IssueForm(ServiceErrorsMixin, forms.Form):
    """One "confirmed" checkbox and one reason per consistency finding."""

    def __init__(self, *args, findings: list[Finding], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.findings = findings
        self.rows = []
        for index, finding in enumerate(findings):
            ack, reason = f"ack_{index}", f"reason_{index}"
            self.fields[ack] = forms.BooleanField(label="已核实，确认印发", required=False)
            self.fields[reason] = forms.CharField(
                label="确认理由",
                required=False,
                max_length=REASON_MAX,
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )
            self.fields[f"key_{index}"] = forms.CharField(widget=forms.HiddenInput, initial=finding.key)

    def clean(self):
        cleaned = super().clean()
        for index, finding in enumerate(self.findings):
            if cleaned.get(f"key_{index}") != finding.key:
                raise ValidationError("不一致项已变化（数据或报告在此期间被修改），请重新核对后再印发。")
            if not cleaned.get(f"ack_{index}") or not (cleaned.get(f"reason_{index}") or "").strip():
                self.add_error(f"reason_{index}", f"请勾选确认并填写理由：{finding.message}")
        return cleaned

    def bound_rows(self):
        return [
            (finding, self[f"ack_{i}"], self[f"reason_{i}"], self[f"key_{i}"])
            for i, finding in enumerate(self.findings)
        ]

    def acknowledgements(self) -> dict[str, str]:
        return {
            finding.key: self.cleaned_data[f"reason_{i}"]
            for i, finding in enumerate(self.findings)
            if self.cleaned_data.get(f"ack_{i}")
        }


class ReviseForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="撤回修改理由",
        max_length=REASON_MAX,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class ReportFilterForm(forms.Form):
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(
        label="报告状态",
        required=False,
        choices=[("", "全部"), ("none", "未编写"), *ReportStatus.choices],
    )
    q = forms.CharField(label="项目名称/编号", required=False, max_length=100)
