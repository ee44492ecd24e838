"""REST API of the e-archive full-text search (/api/archive-search/): the search page's query (q: all
terms; "quoted" phrases adjacent) and filters (doc_type, year_from, year_to, status, uscc, source,
digitization), one page of hits best first, each with its snippet (HTML with <mark> around the hits, and
as plain text) and the page of the first hit.

Permission as the page (archives.view_archiveitem); what each user may find is the selector's (own
authorities, controlled and internal items by role). A missing query or a bad filter value is a 400 with
the Chinese message; every query is one line in the archive use log (its first page only, as the page).
"""

from __future__ import annotations

import html
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from bizreg.archives.api.common import ActionPermissions, as_drf_error
from bizreg.archives.models import ArchiveStatus, DigitizationStatus, DocType, ItemSource
from bizreg.archives.selectors import search as selectors
from bizreg.archives.services.access_log import log_access
from bizreg.core.api_router import router
from bizreg.core.scoping import default_authority_for

_TAG = re.compile(r"<[^>]+>")


class SearchHitSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item.pk")
    archival_code = serializers.CharField(source="item.archival_code")
    title = serializers.CharField(source="item.title")
    doc_type = serializers.CharField(source="item.doc_type")
    doc_type_display = serializers.CharField(source="item.get_doc_type_display")
    doc_date = serializers.DateField(source="item.doc_date", allow_null=True)
    doc_number = serializers.CharField(source="item.doc_number")
    open_status = serializers.CharField(source="item.open_status")
    source = serializers.CharField(source="item.source")
    archive = serializers.IntegerField(source="item.archive_id")
    archive_code = serializers.CharField(source="item.archive.archival_code")
    enterprise_name = serializers.CharField(source="item.archive.enterprise_name")
    uscc = serializers.CharField(source="item.archive.uscc")
    score = serializers.FloatField()
    snippet_html = serializers.CharField(source="snippet", help_text="HTML，命中词以 <mark> 标出（已转义）")
    snippet = serializers.SerializerMethodField(help_text="纯文本摘要")
    page_number = serializers.IntegerField(allow_null=True, help_text="首个命中所在页（扫描件）")
    url = serializers.CharField(help_text="档案件页面（打开到命中页）")

    def get_snippet(self, hit) -> str:
        return html.unescape(_TAG.sub("", str(hit.snippet)))


class SearchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="命中件数（至多 1000）")
    count_capped = serializers.BooleanField(help_text="命中超过 1000 件，仅在最新的 1000 件中排序")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    notices = serializers.ListField(child=serializers.CharField())
    results = SearchHitSerializer(many=True)


SEARCH_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        required=True,
        description='检索词：企业名称、信用代码、档号、文号或正文词语；"引号"内为短语',
    ),
    OpenApiParameter("doc_type", str, enum=DocType.values),
    OpenApiParameter("year_from", int),
    OpenApiParameter("year_to", int),
    OpenApiParameter("status", str, enum=ArchiveStatus.values, description="档案状态"),
    OpenApiParameter("uscc", str, description="统一社会信用代码（18 位）"),
    OpenApiParameter("source", str, enum=ItemSource.values),
    OpenApiParameter("digitization", str, enum=DigitizationStatus.values),
    OpenApiParameter("page", int),
]


class ArchiveSearchViewSet(viewsets.ViewSet):
    """电子档案全文检索（档案人员、科室负责人、业务部门查询人员）。"""

    permission_classes = [ActionPermissions]
    read_perms = (selectors.SEARCH_PERM,)

    @extend_schema(summary="电子档案全文检索", parameters=SEARCH_PARAMETERS, responses=SearchPageSerializer)
    def list(self, request):
        params = request.query_params
        errors: dict[str, list[str]] = {}
        raw_page = params.get("page") or "1"
        if not raw_page.isdigit() or int(raw_page) < 1:
            errors["page"] = ["页码应为正整数。"]
        try:
            filters = selectors.clean_filters({key: params.get(key) for key in selectors.FILTER_KEYS})
        except DjangoValidationError as exc:
            errors.update(as_drf_error(exc).detail)
            filters = {}
        if errors:
            raise serializers.ValidationError(errors)
        query = params.get("q", "")
        try:
            result = selectors.archive_search(
                user=request.user, query=query, filters=filters, page=int(raw_page)
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        if result.query.is_empty:
            raise serializers.ValidationError({"q": [result.message]})
        if int(raw_page) == 1:  # paging through a query's results is the same search
            log_access(
                user=request.user,
                who=str(request.user),
                action="search",
                detail=f"接口检索：{query}"[:300],
                request=request,
                authority=default_authority_for(request.user),
            )
        url = request.build_absolute_uri()
        data = {
            "count": result.total,
            "count_capped": result.capped,
            "page": result.number,
            "num_pages": result.num_pages,
            "next": replace_query_param(url, "page", result.number + 1) if result.has_next else None,
            "previous": (
                None
                if not result.has_previous
                else remove_query_param(url, "page")
                if result.number == 2
                else replace_query_param(url, "page", result.number - 1)
            ),
            "notices": result.notices,
            "results": SearchHitSerializer(result.hits, many=True).data,
        }
        return Response(data)


router.register("archive-search", ArchiveSearchViewSet, basename="archive-search")
