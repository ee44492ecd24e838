"""REST API of registration cases (/api/registration-cases/): intake through services.cases.case_intake,
workflow steps through case_transition, scoped by authority (another authority's case answers 404).

Answers: 201/200 with the case; 400 with field errors; 403 for a role that may not take the step; 409
{"detail": reason} for a step the case's state (or type) does not allow — nothing is changed then.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from bizreg.core.api import CappedCountPagination, FullPersonalDataMixin
from bizreg.core.api_router import router
from bizreg.core.masking import mask_id_number, mask_person_name, mask_phone
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.registration.models import (
    CASE_WORKFLOW,
    CaseExtension,
    CaseState,
    CaseType,
    Channel,
    RegistrationCase,
)
from bizreg.registration.selectors import cases as selectors
from bizreg.registration.services import cases as services

FULL_PERM = "core.view_full_personal_data"
VIEW_PERM = "registration.view_registrationcase"


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


def _call(func, **kwargs):
    """Run a service, turning its refusals into the API's answers."""
    try:
        return func(**kwargs)
    except DjangoValidationError as exc:
        raise _as_drf_error(exc) from None
    except TransitionNotAllowed as exc:
        raise Conflict(str(exc)) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from None


_PERSON_MASKS = {
    "applicant_name": mask_person_name,
    "applicant_id_number": mask_id_number,
    "applicant_phone": mask_phone,
    "agent_name": mask_person_name,
    "agent_id_number": mask_id_number,
    "agent_phone": mask_phone,
}


class RegistrationCaseSerializer(serializers.ModelSerializer):
    case_type_display = serializers.CharField(source="get_case_type_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    received_by = serializers.StringRelatedField()
    due_status = serializers.SerializerMethodField(help_text="overdue / due_today / due_soon / on_track / 空")

    class Meta:
        model = RegistrationCase
        fields = [
            "id",
            "number",
            "external_id",
            "authority",
            "case_type",
            "case_type_display",
            "channel",
            "channel_display",
            "state",
            "state_display",
            "enterprise",
            "enterprise_name",
            "uscc",
            "requested_changes",
            "investigation_reference",
            "applicant_name",
            "applicant_id_number",
            "applicant_phone",
            "agent_name",
            "agent_id_number",
            "agent_phone",
            "received_at",
            "received_by",
            "accepted_at",
            "due_on",
            "due_status",
            "extended",
            "decided_at",
            "licensed_at",
            "archived_at",
            "paused_working_days",
            "on_the_spot",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_due_status(self, obj: RegistrationCase) -> str:
        if obj.state != CaseState.ACCEPTED:
            return ""  # only a case on the clock has one; the calendar need not be read
        dates = self.context.get("due_dates")
        if dates is None:
            dates = self.context["due_dates"] = selectors.due_dates()
        return selectors.case_due_status(obj, dates)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("full_id"):
            for name, mask in _PERSON_MASKS.items():
                data[name] = mask(data[name])
            changes = dict(data.get("requested_changes") or {})
            if changes.get("legal_rep_id_number"):
                changes["legal_rep_id_number"] = mask_id_number(changes["legal_rep_id_number"])
            data["requested_changes"] = changes
        return data


class CaseMaterialOut(serializers.Serializer):
    code = serializers.CharField(source="requirement.code")
    name = serializers.CharField(source="requirement.name")
    mandatory = serializers.BooleanField(source="requirement.mandatory")
    received = serializers.BooleanField()


class CaseDeficiencyOut(serializers.Serializer):
    round = serializers.IntegerField()
    description = serializers.CharField()
    resolved = serializers.BooleanField()


class CaseTransitionOut(serializers.Serializer):
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.StringRelatedField()
    occurred_at = serializers.DateTimeField()
    reason = serializers.CharField()


class RegistrationCaseDetailSerializer(RegistrationCaseSerializer):
    materials = CaseMaterialOut(many=True, read_only=True)
    deficiencies = CaseDeficiencyOut(many=True, read_only=True)
    transitions = CaseTransitionOut(many=True, read_only=True)
    available_actions = serializers.SerializerMethodField()
    working_days_used = serializers.SerializerMethodField()

    class Meta(RegistrationCaseSerializer.Meta):
        fields = [
            *RegistrationCaseSerializer.Meta.fields,
            "materials",
            "deficiencies",
            "transitions",
            "available_actions",
            "working_days_used",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, obj: RegistrationCase) -> list[str]:
        user = self.context["request"].user
        return [t.action for t in selectors.case_available_actions(case=obj, user=user)]

    @extend_schema_field(OpenApiTypes.INT)
    def get_working_days_used(self, obj: RegistrationCase) -> int | None:
        return selectors.case_clock(case=obj).used


class CaseIntakeSerializer(serializers.Serializer):
    """Input of an intake; every rule is checked by services.cases.case_intake (errors per field)."""

    case_type = serializers.ChoiceField(choices=CaseType.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    enterprise = serializers.IntegerField(required=False, allow_null=True, help_text="登记簿中商事主体的 id")
    enterprise_uscc = serializers.CharField(required=False, allow_blank=True, max_length=40)
    enterprise_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    uscc = serializers.CharField(required=False, allow_blank=True, max_length=40)
    applicant_name = serializers.CharField(max_length=50)
    applicant_id_number = serializers.CharField(max_length=30)
    applicant_phone = serializers.CharField(max_length=20)
    agent_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    agent_id_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    agent_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    materials = serializers.ListField(
        child=serializers.JSONField(), required=False, help_text="已收材料：材料代码（或清单 id）的列表"
    )
    requested_changes = serializers.DictField(required=False, help_text='申请事项，如 {"address": "…"}')
    investigation_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    received_at = serializers.DateTimeField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if field.label:
                field.error_messages["required"] = _("请填写该项。")


class TransitionRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a, t.label) for a, t in CASE_WORKFLOW.transitions.items()])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    deficiencies = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text='退回补正：全部补正事项（文字，或 {"requirement": 材料代码, "description": 文字}）',
    )
    materials = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="补正后重新提交：本次补交的材料清单 id"
    )


class ExtensionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ExtensionDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ExtensionOut(serializers.ModelSerializer):
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CaseExtension
        fields = [
            "id",
            "case",
            "reason",
            "status",
            "status_display",
            "requested_by",
            "decided_by",
            "decided_at",
        ]


class CanViewCases(BasePermission):
    message = _("您没有查看登记业务的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(VIEW_PERM))


class CasePagination(CappedCountPagination):
    """Page numbers; the count stops at selectors.COUNT_CAP (then count_capped is true)."""

    page_size = selectors.PAGE_SIZE
    django_paginator_class = selectors.CasePaginator


FULL_ID_PARAMETER = OpenApiParameter(
    "full_id",
    OpenApiTypes.STR,
    enum=["1"],
    description=(
        "=1 时返回申请人、代理人的完整姓名、身份证号和手机（需“查看完整个人身份信息”权限，记入访问日志）"
    ),
)


@extend_schema_view(
    list=extend_schema(summary="查询登记业务", parameters=[FULL_ID_PARAMETER]),
    retrieve=extend_schema(summary="登记业务详情", parameters=[FULL_ID_PARAMETER]),
    create=extend_schema(
        summary="收件（受理登记申请）",
        request=CaseIntakeSerializer,
        responses={201: RegistrationCaseSerializer},
    ),
)
class RegistrationCaseViewSet(
    FullPersonalDataMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """登记业务。列表支持与页面相同的 q 搜索、筛选（业务类型、渠道、状态、收件日期、办理时限、收件人）
    与排序（sort）。"""

    serializer_class = RegistrationCaseSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = selectors.CaseFilterSet
    pagination_class = CasePagination
    queryset = RegistrationCase.objects.none()
    personal_data_object_type = "registration.RegistrationCase"
    personal_data_fields = (
        "applicant_name,applicant_id_number,applicant_phone,agent_name,agent_id_number,agent_phone"
    )

    def personal_data_label(self, obj: RegistrationCase) -> str:
        return f"{obj.number} {obj.enterprise_name}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RegistrationCase.objects.none()
        if self.action == "list":
            return selectors.api_queryset(user=self.request.user)
        if self.action == "retrieve":
            return selectors.api_detail_queryset(user=self.request.user)
        return selectors.cases_visible_to(self.request.user).select_related("authority", "enterprise")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return RegistrationCaseDetailSerializer
        return RegistrationCaseSerializer

    def create(self, request, *args, **kwargs):
        body = CaseIntakeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user
        if not user.is_superuser and not authority_ids_for(user):
            raise exceptions.PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
        case = _call(
            services.case_intake, authority=default_authority_for(user), actor=user, data=body.validated_data
        )
        return Response(self.get_serializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="办理登记业务的一个环节",
        request=TransitionRequestSerializer,
        responses={200: RegistrationCaseSerializer},
        description=(
            "action：pass_pre_review 预审通过、return_for_correction 退回补正"
            "（deficiencies 一次性列明）、resubmit 补正后重新提交、accept 受理、approve 核准、"
            "reject 不予登记（reason 必填）、issue_licence 发照、archive 归档、withdraw 撤回申请。"
            "状态不允许时返回 409 及原因，角色无权时返回 403。"
        ),
    )
    @action(detail=True, methods=["post"], permission_classes=[CanViewCases])
    def transition(self, request, pk=None):
        case = self.get_object()
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        case = _call(services.case_transition, case=case, actor=request.user, **data)
        return Response(self.get_serializer(case).data)

    @extend_schema(
        summary="申请延长办理期限", request=ExtensionRequestSerializer, responses={201: ExtensionOut}
    )
    @action(detail=True, methods=["post"], permission_classes=[CanViewCases])
    def extension(self, request, pk=None):
        case = self.get_object()
        body = ExtensionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        extension = _call(
            services.case_extension_request, case=case, actor=request.user, **body.validated_data
        )
        return Response(ExtensionOut(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="审批延长办理期限（科室负责人）",
        request=ExtensionDecisionSerializer,
        responses={200: ExtensionOut},
    )
    @action(detail=True, methods=["post"], url_path="extension/decide", permission_classes=[CanViewCases])
    def extension_decide(self, request, pk=None):
        case = self.get_object()
        body = ExtensionDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        extension = selectors.case_extension(case=case)
        if extension is None:
            raise Conflict(_("该业务没有延长办理期限的申请。"))
        extension = _call(
            services.case_extension_decide, extension=extension, actor=request.user, **body.validated_data
        )
        return Response(ExtensionOut(extension).data)


router.register("registration-cases", RegistrationCaseViewSet, basename="registration-case")
