"""REST API of the register (/api/enterprises/): the pages' search, filters, validation and scoping."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from bizreg.core.api import CappedCountPagination, FullPersonalDataMixin
from bizreg.core.api_router import router
from bizreg.core.masking import mask_id_number
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.enterprises import selectors, services
from bizreg.enterprises.filters import EnterpriseFilterSet
from bizreg.enterprises.models import Enterprise, EnterpriseLock

FULL_ID_PERM = "core.view_full_personal_data"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("当前状态不允许该操作。")
    default_code = "conflict"


def _as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(
            {name: list(messages) for name, messages in exc.message_dict.items()}
        )
    return serializers.ValidationError({"non_field_errors": exc.messages})


class EnterpriseSerializer(serializers.ModelSerializer):
    entity_type_display = serializers.CharField(source="get_entity_type_display", read_only=True)
    industry_display = serializers.CharField(source="get_industry_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    street_name = serializers.CharField(source="street.name", read_only=True)
    former_names = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    is_locked = serializers.SerializerMethodField()
    legal_rep_id_number = serializers.CharField(
        max_length=30, help_text="输出时默认脱敏；有权限的用户加 ?full_id=1 可取完整号码（记入访问日志）"
    )
    uscc_exception_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="仅科室负责人：确认仅第 18 位校验码不符的代码为合法核发的例外",
    )

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            "uscc_is_exception",
            "name",
            "name_initials",
            "former_names",
            "entity_type",
            "entity_type_display",
            "legal_rep_name",
            "legal_rep_id_number",
            "registered_capital",
            "established_on",
            "business_scope",
            "industry",
            "industry_display",
            "address",
            "street",
            "street_name",
            "in_ftz",
            "ftz_area",
            "ftz_rule",
            "ftz_override",
            "ftz_override_reason",
            "status",
            "status_display",
            "status_changed_on",
            "is_locked",
            "authority",
            "created_at",
            "updated_at",
            "uscc_exception_reason",
        ]
        read_only_fields = [
            "uscc_is_exception",
            "name_initials",
            "in_ftz",
            "ftz_area",
            "ftz_rule",
            "authority",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            # The service checks these (with the register's own messages); no second, generic check here.
            "uscc": {"validators": [], "max_length": 40},
            "registered_capital": {"help_text": "单位：元"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if field.read_only or not field.label:
                continue
            choose = isinstance(field, serializers.ChoiceField | serializers.RelatedField)
            message = (_("请选择%(label)s。") if choose else _("请填写%(label)s。")) % {"label": field.label}
            for key in ("required", "blank", "null"):
                field.error_messages[key] = message

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_locked(self, obj: Enterprise) -> bool:
        flag = getattr(obj, "is_locked", None)
        if flag is None:
            flag = services.enterprise_lock_state(obj) is not None
        return bool(flag)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("full_id"):
            data["legal_rep_id_number"] = mask_id_number(instance.legal_rep_id_number)
        return data

    def create(self, validated_data):
        request = self.context["request"]
        user = request.user
        if not user.is_superuser and not authority_ids_for(user):
            raise exceptions.PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
        try:
            return services.enterprise_create(
                actor=user, authority=default_authority_for(user), **validated_data
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from None

    def update(self, instance, validated_data):
        try:
            return services.enterprise_update(
                enterprise=instance, actor=self.context["request"].user, **validated_data
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from None
        except services.EnterpriseError as exc:
            raise Conflict(str(exc)) from None


class LockRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    case_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class UnlockRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class EnterpriseLockSerializer(serializers.ModelSerializer):
    locked_by = serializers.StringRelatedField()
    released_by = serializers.StringRelatedField()

    class Meta:
        model = EnterpriseLock
        fields = [
            "id",
            "enterprise",
            "locked_by",
            "locked_at",
            "reason",
            "case_reference",
            "released_by",
            "released_at",
            "release_reason",
        ]


class EnterprisePagination(CappedCountPagination):
    """Page numbers as usual; the count stops at selectors.COUNT_CAP (then count_capped is true)."""

    page_size = selectors.PAGE_SIZE
    django_paginator_class = selectors.EnterprisePaginator


class CanLock(BasePermission):
    message = _("您没有锁定/解锁商事主体的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.has_perms(["enterprises.view_enterprise", "enterprises.lock_enterprise"])
        )


FULL_ID_PARAMETER = OpenApiParameter(
    "full_id",
    OpenApiTypes.STR,
    enum=["1"],
    description="=1 时返回完整身份证号（需“查看完整个人身份信息”权限，记入访问日志）",
)


@extend_schema_view(
    list=extend_schema(summary="查询商事主体", parameters=[FULL_ID_PARAMETER]),
    retrieve=extend_schema(summary="商事主体详情", parameters=[FULL_ID_PARAMETER]),
    create=extend_schema(summary="登记商事主体"),
    update=extend_schema(summary="修改商事主体"),
    partial_update=extend_schema(summary="修改商事主体（部分字段）"),
)
class EnterpriseViewSet(FullPersonalDataMixin, viewsets.ModelViewSet):
    """商事主体登记簿。列表支持与页面相同的 q 搜索、筛选与排序（sort）；其他登记机关的主体不可见。"""

    serializer_class = EnterpriseSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = EnterpriseFilterSet
    pagination_class = EnterprisePagination
    # Register entries are never deleted: deregistration is a status (注销), kept with its history.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = Enterprise.objects.none()
    personal_data_object_type = "enterprises.Enterprise"
    personal_data_fields = "legal_rep_id_number"
    personal_data_denied_message = _("您没有查看完整身份证号的权限。")

    def personal_data_label(self, obj: Enterprise) -> str:
        return obj.name

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enterprise.objects.none()
        return selectors.enterprise_api_queryset(user=self.request.user)

    @extend_schema(
        summary="锁定商事主体", request=LockRequestSerializer, responses={201: EnterpriseLockSerializer}
    )
    @action(detail=True, methods=["post"], permission_classes=[CanLock])
    def lock(self, request, pk=None):
        enterprise = self.get_object()
        body = LockRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            lock = services.enterprise_lock(enterprise=enterprise, actor=request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from None
        except services.EnterpriseError as exc:
            raise Conflict(str(exc)) from None
        return Response(EnterpriseLockSerializer(lock).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="解锁商事主体", request=UnlockRequestSerializer, responses={200: EnterpriseLockSerializer}
    )
    @action(detail=True, methods=["post"], permission_classes=[CanLock])
    def unlock(self, request, pk=None):
        enterprise = self.get_object()
        body = UnlockRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            lock = services.enterprise_unlock(
                enterprise=enterprise, actor=request.user, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from None
        except services.EnterpriseError as exc:
            raise Conflict(str(exc)) from None
        return Response(EnterpriseLockSerializer(lock).data)


router.register("enterprises", EnterpriseViewSet, basename="enterprise")
