"""Forms of the archives staff pages. They parse input; the rules are the services'. Each area keeps its
forms in its own section (or its own forms_<area>.py module)."""

from __future__ import annotations

import datetime as dt

from django import forms

from bizreg.archives.models import ArchiveItem, ArchiveStatus, DocType
from bizreg.archives.services.items import DESCRIPTION_FIELDS
from bizreg.archives.services.uploads import PUBLIC_NOTICE_DOC_TYPES
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin

# --- records ----------------------------------------------------------------------------------------------

_YES_NO = [("", "全部"), ("1", "是"), ("0", "否")]
_MOVED = [("", "全部"), ("out", "已迁出"), ("in", "迁入"), ("merged", "已合并"), ("any", "迁出或迁入")]
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _year_field(label: str, required: bool) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=required, min_value=1949, max_value=dt.date.today().year + 1
    )


class ArchiveFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="企业名称/统一社会信用代码/档号", required=False, max_length=60)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部")] + list(ArchiveStatus.choices)
    )
    year = _year_field("年度", required=False)
    # Where a file stands is filtered down the shelving hierarchy (库房 → 区 → 列): a district keeps
    # thousands of shelf layers, too many for one drop-down. One layer is still taken by id (hidden), as
    # the shelf list links to it.
    repository = forms.ChoiceField(label="库房", required=False)
    zone = forms.ChoiceField(label="区", required=False)
    column = forms.IntegerField(label="列", required=False, min_value=1, max_value=9999)
    location = forms.ModelChoiceField(label="库位", required=False, queryset=None, widget=forms.HiddenInput)
    in_ftz = forms.ChoiceField(label="自贸区", required=False, choices=_YES_NO)
    moved = forms.ChoiceField(label="迁移", required=False, choices=_MOVED)

    def __init__(self, *args, shelves=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = shelves
        for name in ("repository", "zone"):
            values = sorted(set(shelves.order_by().values_list(name, flat=True).distinct()))
            self.fields[name].choices = [("", "全部")] + [(value, value) for value in values]


class MovedFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="企业名称/统一社会信用代码/档号", required=False, max_length=60)
    moved = forms.ChoiceField(
        label="方向", required=False, choices=[("any", "迁出或迁入"), ("out", "已迁出"), ("in", "迁入")]
    )
    year = _year_field("年度", required=False)


class ShelfForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    repository = forms.CharField(label="库房", max_length=30)
    zone = forms.CharField(label="区", max_length=10)
    column = forms.IntegerField(label="列", min_value=1, max_value=9999)
    section = forms.IntegerField(label="节", min_value=1, max_value=9999)
    layer = forms.IntegerField(label="层", min_value=1, max_value=99)
    capacity = forms.IntegerField(label="容量（卷）", min_value=1, max_value=10_000, initial=60)


class ShelfFilterForm(BootstrapMixin, forms.Form):
    repository = forms.CharField(label="库房", required=False, max_length=30)
    active_only = forms.BooleanField(label="仅显示启用的库位", required=False)


class ShelveForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    location = forms.ModelChoiceField(label="库位", queryset=None)
    reason = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, shelves=None, suggest_next: bool = False, **kwargs):
        """`shelves` in shelving order, annotated with `occupied`. The drop-down groups them by 库房 and
        区 (a district has thousands of layers); `suggest_next` preselects the first layer with room, where
        a new file goes when files are shelved in order."""
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        field.queryset = shelves
        groups: dict[str, list[tuple[int, str]]] = {}
        for shelf in shelves:
            label = f"{shelf.label}（{shelf.occupied}/{shelf.capacity}）"
            groups.setdefault(f"{shelf.repository} {shelf.zone}区", []).append((shelf.pk, label))
        # Rendering only: the field still validates against the queryset.
        field.widget.choices = [("", field.empty_label), *groups.items()]
        first = next(iter(groups.values()), None)
        if suggest_next and first and not self.is_bound:
            self.initial["location"] = first[0][0]


class MoveOutForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    destination = forms.CharField(label="迁往登记机关", max_length=100)
    reason = forms.CharField(
        label="迁出依据（调档函文号等）", max_length=250, widget=forms.Textarea(attrs={"rows": 2})
    )


_DOC_TYPE_BY_LABEL = {label: value for value, label in DocType.choices}


class MoveInForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    enterprise_name = forms.CharField(label="企业名称", max_length=200)
    uscc = forms.CharField(label="统一社会信用代码", max_length=40)
    moved_in_from = forms.CharField(label="原登记机关", max_length=100)
    year = _year_field("年度", required=True)
    items = forms.CharField(
        label="随档材料（每行一件：文件类型 | 题名 | 日期 | 页数）",
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "公司章程 | 公司章程 | 2019-03-02 | 8"}),
        help_text="文件类型可填：" + "、".join(_DOC_TYPE_BY_LABEL) + "；不填为“其他”。",
    )

    def clean_items(self) -> list[dict]:
        parsed, errors = [], []
        for number, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("｜", "|").split("|")]
            parts += [""] * (4 - len(parts))
            type_label, title, date_text, pages_text = parts[:4]
            if type_label and type_label not in _DOC_TYPE_BY_LABEL:
                errors.append(f"第 {number} 行：文件类型“{type_label}”不在可选范围内。")
                continue
            if not title:
                errors.append(f"第 {number} 行：请填写题名。")
                continue
            try:
                doc_date = dt.date.fromisoformat(date_text) if date_text else None
            except ValueError:
                errors.append(f"第 {number} 行：日期“{date_text}”无效（应为 YYYY-MM-DD）。")
                continue
            if pages_text and not pages_text.isdigit():
                errors.append(f"第 {number} 行：页数“{pages_text}”应为整数。")
                continue
            parsed.append(
                {
                    "doc_type": _DOC_TYPE_BY_LABEL.get(type_label, DocType.OTHER),
                    "title": title,
                    "doc_date": doc_date,
                    "pages": int(pages_text or 0),
                }
            )
        if errors:
            raise forms.ValidationError(errors)
        if not parsed:
            raise forms.ValidationError("请至少登记一件随档材料。")
        return parsed


class MergeForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    target = forms.ModelChoiceField(label="并入的接收档案", queryset=None)
    reason = forms.CharField(label="合并理由", max_length=250, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets
        self.fields["target"].label_from_instance = lambda a: f"{a.archival_code} {a.enterprise_name}"


class PublicNoticeUploadForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    doc_type = forms.ChoiceField(
        label="材料类型",
        choices=[(value, label) for value, label in DocType.choices if value in PUBLIC_NOTICE_DOC_TYPES],
    )
    title = forms.CharField(label="题名", max_length=300)
    upload = forms.FileField(
        label="PDF 文件",
        allow_empty_file=True,  # the service refuses an empty file with its own message
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )


class ItemDescribeForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(ArchiveItem, fields=DESCRIPTION_FIELDS))
        self.fields["doc_date"].widget = _DATE
        self.fields["reason"] = forms.CharField(label="修改说明", required=False, max_length=100)
        for name in self.fields:
            widget = self.fields[name].widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if css not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def description(self) -> dict:
        return {name: self.cleaned_data[name] for name in DESCRIPTION_FIELDS}


class FlagClearForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    reason = forms.CharField(label="解除理由", max_length=200)
