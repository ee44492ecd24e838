"""REST API of archive files and items (/api/archive-files/, /api/archive-items/).

- archive files: list with the archive list page's filters (q = enterprise name / USCC / 档号, status, year,
  repository / zone / column or one location, in_ftz, moved; a bad value is a 400 with the field's
  message), detail with its items grouped as on the page, the count of items hidden from the user, the
  available steps and the event trail; `items/` lists one archive's items. Reading an archive or an item
  is logged as the pages log it.
- items: detail, and `download/` — the same watermarked, logged copy as the staff download page
  (views/access.py item_download): refusals are logged and answer 403, a missing file 404.

Permissions as the pages: archives.view_archivefile for archives, plus archives.view_archiveitem for items;
controlled (控制/内部) items only with archives.view_controlled_items; another authority's archive is a 404.
Writes (shelving, moves, merges, uploads) stay on the pages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bizreg.archives.api.common import ActionPermissions, form_errors
from bizreg.archives.forms import ArchiveFilterForm
from bizreg.archives.models import (
    ArchiveAccessLog,
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
)
from bizreg.archives.selectors import records as selectors
from bizreg.archives.services import access as access_services
from bizreg.archives.services.access_log import log_access, viewer_name
from bizreg.core.api_router import router

VIEW_ARCHIVE = "archives.view_archivefile"
VIEW_ITEM = "archives.view_archiveitem"


class ArchiveItemSerializer(serializers.ModelSerializer):
    doc_type_display = serializers.CharField(source="get_doc_type_display", read_only=True)
    open_status_display = serializers.CharField(source="get_open_status_display", read_only=True)
    classification_display = serializers.CharField(source="get_classification_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    digitization_display = serializers.CharField(source="get_digitization_display", read_only=True)
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = ArchiveItem
        fields = [
            "id",
            "archive",
            "item_number",
            "archival_code",
            "case_number",
            "doc_type",
            "doc_type_display",
            "title",
            "responsible_party",
            "doc_date",
            "doc_number",
            "pages",
            "classification",
            "classification_display",
            "open_status",
            "open_status_display",
            "keywords",
            "source",
            "source_display",
            "digitization",
            "digitization_display",
            "digitized_at",
            "has_file",
            "e_file_sha256",
            "e_file_size",
            "flags",
        ]
        read_only_fields = fields

    def get_has_file(self, item: ArchiveItem) -> bool:
        return bool(item.e_file)


class ArchiveItemDetailSerializer(ArchiveItemSerializer):
    archive_code = serializers.CharField(source="archive.archival_code", read_only=True)
    enterprise_name = serializers.CharField(source="archive.enterprise_name", read_only=True)
    uscc = serializers.CharField(source="archive.uscc", read_only=True)

    class Meta(ArchiveItemSerializer.Meta):
        fields = [*ArchiveItemSerializer.Meta.fields, "archive_code", "enterprise_name", "uscc", "text"]
        read_only_fields = fields


class ArchiveFileSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    retention_display = serializers.CharField(source="get_retention_display", read_only=True)
    location_label = serializers.SerializerMethodField()
    merged_into_code = serializers.CharField(source="merged_into.archival_code", read_only=True, default="")
    in_ftz = serializers.SerializerMethodField()
    item_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = ArchiveFile
        fields = [
            "id",
            "authority",
            "archival_code",
            "fonds_code",
            "category_code",
            "year",
            "retention",
            "retention_display",
            "organization_code",
            "enterprise",
            "enterprise_name",
            "uscc",
            "in_ftz",
            "status",
            "status_display",
            "location",
            "location_label",
            "shelved_at",
            "moved_in_from",
            "moved_out_to",
            "merged_into",
            "merged_into_code",
            "note",
            "item_count",
        ]
        read_only_fields = fields

    def get_location_label(self, archive: ArchiveFile) -> str:
        return archive.location.label if archive.location_id else ""

    def get_in_ftz(self, archive: ArchiveFile) -> bool:
        return bool(archive.enterprise_id and archive.enterprise.in_ftz)


class ItemGroupSerializer(serializers.Serializer):
    case_number = serializers.CharField()
    case_id = serializers.IntegerField(allow_null=True, help_text="仅当用户可查看该登记业务时有值")
    pages = serializers.IntegerField()
    items = ArchiveItemSerializer(many=True)

    def to_representation(self, group):
        data = super().to_representation(group)
        if not group.case_visible:
            data["case_id"] = None
        return data


class ArchiveEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.StringRelatedField()
    reason = serializers.CharField()


class ArchiveFileDetailSerializer(ArchiveFileSerializer):
    item_groups = serializers.SerializerMethodField()
    hidden_item_count = serializers.SerializerMethodField(help_text="因控制使用而未显示的档案件数")
    available_actions = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(ArchiveFileSerializer.Meta):
        fields = [
            *ArchiveFileSerializer.Meta.fields,
            "item_groups",
            "hidden_item_count",
            "available_actions",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(ItemGroupSerializer(many=True))
    def get_item_groups(self, archive: ArchiveFile) -> list[dict]:
        groups = selectors.item_groups(user=self.context["request"].user, archive=archive)
        return ItemGroupSerializer(groups, many=True).data

    def get_hidden_item_count(self, archive: ArchiveFile) -> int:
        return selectors.hidden_item_count(user=self.context["request"].user, archive=archive)

    def get_available_actions(self, archive: ArchiveFile) -> list[str]:
        return [
            t.action for t in selectors.archive_actions(archive=archive, user=self.context["request"].user)
        ]

    @extend_schema_field(ArchiveEventSerializer(many=True))
    def get_events(self, archive: ArchiveFile) -> list[dict]:
        events = selectors.archive_events(user=self.context["request"].user, archive=archive)
        return ArchiveEventSerializer(events, many=True).data


ARCHIVE_FILTERS = [
    OpenApiParameter("q", str, description="企业名称、统一社会信用代码（前缀）或档号（前缀）"),
    OpenApiParameter("status", str, enum=ArchiveStatus.values),
    OpenApiParameter("year", int, description="建档年度"),
    OpenApiParameter("repository", str, description="库房（库位所在库房的名称）"),
    OpenApiParameter("zone", str, description="区"),
    OpenApiParameter("column", int, description="列"),
    OpenApiParameter("location", int, description="库位 id（一层库位）"),
    OpenApiParameter("in_ftz", str, enum=["1", "0"], description="自贸区企业"),
    OpenApiParameter("moved", str, enum=["out", "in", "any", "merged"], description="迁出/迁入/合并"),
]


@extend_schema_view(
    list=extend_schema(summary="企业档案", parameters=ARCHIVE_FILTERS),
    retrieve=extend_schema(summary="档案详情（档案件、操作记录；记入档案利用日志）"),
)
class ArchiveFileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """本人所属登记机关的企业档案（档案人员、科室负责人、业务部门查询人员）。"""

    queryset = ArchiveFile.objects.none()
    filter_backends: list = []
    permission_classes = [ActionPermissions]
    read_perms = (VIEW_ARCHIVE,)
    action_perms = {"items": (VIEW_ARCHIVE, VIEW_ITEM)}

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ArchiveFileDetailSerializer
        if self.action == "items":
            return ArchiveItemSerializer
        return ArchiveFileSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ArchiveFile.objects.none()
        user = self.request.user
        params = self.request.query_params
        form = ArchiveFilterForm(params or None, shelves=selectors.shelves_visible_to(user))
        if params and not form.is_valid():
            raise form_errors(form)
        return selectors.archive_search(user=user, filters=form.cleaned_data if params else {})

    def get_object(self):
        archive = selectors.archive_for(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, archive)
        return archive

    def retrieve(self, request, *args, **kwargs):
        archive = self.get_object()
        log_access(
            user=request.user,
            who=viewer_name(request.user),
            archive=archive,
            action=ArchiveAccessLog.Action.VIEW,
            detail="查看档案详情（接口）",
            request=request,
        )
        return Response(self.get_serializer(archive).data)

    @extend_schema(
        summary="档案的档案件（不含无权查看的控制使用件）", responses=ArchiveItemSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        archive = self.get_object()
        queryset = selectors.items_visible(user=request.user, archive=archive)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ArchiveItemSerializer(page, many=True).data)


@extend_schema_view(retrieve=extend_schema(summary="档案件详情（含全文；记入档案利用日志）"))
class ArchiveItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """档案件。列表见 /api/archive-files/{id}/items/。"""

    queryset = ArchiveItem.objects.none()
    serializer_class = ArchiveItemDetailSerializer
    filter_backends: list = []
    permission_classes = [ActionPermissions]
    read_perms = (VIEW_ARCHIVE, VIEW_ITEM)
    # The download checks the user itself so that every refusal is logged, as the download page does.
    action_perms = {"download": ()}

    def get_object(self):
        item = selectors.item_for(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, item)
        return item

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        log_access(
            user=request.user,
            who=viewer_name(request.user),
            item=item,
            action=ArchiveAccessLog.Action.VIEW,
            detail="查看档案件（接口）",
            request=request,
        )
        return Response(self.get_serializer(item).data)

    @extend_schema(
        summary="下载档案件 PDF（带水印，记入档案利用日志）",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        item = access_services.staff_item_to_open(user=request.user, pk=pk, request=request)
        try:
            data, _text = access_services.watermarked_copy(
                item=item, who=viewer_name(request.user), user=request.user, request=request
            )
        except DjangoValidationError as exc:
            raise exceptions.NotFound(" ".join(exc.messages)) from None
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{item.archival_code}.pdf"
        )
        response["Cache-Control"] = "private, no-store"
        return response


router.register("archive-files", ArchiveFileViewSet, basename="archive-file")
router.register("archive-items", ArchiveItemViewSet, basename="archive-item")
