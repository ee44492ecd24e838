"""REST API of licence stock (/api/licence-batches/, /api/licence-sheets/): receipt, printing, spoil, void."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bizreg.core.api_router import router
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.registration.api.documents import Conflict, as_drf_error, has_perms
from bizreg.registration.models import LicenceBatch, LicenceKind, LicenceSheet
from bizreg.registration.selectors import licences as selectors
from bizreg.registration.services import licences as services

MANAGE = "registration.manage_licence_stock"
PRINT = "registration.print_licence"


class LicenceBatchSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    received_by = serializers.StringRelatedField()
    sheet_count = serializers.IntegerField(read_only=True)
    blank_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = LicenceBatch
        fields = [
            "id",
            "authority",
            "kind",
            "kind_display",
            "prefix",
            "serial_start",
            "serial_end",
            "unit_cost",
            "received_on",
            "supplier",
            "received_by",
            "sheet_count",
            "blank_count",
        ]
        read_only_fields = ["authority", "received_by"]
        extra_kwargs = {"prefix": {"required": False}, "supplier": {"required": False}}

    def create(self, validated_data):
        user = self.context["request"].user
        if not user.is_superuser and not authority_ids_for(user):
            raise exceptions.PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
        try:
            batch = services.licence_batch_receive(
                authority=default_authority_for(user), actor=user, **validated_data
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        batch.sheet_count = batch.serial_end - batch.serial_start + 1
        batch.blank_count = batch.sheet_count
        return batch


class LicenceSheetSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True, default="")
    used_by = serializers.StringRelatedField()
    replaced_by = serializers.SlugRelatedField(slug_field="serial", read_only=True)

    class Meta:
        model = LicenceSheet
        fields = [
            "id",
            "authority",
            "batch",
            "kind",
            "kind_display",
            "serial",
            "status",
            "status_display",
            "case",
            "case_number",
            "used_at",
            "used_by",
            "reason",
            "retired_at",
            "replaced_by",
        ]
        read_only_fields = fields


class PrintRequestSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LicenceKind.choices)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class SpoilRequestSerializer(ReasonSerializer):
    reprint = serializers.BooleanField(default=True)


@extend_schema_view(
    list=extend_schema(summary="执照纸入库批次"),
    retrieve=extend_schema(summary="入库批次详情"),
    create=extend_schema(summary="登记入库（按编号段生成执照纸）"),
)
class LicenceBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """营业执照空白纸入库批次；编号段与已入库批次重叠的会被拒绝。"""

    serializer_class = LicenceBatchSerializer
    queryset = LicenceBatch.objects.none()
    filterset_fields = ["kind"]

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action == "create":
            permissions.append(has_perms(MANAGE, message=_("只有管理执照库存的人员可以登记入库。"))())
        return permissions

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LicenceBatch.objects.none()
        return selectors.batches_visible_to(self.request.user).order_by("-received_on", "-id")


@extend_schema_view(list=extend_schema(summary="执照纸台账"), retrieve=extend_schema(summary="执照纸详情"))
class LicenceSheetViewSet(viewsets.ReadOnlyModelViewSet):
    """每张执照纸的编号与状态（空白、已打印、打印损坏、作废）。"""

    serializer_class = LicenceSheetSerializer
    queryset = LicenceSheet.objects.none()
    filterset_fields = ["kind", "status", "case"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LicenceSheet.objects.none()
        return selectors.sheets_visible_to(self.request.user).order_by("authority_id", "kind", "number", "id")

    @extend_schema(
        summary="库存与补货预警",
        responses=inline_serializer(
            "LicenceStockLevel",
            {
                "authority": serializers.IntegerField(),
                "kind": serializers.CharField(),
                "blank": serializers.IntegerField(),
                "printed": serializers.IntegerField(),
                "spoiled": serializers.IntegerField(),
                "voided": serializers.IntegerField(),
                "reorder_level": serializers.IntegerField(),
                "below_reorder_level": serializers.BooleanField(),
            },
            many=True,
        ),
    )
    @action(detail=False, methods=["get"])
    def stock(self, request):
        return Response(
            [
                {
                    "authority": level.authority.pk,
                    "kind": level.kind,
                    "blank": level.blank,
                    "printed": level.printed,
                    "spoiled": level.spoiled,
                    "voided": level.voided,
                    "reorder_level": level.reorder_level,
                    "below_reorder_level": level.below_reorder_level,
                }
                for level in selectors.stock_levels(user=request.user)
            ]
        )

    @extend_schema(
        summary="为业务打印营业执照", request=PrintRequestSerializer, responses={201: LicenceSheetSerializer}
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="print",
        permission_classes=[
            has_perms(PRINT, "registration.view_registrationcase", message=_("您无权打印营业执照。"))
        ],
    )
    def print_licence(self, request):
        body = PrintRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = selectors.case_printable_for(user=request.user, pk=body.validated_data["case"])
        try:
            sheet = services.licence_print(case=case, kind=body.validated_data["kind"], actor=request.user)
        except services.LicenceError as exc:
            raise Conflict(str(exc)) from None
        return Response(LicenceSheetSerializer(sheet).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="登记打印损坏（默认重新打印）",
        request=SpoilRequestSerializer,
        responses=LicenceSheetSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms(PRINT, message=_("您无权登记打印损坏。"))],
    )
    def spoil(self, request, pk=None):
        sheet = self.get_object()
        body = SpoilRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            replacement = services.licence_spoil(sheet=sheet, actor=request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        except services.LicenceError as exc:
            raise Conflict(str(exc)) from None
        sheet.refresh_from_db()
        data = LicenceSheetSerializer(sheet).data
        data["replacement"] = LicenceSheetSerializer(replacement).data if replacement else None
        return Response(data)

    @extend_schema(summary="作废执照纸", request=ReasonSerializer, responses=LicenceSheetSerializer)
    @action(detail=True, methods=["post"], permission_classes=[has_perms("registration.view_licencesheet")])
    def void(self, request, pk=None):
        sheet = self.get_object()
        needed = MANAGE if sheet.status == LicenceSheet.Status.BLANK else PRINT
        if not request.user.has_perm(needed):
            raise exceptions.PermissionDenied(_("您的角色无权作废该执照纸。"))
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            sheet = services.licence_void(sheet=sheet, actor=request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        except services.LicenceError as exc:
            raise Conflict(str(exc)) from None
        return Response(LicenceSheetSerializer(sheet).data)


router.register("licence-batches", LicenceBatchViewSet, basename="licence-batch")
router.register("licence-sheets", LicenceSheetViewSet, basename="licence-sheet")
