"""REST API of notices (/api/registration-notices/): read-only, scoped by authority, PDF download."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission

from bizreg.core.api_router import router
from bizreg.registration.models import Notice
from bizreg.registration.selectors import documents as selectors
from bizreg.registration.services import documents as services


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("当前状态不允许该操作。")
    default_code = "conflict"


def as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError({name: list(msgs) for name, msgs in exc.message_dict.items()})
    return serializers.ValidationError({"non_field_errors": exc.messages})


def has_perms(*perms: str, message: str = "") -> type[BasePermission]:
    """A DRF permission class requiring all of `perms` (for actions beyond the model's CRUD)."""

    class HasPerms(BasePermission):
        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(perms))

    HasPerms.message = message or _("您没有执行该操作的权限。")
    return HasPerms


class NoticeSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    enterprise_name = serializers.CharField(source="case.enterprise_name", read_only=True)
    issued_by = serializers.StringRelatedField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "case",
            "case_number",
            "enterprise_name",
            "kind",
            "kind_display",
            "number",
            "verification_code",
            "issued_at",
            "issued_by",
            "sha256",
            "authority",
        ]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary="已签发文书"), retrieve=extend_schema(summary="文书详情"))
class NoticeViewSet(viewsets.ReadOnlyModelViewSet):
    """登记业务的文书（受理通知书、一次性告知书、准予/不予登记通知书等）。文书由业务流转签发，接口只读。"""

    serializer_class = NoticeSerializer
    queryset = Notice.objects.none()
    filterset_fields = ["kind", "case"]
    ordering_fields = ["issued_at", "number"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notice.objects.none()
        return selectors.notices_visible_to(self.request.user).order_by("-issued_at", "-id")

    @extend_schema(summary="下载文书 PDF", responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        notice = self.get_object()
        try:
            data = services.notice_stored_bytes(notice)
        except services.NoticeError as exc:
            raise Conflict(str(exc)) from None
        response = HttpResponse(data, content_type="application/pdf")
        filename = f"{notice.get_kind_display()}_{notice.number}.pdf"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response


router.register("registration-notices", NoticeViewSet, basename="registration-notice")
