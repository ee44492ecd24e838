"""REST API of mail intake (/api/mail-packages/): record packages, link cases, log hand-overs."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bizreg.core.api_router import router
from bizreg.core.scoping import authority_ids_for, default_authority_for
from bizreg.registration.api.documents import Conflict, as_drf_error, has_perms
from bizreg.registration.models import Courier, MailHandover, MailPackage
from bizreg.registration.selectors import mail as selectors
from bizreg.registration.services import mail as services


class MailHandoverSerializer(serializers.ModelSerializer):
    from_user = serializers.StringRelatedField()
    to_user = serializers.StringRelatedField()

    class Meta:
        model = MailHandover
        fields = ["id", "from_user", "to_user", "purpose", "occurred_at"]


class MailPackageSerializer(serializers.ModelSerializer):
    direction_display = serializers.CharField(source="get_direction_display", read_only=True)
    courier_display = serializers.CharField(source="get_courier_display", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True, default="")
    recorded_by = serializers.StringRelatedField()
    handovers = MailHandoverSerializer(many=True, read_only=True)
    # Input only: checked by the service (format per courier, register lookup).
    courier = serializers.ChoiceField(choices=Courier.choices)
    tracking_number = serializers.CharField(max_length=60)
    uscc = serializers.CharField(max_length=30, required=False, allow_blank=True, write_only=True)
    documents = serializers.CharField(help_text="每行一个文件名称")

    class Meta:
        model = MailPackage
        fields = [
            "id",
            "authority",
            "direction",
            "direction_display",
            "courier",
            "courier_display",
            "tracking_number",
            "enterprise_name",
            "enterprise",
            "uscc",
            "documents",
            "case",
            "case_number",
            "address",
            "note",
            "recorded_at",
            "recorded_by",
            "reply_to",
            "handovers",
        ]
        read_only_fields = ["authority", "direction", "enterprise", "recorded_by", "reply_to"]
        extra_kwargs = {
            "enterprise_name": {"required": False},
            "recorded_at": {"required": False},
            "case": {"required": False},
        }

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "case" in fields and not fields["case"].read_only:
            from bizreg.core.scoping import scope_to_user
            from bizreg.registration.models import RegistrationCase

            fields["case"].queryset = scope_to_user(RegistrationCase.objects.all(), request.user)
            fields["case"].error_messages["does_not_exist"] = _("没有找到该业务。")
        return fields

    def create(self, validated_data):
        user = self.context["request"].user
        if not user.is_superuser and not authority_ids_for(user):
            raise exceptions.PermissionDenied(_("您的账号未分配登记机关，不能办理登记业务。"))
        try:
            return services.mail_receive(
                authority=default_authority_for(user), actor=user, **services.package_kwargs(validated_data)
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None


class HandoverRequestSerializer(serializers.Serializer):
    to_user = serializers.IntegerField()
    purpose = serializers.ChoiceField(choices=[(p, p) for p in services.HANDOVER_PURPOSES])


class LinkCaseRequestSerializer(serializers.Serializer):
    case_number = serializers.CharField(max_length=30)


@extend_schema_view(
    list=extend_schema(summary="邮寄件"),
    retrieve=extend_schema(summary="邮寄件详情（含交接记录）"),
    create=extend_schema(summary="登记邮寄收件"),
)
class MailPackageViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """邮寄收件与寄出。快递单号按快递公司的格式校验；每次交接都有记录。"""

    serializer_class = MailPackageSerializer
    queryset = MailPackage.objects.none()
    filterset_fields = ["direction", "courier", "case"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MailPackage.objects.none()
        return (
            selectors.packages_visible_to(self.request.user)
            .prefetch_related("handovers__from_user", "handovers__to_user")
            .order_by("-recorded_at", "-id")
        )

    @extend_schema(
        summary="登记交接", request=HandoverRequestSerializer, responses={201: MailHandoverSerializer}
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("registration.view_mailpackage", "registration.add_mailhandover")],
    )
    def handover(self, request, pk=None):
        package = self.get_object()
        body = HandoverRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        to_user = (
            selectors.handover_recipients(user=request.user, package=package)
            .filter(pk=body.validated_data["to_user"])
            .first()
        )
        if to_user is None:
            raise serializers.ValidationError({"to_user": [_("请选择本机关的在岗人员。")]})
        try:
            handover = services.mail_handover(
                package=package, actor=request.user, to_user=to_user, purpose=body.validated_data["purpose"]
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        return Response(MailHandoverSerializer(handover).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="关联登记业务", request=LinkCaseRequestSerializer, responses=MailPackageSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="link-case",
        permission_classes=[has_perms("registration.view_mailpackage", "registration.change_mailpackage")],
    )
    def link_case(self, request, pk=None):
        package = self.get_object()
        body = LinkCaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = selectors.case_by_number(user=request.user, number=body.validated_data["case_number"])
        if case is None:
            raise serializers.ValidationError({"case_number": [_("没有找到该业务编号的业务。")]})
        try:
            package = services.mail_link_case(package=package, case=case, actor=request.user)
        except services.MailError as exc:
            raise Conflict(str(exc)) from None
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        return Response(MailPackageSerializer(package, context=self.get_serializer_context()).data)


router.register("mail-packages", MailPackageViewSet, basename="mail-package")
