"""REST API of investigations (/api/investigation-cases/): the case register for investigators and
managers — list with the page's filters (q, state, source, overdue, received_from/to), one case with its
enterprises and trail — and intake of a report (POST), e.g. from the 专责小组's own system.

Personal identifiers are masked unless `?full_id=1` (core.view_full_personal_data, logged). Everyone else
gets 403. A report with an invalid ID is 400 with the field's Chinese message.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from bizreg.core.api import FullPersonalDataMixin, ModelPermissionsWithView
from bizreg.core.api_router import router
from bizreg.core.masking import mask_id_number, mask_person_name, mask_phone
from bizreg.core.scoping import default_authority_for
from bizreg.investigations.forms import CaseFilterForm
from bizreg.investigations.models import (
    InvestigationCase,
    ReportSource,
    VerificationMethod,
    VerificationResult,
)
from bizreg.investigations.selectors import cases as selectors
from bizreg.investigations.services import intake


class CaseEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.CharField(source="actor.__str__", default="")
    reason = serializers.CharField()


class CaseSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    victim_name = serializers.SerializerMethodField()
    victim_id_number = serializers.SerializerMethodField()
    victim_phone = serializers.SerializerMethodField()
    enterprises = serializers.SerializerMethodField()

    class Meta:
        model = InvestigationCase
        fields = [
            "id",
            "number",
            "state",
            "state_display",
            "source",
            "source_display",
            "summary",
            "victim_name",
            "victim_id_number",
            "victim_phone",
            "received_on",
            "acceptance_due_on",
            "accepted_on",
            "investigation_due_on",
            "extended",
            "notice_started_on",
            "notice_ends_on",
            "closed_at",
            "closed_within_deadline",
            "enterprises",
        ]
        read_only_fields = fields

    def _full(self) -> bool:
        return bool(self.context.get("full_id"))

    def get_victim_name(self, case) -> str:
        return case.victim_name if self._full() else mask_person_name(case.victim_name)

    def get_victim_id_number(self, case) -> str:
        return case.victim_id_number if self._full() else mask_id_number(case.victim_id_number)

    def get_victim_phone(self, case) -> str:
        return case.victim_phone if self._full() else mask_phone(case.victim_phone)

    def get_enterprises(self, case) -> list[dict]:
        return [
            {"uscc": ce.enterprise.uscc, "name": ce.enterprise.name, "locked": ce.locked}
            for ce in case.enterprises.select_related("enterprise")
        ]


class CaseDetailSerializer(CaseSerializer):
    events = CaseEventSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events"]
        read_only_fields = fields


class NamedEnterpriseInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    uscc = serializers.CharField(max_length=18, required=False, allow_blank=True, default="")


class ReportInput(serializers.Serializer):
    source = serializers.ChoiceField(choices=ReportSource.choices)
    referral_reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    reporter_name = serializers.CharField(max_length=50)
    reporter_id_number = serializers.CharField(max_length=18)
    reporter_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    verification_method = serializers.ChoiceField(choices=VerificationMethod.choices)
    verification_result = serializers.ChoiceField(choices=VerificationResult.choices)
    verification_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    narrative = serializers.CharField()
    enterprises = NamedEnterpriseInput(many=True)


class InvestigationCaseViewSet(
    FullPersonalDataMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [ModelPermissionsWithView]
    queryset = InvestigationCase.objects.none()  # for the permission class; get_queryset scopes
    personal_data_object_type = "investigations.InvestigationCase"
    personal_data_fields = "被冒用人姓名、身份证号、电话"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return InvestigationCase.objects.none()
        if self.action == "list":
            form = CaseFilterForm(self.request.query_params or None)
            if form.is_bound and not form.is_valid():
                raise exceptions.ValidationError(form.errors)
            params = form.cleaned_data if form.is_bound else {}
            return selectors.case_listing(user=self.request.user, params=params)
        return selectors.cases_visible_to(self.request.user).prefetch_related("events__actor")

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @extend_schema(request=ReportInput, responses={201: CaseSerializer})
    def create(self, request):
        if not request.user.has_perm("investigations.add_investigationcase"):
            raise exceptions.PermissionDenied("您的角色无权登记冒用身份线索。")
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            report = intake.report_receive(
                authority=default_authority_for(request.user),
                actor=request.user,
                source=values["source"],
                referral_reference=values["referral_reference"],
                reporter={
                    "name": values["reporter_name"],
                    "id_number": values["reporter_id_number"].strip().upper(),
                    "phone": values["reporter_phone"],
                },
                verification_method=values["verification_method"],
                verification_result=values["verification_result"],
                verification_note=values["verification_note"],
                narrative=values["narrative"],
                enterprises=[dict(e) for e in values["enterprises"]],
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            raise exceptions.ValidationError(detail) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        case = InvestigationCase.objects.get(pk=report.case_id)
        return Response(CaseSerializer(case, context={"full_id": False}).data, status=status.HTTP_201_CREATED)


router.register("investigation-cases", InvestigationCaseViewSet, basename="investigation-case")
