"""REST API of the information-entry/guidance records (/api/registration-service-records/).

List (filters as the page: kind, staff, date_from, date_to, q; newest first) and create (the acting user is
the staff member). Scoped to the user's authorities; bad input answers 400 with field errors.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from bizreg.core.api_router import router
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.registration.forms.records import ServiceRecordFilterForm
from bizreg.registration.models import ServiceRecord
from bizreg.registration.selectors import records as selectors
from bizreg.registration.services import records as services


class ServiceRecordSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    staff_name = serializers.CharField(source="staff.__str__", read_only=True)
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True, default="")
    case_number = serializers.CharField(source="case.number", read_only=True, default="")

    class Meta:
        model = ServiceRecord
        fields = [
            "id",
            "kind",
            "kind_display",
            "staff",
            "staff_name",
            "enterprise",
            "enterprise_name",
            "enterprise_uscc",
            "case",
            "case_number",
            "occurred_at",
            "minutes",
            "note",
        ]
        read_only_fields = fields


class ServiceRecordInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ServiceRecord.Kind.choices)
    minutes = serializers.IntegerField()
    enterprise = serializers.CharField(
        max_length=200, help_text="统一社会信用代码或登记簿中的完整名称；尚未登记的企业填写名称"
    )
    case_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    occurred_at = serializers.DateTimeField(required=False)


@extend_schema_view(
    list=extend_schema(summary="信息录入与一网通办指引记录"),
    create=extend_schema(
        summary="新增信息录入/指引记录", request=ServiceRecordInput, responses={201: ServiceRecordSerializer}
    ),
)
class ServiceRecordViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ServiceRecordSerializer
    queryset = ServiceRecord.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceRecord.objects.none()
        form = ServiceRecordFilterForm(self.request.query_params or None, user=self.request.user)
        if self.request.query_params and not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        filters = form.cleaned_data if self.request.query_params else {}
        return selectors.service_record_search(user=self.request.user, filters=filters)

    def create(self, request, *args, **kwargs):
        data = ServiceRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        if not user.is_superuser and not authority_ids_for(user):
            raise exceptions.PermissionDenied("您的账号未分配登记机关。")
        case = None
        if values.get("case_number"):
            case = selectors.case_by_number(user=user, number=values["case_number"])
            if case is None:
                raise serializers.ValidationError({"case_number": ["没有找到该业务编号的业务。"]})
        text = values["enterprise"].strip()
        enterprise = selectors.enterprise_matching(user=user, text=text)
        if enterprise is None and selectors.looks_like_uscc(text):
            raise serializers.ValidationError({"enterprise": ["登记簿中没有该统一社会信用代码的商事主体。"]})
        try:
            record = services.service_record_create(
                authority=default_authority_for(user),
                actor=user,
                kind=values["kind"],
                minutes=values["minutes"],
                enterprise=enterprise,
                enterprise_name="" if enterprise else text,
                case=case,
                note=values.get("note", ""),
                occurred_at=values.get("occurred_at"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(ServiceRecordSerializer(record).data, status=status.HTTP_201_CREATED)


router.register("registration-service-records", ServiceRecordViewSet, basename="registration-service-record")
