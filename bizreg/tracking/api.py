"""REST API of appeals (/api/appeals/): the list with the page's filters (q, state, category, department,
overdue, raised_from/to), one appeal with its timeline, raising an appeal (POST) and its steps
(POST /api/appeals/<id>/route|answer|reopen|close|withdraw/), all through services.appeals.

Who sees what is the pages' rule (selectors.appeals): officers and managers their authorities' appeals, a
department member the appeals routed to their departments (another appeal is 404). The contact's name and
phone are masked unless `?full_id=1` (core.view_full_personal_data, logged). Bad input is 400 with the
field's Chinese message, a step the appeal's state does not allow 409, a missing permission 403.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from bizreg.core.api import FullPersonalDataMixin, ModelPermissionsWithView
from bizreg.core.api_router import router
from bizreg.core.masking import mask_person_name, mask_phone
from bizreg.core.scoping import default_authority_for
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.tracking.forms.appeals import AppealFilterForm
from bizreg.tracking.models import Appeal, AppealCategory, Department, Satisfaction
from bizreg.tracking.selectors import appeals as selectors
from bizreg.tracking.services import appeals as services


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "当前状态不允许该操作。"
    default_code = "conflict"


class AppealEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_actor(self, event) -> str:
        return str(event.actor) if event.actor_id else ""


class AppealSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    department_name = serializers.SerializerMethodField()
    contact_name = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = [
            "id",
            "number",
            "state",
            "state_display",
            "category",
            "category_display",
            "title",
            "description",
            "enterprise",
            "enterprise_uscc",
            "enterprise_name",
            "visit",
            "contact_name",
            "contact_phone",
            "raised_on",
            "department",
            "department_name",
            "routed_on",
            "due_on",
            "feedback",
            "answered_at",
            "closed_at",
            "closed_on_time",
            "satisfaction",
            "satisfaction_comment",
        ]
        read_only_fields = fields

    def _full(self) -> bool:
        return bool(self.context.get("full_id"))

    def get_department_name(self, appeal) -> str:
        return appeal.department.name if appeal.department_id else ""

    def get_contact_name(self, appeal) -> str:
        return appeal.contact_name if self._full() else mask_person_name(appeal.contact_name)

    def get_contact_phone(self, appeal) -> str:
        return appeal.contact_phone if self._full() else mask_phone(appeal.contact_phone)


class AppealDetailSerializer(AppealSerializer):
    events = AppealEventSerializer(many=True, read_only=True)

    class Meta(AppealSerializer.Meta):
        fields = [*AppealSerializer.Meta.fields, "events"]
        read_only_fields = fields


class AppealInput(serializers.Serializer):
    enterprise = serializers.IntegerField(required=False, allow_null=True, default=None)
    enterprise_uscc = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    visit = serializers.IntegerField(required=False, allow_null=True, default=None)
    category = serializers.ChoiceField(choices=AppealCategory.choices)
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000)
    contact_name = serializers.CharField(max_length=50)
    contact_phone = serializers.CharField(max_length=20)
    raised_on = serializers.DateField(required=False, allow_null=True, default=None)


class RouteInput(serializers.Serializer):
    department = serializers.IntegerField()
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class FeedbackInput(serializers.Serializer):
    feedback = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AppealReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CloseInput(serializers.Serializer):
    # Shape only: the service refuses a close without feedback with its own message.
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False, allow_null=True)
    feedback = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MayViewAppeals(BasePermission):
    """The steps are POSTs but not "add": the services check each step's own permission."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(selectors.VIEW))


def _service_call(call):
    try:
        return call()
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise exceptions.ValidationError(detail) from None
    except TransitionNotAllowed as exc:
        raise Conflict(str(exc)) from None


class AppealViewSet(
    FullPersonalDataMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Appeal.objects.none()  # for the permission class; get_queryset scopes
    personal_data_object_type = "tracking.Appeal"
    personal_data_fields = "诉求联系人、联系电话"

    def get_permissions(self):
        if self.action in ("route", "answer", "reopen", "close", "withdraw"):
            return [MayViewAppeals()]
        return [ModelPermissionsWithView()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appeal.objects.none()
        user = self.request.user
        if self.action == "list":
            form = AppealFilterForm(
                self.request.query_params or None, departments=Department.objects.all(), show_mine=True
            )
            if form.is_bound and not form.is_valid():
                raise exceptions.ValidationError(form.errors)
            params = form.cleaned_data if form.is_bound else {}
            return selectors.appeal_listing(user=user, params=params)
        return selectors.appeals_visible_to(user).prefetch_related("events__actor")

    def get_serializer_class(self):
        return AppealDetailSerializer if self.action == "retrieve" else AppealSerializer

    def _created(self, appeal, code=status.HTTP_200_OK):
        fresh = selectors.appeals_visible_to(self.request.user).get(pk=appeal.pk)
        return Response(AppealSerializer(fresh, context={"full_id": False}).data, status=code)

    @extend_schema(request=AppealInput, responses={201: AppealSerializer})
    def create(self, request):
        if not request.user.has_perm(services.ADD_APPEAL):
            raise exceptions.PermissionDenied("您的角色无权登记企业诉求。")
        data = AppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        if values["enterprise"] is not None:
            enterprise = selectors.enterprise_for_appeal(user=user, pk=values["enterprise"])
        else:
            enterprise = selectors.enterprise_for_appeal(user=user, uscc=values["enterprise_uscc"])
        visit = None
        if values["visit"] is not None:
            visit = selectors.visit_for_appeal(user=user, pk=values["visit"])
            if visit is None:
                raise exceptions.ValidationError({"visit": ["来源走访不存在或您无权查看。"]})
        appeal = _service_call(
            lambda: services.appeal_raise(
                authority=enterprise.authority if enterprise else default_authority_for(user),
                enterprise_id=enterprise.pk if enterprise else None,
                actor=user,
                category=values["category"],
                title=values["title"],
                description=values["description"],
                contact_name=values["contact_name"],
                contact_phone=values["contact_phone"],
                visit=visit,
                raised_on=values["raised_on"],
            )
        )
        return self._created(appeal, status.HTTP_201_CREATED)

    def _appeal(self, pk) -> Appeal:
        return selectors.appeal_for(user=self.request.user, pk=pk)

    @extend_schema(request=RouteInput, responses={200: AppealSerializer})
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        appeal = self._appeal(pk)
        data = RouteInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        department = selectors.routing_departments(appeal=appeal).filter(pk=values["department"]).first()
        if department is None:
            raise exceptions.ValidationError({"department": ["承办部门不存在或已停用。"]})
        routed = _service_call(
            lambda: services.appeal_route(
                appeal=appeal,
                department=department,
                actor=request.user,
                due_on=values["due_on"],
                reason=values["reason"],
            )
        )
        return self._created(routed)

    @extend_schema(request=FeedbackInput, responses={200: AppealSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        appeal = self._appeal(pk)
        data = FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = data.validated_data["feedback"]
        return self._created(
            _service_call(
                lambda: services.appeal_answer(appeal=appeal, actor=request.user, feedback=feedback)
            )
        )

    @extend_schema(request=AppealReasonInput, responses={200: AppealSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        appeal = self._appeal(pk)
        data = AppealReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        return self._created(
            _service_call(lambda: services.appeal_reopen(appeal=appeal, actor=request.user, reason=reason))
        )

    @extend_schema(request=CloseInput, responses={200: AppealSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        appeal = self._appeal(pk)
        data = CloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        closed = _service_call(
            lambda: services.appeal_close(
                appeal=appeal,
                actor=request.user,
                satisfaction=values.get("satisfaction"),
                feedback=values["feedback"],
                comment=values["comment"],
            )
        )
        return self._created(closed)

    @extend_schema(request=AppealReasonInput, responses={200: AppealSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        appeal = self._appeal(pk)
        data = AppealReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        return self._created(
            _service_call(lambda: services.appeal_withdraw(appeal=appeal, actor=request.user, reason=reason))
        )


router.register("appeals", AppealViewSet, basename="appeal")
