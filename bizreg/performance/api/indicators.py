"""REST API of indicators (/api/performance-indicators/, list/detail) and their adjustments
(/api/performance-adjustments/, list; POST files a request through the service, 400 with the refusal).
Scoped to the user's authorities: another authority's indicator answers 404."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from bizreg.core.api import ModelPermissionsWithView
from bizreg.core.api_router import router
from bizreg.performance.models import AdjustmentStatus, Indicator, IndicatorAdjustment
from bizreg.performance.selectors import indicators as selectors
from bizreg.performance.services import indicators as services


class IndicatorSerializer(serializers.ModelSerializer):
    level1_display = serializers.CharField(source="get_level1_display", read_only=True)
    level2_display = serializers.CharField(source="get_level2_display", read_only=True)
    direction_display = serializers.CharField(source="get_direction_display", read_only=True)
    target_display = serializers.CharField(read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "project",
            "code",
            "order",
            "level1",
            "level1_display",
            "level2",
            "level2_display",
            "name",
            "unit",
            "direction",
            "direction_display",
            "target_value",
            "target_text",
            "target_display",
            "weight",
            "original_target_value",
            "original_target_text",
            "original_weight",
            "metric_key",
            "data_source",
            "manual_value",
            "manual_text",
            "evidence_note",
            "qualitative_tier",
            "qualitative_percent",
            "deviation_note",
        ]
        read_only_fields = fields


class AdjustmentSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.__str__", read_only=True)

    class Meta:
        model = IndicatorAdjustment
        fields = [
            "id",
            "indicator",
            "status",
            "status_display",
            "old_target_value",
            "new_target_value",
            "old_target_text",
            "new_target_text",
            "old_weight",
            "new_weight",
            "counterpart",
            "reason",
            "suggested_by_monitoring",
            "requested_by",
            "requested_by_name",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class AdjustmentInput(serializers.Serializer):
    indicator = serializers.IntegerField()
    new_target_value = serializers.DecimalField(
        max_digits=16, decimal_places=4, required=False, allow_null=True
    )
    new_target_text = serializers.CharField(max_length=50, required=False, allow_blank=True)
    new_weight = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    counterpart = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True)
    suggested_by_monitoring = serializers.BooleanField(required=False, default=False)


@extend_schema_view(list=extend_schema(summary="绩效指标"), retrieve=extend_schema(summary="绩效指标详情"))
class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndicatorSerializer
    queryset = Indicator.objects.none()
    permission_classes = [ModelPermissionsWithView]
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Indicator.objects.none()
        qs = selectors.indicators_visible_to(self.request.user).order_by("project_id", "order", "code")
        project = self.request.query_params.get("project")
        if project:
            if not project.isdigit():
                raise serializers.ValidationError({"project": ["项目标识须为整数。"]})
            qs = qs.filter(project_id=int(project))
        return qs


@extend_schema_view(
    list=extend_schema(summary="指标调整申请"),
    create=extend_schema(
        summary="提交指标调整申请", request=AdjustmentInput, responses={201: AdjustmentSerializer}
    ),
)
class AdjustmentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = AdjustmentSerializer
    queryset = IndicatorAdjustment.objects.none()
    permission_classes = [ModelPermissionsWithView]
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IndicatorAdjustment.objects.none()
        filters = {}
        params = self.request.query_params
        if params.get("status"):
            if params["status"] not in AdjustmentStatus.values:
                raise serializers.ValidationError({"status": ["未知的状态。"]})
            filters["status"] = params["status"]
        if params.get("project"):
            if not params["project"].isdigit():
                raise serializers.ValidationError({"project": ["项目标识须为整数。"]})
            filters["project"] = int(params["project"])
        return selectors.adjustment_search(user=self.request.user, filters=filters)

    def create(self, request, *args, **kwargs):
        data = AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            indicator = selectors.indicator_for(request.user, values.pop("indicator"))
        except Http404:
            raise exceptions.NotFound("没有找到该绩效指标。") from None
        counterpart = None
        if values.get("counterpart"):
            try:
                counterpart = selectors.indicator_for(request.user, values["counterpart"])
            except Http404:
                raise serializers.ValidationError({"counterpart": ["没有找到该指标。"]}) from None
        values["counterpart"] = counterpart
        values["reason"] = values.get("reason", "")
        try:
            adjustment = services.request_adjustment(indicator=indicator, actor=request.user, **values)
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            raise serializers.ValidationError(detail) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(AdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED)


router.register("performance-indicators", IndicatorViewSet, basename="performance-indicator")
router.register("performance-adjustments", AdjustmentViewSet, basename="performance-adjustment")
