"""REST API of budgets: read-only projects, lines, contracts (with their payment schedule) and payments;
POST /api/performance-payments/ records a payment through services.budget.payment_create.

Everything is scoped to the user's authorities (another authority's objects answer 404). A refused payment
answers 400 with the service's Chinese message on the field at fault; nothing is saved.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from bizreg.core.api import ModelPermissionsWithView
from bizreg.core.api_router import router
from bizreg.performance.models import BudgetLine, Contract, Payment, PaymentMilestone, Project
from bizreg.performance.selectors import budget as selectors
from bizreg.performance.services import budget as services


class ProjectSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "name",
            "fiscal_year",
            "department",
            "lead_office",
            "period_start",
            "period_end",
            "initial_budget",
            "adjusted_budget",
            "reported_execution",
            "goals",
            "status",
            "status_display",
            "budget_weight",
            "reverse_rule",
            "overachievement_threshold",
            "overachievement_deduction",
        ]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    execution = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "execution"]
        read_only_fields = fields

    def get_execution(self, project) -> dict:
        execution = selectors.project_execution(project)
        return {
            "executed": str(execution.executed),
            "payments": str(execution.payments),
            "rate": str(execution.rate) if execution.rate is not None else None,
            "lines": [
                {
                    "line": item.line.pk,
                    "code": item.line.code,
                    "budget": str(item.budget),
                    "executed": str(item.executed),
                    "rate": str(item.rate) if item.rate is not None else None,
                }
                for item in execution.lines
            ],
        }


class BudgetLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetLine
        fields = ["id", "project", "code", "name", "amount", "order"]
        read_only_fields = fields


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMilestone
        fields = ["id", "order", "deliverable", "due_on", "amount", "delivered_on"]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "project",
            "line",
            "number",
            "title",
            "vendor",
            "amount",
            "signed_on",
            "starts_on",
            "ends_on",
            "milestones",
        ]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "project",
            "line",
            "contract",
            "milestone",
            "paid_on",
            "amount",
            "voucher_number",
            "description",
            "evidence_sha256",
            "recorded_by",
        ]
        read_only_fields = fields


class PaymentInput(serializers.Serializer):
    project = serializers.IntegerField()
    line = serializers.IntegerField()
    contract = serializers.IntegerField(required=False, allow_null=True)
    milestone = serializers.IntegerField(required=False, allow_null=True)
    paid_on = serializers.DateField()
    # Text, so "abc" or "-5" reach the service and get its message rather than a generic one.
    amount = serializers.CharField(max_length=30, help_text="金额（元），两位小数")
    voucher_number = serializers.CharField(required=False, allow_blank=True, max_length=50)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class _ProjectFilterMixin:
    """`?project=<id>` narrows a list to one (visible) project."""

    def filter_by_project(self, queryset):
        value = self.request.query_params.get("project")
        if value in (None, ""):
            return queryset
        if not value.isdigit():
            raise serializers.ValidationError({"project": ["项目标识应为整数。"]})
        return queryset.filter(project_id=int(value))


@extend_schema_view(
    list=extend_schema(summary="预算项目"), retrieve=extend_schema(summary="预算项目详情（含执行率）")
)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissionsWithView]
    queryset = Project.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        qs = selectors.projects_for(self.request.user)
        year = self.request.query_params.get("year")
        if year:
            if not year.isdigit():
                raise serializers.ValidationError({"year": ["年度应为整数。"]})
            qs = qs.filter(fiscal_year=int(year))
        return qs.order_by("-fiscal_year", "code")

    def get_serializer_class(self):
        return ProjectDetailSerializer if self.action == "retrieve" else ProjectSerializer


@extend_schema_view(list=extend_schema(summary="预算明细"), retrieve=extend_schema(summary="预算明细详情"))
class BudgetLineViewSet(_ProjectFilterMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissionsWithView]
    serializer_class = BudgetLineSerializer
    queryset = BudgetLine.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BudgetLine.objects.none()
        return self.filter_by_project(selectors.lines_visible_to(self.request.user)).order_by(
            "project", "order", "code"
        )


@extend_schema_view(
    list=extend_schema(summary="合同（含支付计划）"), retrieve=extend_schema(summary="合同详情")
)
class ContractViewSet(_ProjectFilterMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissionsWithView]
    serializer_class = ContractSerializer
    queryset = Contract.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        qs = selectors.contracts_visible_to(self.request.user).prefetch_related("milestones")
        return self.filter_by_project(qs).order_by("project", "number")


@extend_schema_view(
    list=extend_schema(summary="支付记录"),
    retrieve=extend_schema(summary="支付详情"),
    create=extend_schema(summary="登记支付", request=PaymentInput, responses={201: PaymentSerializer}),
)
class PaymentViewSet(
    _ProjectFilterMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ModelPermissionsWithView]
    serializer_class = PaymentSerializer
    queryset = Payment.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return self.filter_by_project(selectors.payments_visible_to(self.request.user)).order_by(
            "-paid_on", "-id"
        )

    def create(self, request, *args, **kwargs):
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        try:
            project = selectors.project_for(user, values["project"])
        except Http404:
            raise exceptions.NotFound("没有找到该预算项目。") from None
        line = BudgetLine.objects.filter(project=project, pk=values["line"]).first()
        if line is None:
            raise serializers.ValidationError({"line": ["所选预算明细不属于本项目。"]})
        contract = milestone = None
        if values.get("contract"):
            contract = Contract.objects.filter(project=project, pk=values["contract"]).first()
            if contract is None:
                raise serializers.ValidationError({"contract": ["所选合同不属于本项目。"]})
        if values.get("milestone"):
            milestone = PaymentMilestone.objects.filter(
                contract__project=project, pk=values["milestone"]
            ).first()
            if milestone is None:
                raise serializers.ValidationError({"milestone": ["所选支付计划不属于本项目。"]})
        try:
            payment = services.payment_create(
                project=project,
                actor=user,
                paid_on=values["paid_on"],
                amount=values["amount"],
                line=line,
                contract=contract,
                milestone=milestone,
                voucher_number=values.get("voucher_number", ""),
                description=values.get("description", ""),
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            raise serializers.ValidationError(detail) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


router.register("performance-projects", ProjectViewSet, basename="performance-project")
router.register("performance-budget-lines", BudgetLineViewSet, basename="performance-budget-line")
router.register("performance-contracts", ContractViewSet, basename="performance-contract")
router.register("performance-payments", PaymentViewSet, basename="performance-payment")
