"""The e-archive search page for staff (档案人员, 科室负责人, 业务部门查询人员): the search box, filters,
highlighted results opening the item at the page of the hit, and the Excel export of the result list.
Every search is one line in the archive use log (page 1 of a query and each export, never per result)."""

from __future__ import annotations

import html
import re

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from bizreg.archives.models import ArchiveStatus, DigitizationStatus, DocType, ItemSource
from bizreg.archives.selectors import search as selectors
from bizreg.archives.services.access_log import log_access
from bizreg.core.excel import xlsx_response
from bizreg.core.scoping import default_authority_for

SEARCH_PERM = selectors.SEARCH_PERM


def _blank(choices) -> list:
    return [("", "全部"), *choices]


class SearchForm(forms.Form):
    # No max_length: an overlong query is cut (with a notice) by the selector, not refused.
    q = forms.CharField(label=_("检索词"), required=False)
    doc_type = forms.ChoiceField(label=_("文件类型"), choices=_blank(DocType.choices), required=False)
    year_from = forms.IntegerField(
        label=_("起始年份"), required=False, min_value=selectors.MIN_YEAR, max_value=selectors.MAX_YEAR
    )
    year_to = forms.IntegerField(
        label=_("截止年份"), required=False, min_value=selectors.MIN_YEAR, max_value=selectors.MAX_YEAR
    )
    status = forms.ChoiceField(label=_("档案状态"), choices=_blank(ArchiveStatus.choices), required=False)
    uscc = forms.CharField(label=_("统一社会信用代码"), required=False, max_length=30)
    source = forms.ChoiceField(label=_("来源"), choices=_blank(ItemSource.choices), required=False)
    digitization = forms.ChoiceField(
        label=_("数字化状态"), choices=_blank(DigitizationStatus.choices), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field, forms.ChoiceField)
                else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)
        self.fields["q"].widget.attrs.update(
            {"placeholder": '企业名称、信用代码、档号、文号或正文词语；"引号"内为短语'}
        )

    def clean(self):
        data = super().clean()
        filters = {k: data.get(k) for k in selectors.FILTER_KEYS}
        try:
            data["filters"] = selectors.clean_filters(filters)
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                self.add_error(field_name if field_name in self.fields else None, messages)
        return data


def _run(request, *, page, page_size=selectors.PAGE_SIZE):
    form = SearchForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        result = selectors.archive_search(
            user=request.user,
            query=form.cleaned_data["q"],
            filters=form.cleaned_data["filters"],
            page=page,
            page_size=page_size,
        )
    return form, result


def _log(request, query: str, note: str = "") -> None:
    log_access(
        user=request.user,
        who=str(request.user),
        action="search",
        detail=(note + query)[:300],
        request=request,
        authority=default_authority_for(request.user),
    )


@login_required
@permission_required(SEARCH_PERM, raise_exception=True)
@require_GET
def archive_search_page(request):
    form, result = _run(request, page=request.GET.get("page"))
    # Once per query: paging through its results (page=2 …) is the same search.
    first_page = request.GET.get("page") in (None, "", "1")
    if result is not None and not result.query.is_empty and first_page:
        _log(request, form.cleaned_data["q"])
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "result": result, "page": result, "query": query.urlencode()}
    return render(request, "archives/search/page.html", context)


_TAG = re.compile(r"<[^>]+>")


@login_required
@permission_required(SEARCH_PERM, raise_exception=True)
@require_GET
def archive_search_export(request):
    form, result = _run(request, page=1, page_size=selectors.RESULT_WINDOW)
    if result is None or result.query.is_empty:
        context = {"form": form, "result": result, "page": result, "query": ""}
        return render(request, "archives/search/page.html", context, status=400)
    _log(request, form.cleaned_data["q"], note="导出：")
    rows = (
        (
            hit.item.archival_code,
            hit.item.title,
            hit.item.archive.enterprise_name,
            hit.item.archive.uscc,
            hit.item.get_doc_type_display(),
            hit.item.doc_date,
            hit.item.doc_number,
            hit.item.get_open_status_display(),
            hit.page_number or "",
            html.unescape(_TAG.sub("", hit.snippet)),
        )
        for hit in result.hits
    )
    return xlsx_response(
        title="档案检索结果",
        headers=(
            "档号",
            "题名",
            "企业名称",
            "统一社会信用代码",
            "文件类型",
            "日期",
            "文号",
            "开放标识",
            "命中页",
            "摘要",
        ),
        rows=rows,
        filename="archive-search.xlsx",
    )


urlpatterns = [
    path("search/", archive_search_page, name="search"),
    path("search/export/", archive_search_export, name="search_export"),
]
