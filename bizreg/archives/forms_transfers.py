"""Forms of the transfer-list and borrowing pages. They parse input; the rules are the services'."""

from __future__ import annotations

from django import forms

from bizreg.archives.models import BorrowKind, BorrowState, TransferEntry, TransferState
from bizreg.archives.selectors.transfers import EntryProblem, EntrySection
from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin

_DATE = forms.DateInput(attrs={"type": "date"})


class TransferFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label="清单编号/企业/业务编号", required=False, max_length=60)
    state = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部")] + list(TransferState.choices)
    )
    date_from = forms.DateField(label="编制日期起", required=False, widget=_DATE)
    date_to = forms.DateField(label="编制日期止", required=False, widget=_DATE)


class TransferBuildForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="说明", required=False, max_length=200)
    period_start = forms.DateField(label="业务起始日期", required=False, widget=_DATE)
    period_end = forms.DateField(label="业务截止日期", required=False, widget=_DATE)
    case_ids = forms.TypedMultipleChoiceField(
        label="业务（不选则移交该期间全部已办结业务）",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_ids"].choices = [
            (c.pk, f"{c.number} {c.get_case_type_display()} {c.enterprise_name}（{c.get_state_display()}）")
            for c in candidates
        ]
        self.fields["case_ids"].widget.attrs["class"] = "form-check-input"


class ContractorForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    contractor = forms.CharField(label="扫描加工单位", max_length=100)


class ReasonForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label="理由", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


class TransferEntryFilterForm(BootstrapMixin, forms.Form):
    """The entry filter of a list's detail and count-back pages."""

    q = forms.CharField(label="业务编号/企业名称/档号", required=False, max_length=60)
    section = forms.ChoiceField(
        label="部分", required=False, choices=[("", "全部")] + list(EntrySection.CHOICES)
    )
    problem = forms.ChoiceField(
        label="情况", required=False, choices=[("", "全部")] + list(EntryProblem.CHOICES)
    )

    def __init__(self, *args, paper_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if paper_only:  # the count-back page: only paper entries are counted
            del self.fields["section"]


class ReceiveForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    """One count field and one note field per paper entry on the page; a count already recorded is shown,
    else the number sent, so a page that came back complete is one click."""

    def __init__(self, *args, entries: list[TransferEntry], **kwargs):
        super().__init__(*args, **kwargs)
        self.entries = entries
        for entry in entries:
            counted = entry.returned_items is not None
            self.fields[f"returned_{entry.pk}"] = forms.IntegerField(
                label=f"{entry.case.number} 返还件数",
                min_value=0,
                initial=entry.returned_items if counted else entry.present_items,
            )
            self.fields[f"note_{entry.pk}"] = forms.CharField(
                label=f"{entry.case.number} 清点说明",
                required=False,
                max_length=300,
                initial=entry.return_note,
            )

    def rows(self):
        return [(e, self[f"returned_{e.pk}"], self[f"note_{e.pk}"]) for e in self.entries]

    def counts(self) -> dict[int, tuple[int, str]]:
        data = self.cleaned_data
        return {e.pk: (data[f"returned_{e.pk}"], data.get(f"note_{e.pk}", "")) for e in self.entries}


# --- borrowing ------------------------------------------------------------------------------------------


class BorrowRequestForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label="借阅方式", choices=BorrowKind.choices)
    department = forms.CharField(label="借阅部门", max_length=100)
    purpose = forms.CharField(label="用途", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    # The 1–30 day rule is the service's; the form only reads a whole number.
    requested_days = forms.IntegerField(label="借阅天数", initial=7)


class BorrowFilterForm(BootstrapMixin, forms.Form):
    state = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部")] + list(BorrowState.choices)
    )
    kind = forms.ChoiceField(label="方式", required=False, choices=[("", "全部")] + list(BorrowKind.choices))


class ArchiveLookupForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="档号/企业名称/统一社会信用代码", required=False, max_length=60)
