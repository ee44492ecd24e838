"""REST API of borrowing (/api/archive-borrows/): the borrow register (approvers and the lending desk see
every request of their authorities, anyone else only their own; filters state, kind, mine=1), one request
with its steps and trail, a new request, and the steps approve / reject / lend / return / cancel.

Permissions as the pages: archives.view_borrowrequest to read; asking needs archives.add_borrowrequest
(or approve_borrow); each step is checked by its service and state machine (approve/reject: the manager,
lend/return: the archivist, cancel: the borrower). A step the request's state refuses is a 409, and so is
lending a paper folder that is already out (the reason names who has it) or not on its shelf.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bizreg.archives.api.common import ActionPermissions, Conflict, call_service, form_errors
from bizreg.archives.forms_transfers import BorrowFilterForm, BorrowRequestForm
from bizreg.archives.models import BorrowKind, BorrowRequest, BorrowState
from bizreg.archives.selectors import borrowing as selectors
from bizreg.archives.selectors.events import events_of
from bizreg.archives.services import borrowing as services
from bizreg.core.api_router import router

VIEW_PERM = "archives.view_borrowrequest"
_MINE_VALUES = {"1": True, "true": True, "0": False, "false": False, "": False}


class BorrowSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    archive_code = serializers.CharField(source="archive.archival_code", read_only=True)
    enterprise_name = serializers.CharField(source="archive.enterprise_name", read_only=True)
    borrower_name = serializers.CharField(source="borrower.__str__", read_only=True)
    decided_by_name = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = BorrowRequest
        fields = [
            "id",
            "authority",
            "archive",
            "archive_code",
            "enterprise_name",
            "kind",
            "kind_display",
            "state",
            "state_display",
            "borrower",
            "borrower_name",
            "department",
            "purpose",
            "requested_days",
            "created_at",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "lent_at",
            "due_at",
            "returned_at",
            "reminded_at",
            "overdue",
        ]
        read_only_fields = fields

    def get_decided_by_name(self, borrow: BorrowRequest) -> str:
        return str(borrow.decided_by) if borrow.decided_by_id else ""

    def get_overdue(self, borrow: BorrowRequest) -> bool:
        return bool(borrow.state == BorrowState.LENT and borrow.due_at and borrow.due_at < timezone.now())


class BorrowEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.StringRelatedField()
    reason = serializers.CharField()


class BorrowDetailSerializer(BorrowSerializer):
    available_actions = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(BorrowSerializer.Meta):
        fields = [*BorrowSerializer.Meta.fields, "available_actions", "events"]
        read_only_fields = fields

    def get_available_actions(self, borrow: BorrowRequest) -> list[str]:
        user = self.context["request"].user
        return [t.action for t in selectors.borrow_actions(borrow=borrow, user=user)]

    @extend_schema_field(BorrowEventSerializer(many=True))
    def get_events(self, borrow: BorrowRequest) -> list[dict]:
        return BorrowEventSerializer(events_of(borrow), many=True).data


class BorrowRequestInput(serializers.Serializer):
    archive = serializers.IntegerField(help_text="档案 id")
    kind = serializers.ChoiceField(choices=BorrowKind.choices)
    department = serializers.CharField(max_length=100)
    purpose = serializers.CharField(max_length=300)
    requested_days = serializers.IntegerField(default=7, help_text="1–30 天")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, help_text="不批准时必填")


BORROW_FILTERS = [
    OpenApiParameter("state", str, enum=BorrowState.values),
    OpenApiParameter("kind", str, enum=BorrowKind.values),
    OpenApiParameter("mine", str, enum=["1", "0"], description="=1 仅本人的借阅申请"),
]


def _step_schema(summary: str):
    return extend_schema(summary=summary, request=ReasonInput, responses={200: BorrowDetailSerializer})


@extend_schema_view(
    list=extend_schema(summary="借阅登记簿（审批人、借阅台看全部，其他人仅本人）", parameters=BORROW_FILTERS),
    retrieve=extend_schema(summary="借阅申请详情"),
    create=extend_schema(
        summary="申请借阅", request=BorrowRequestInput, responses={201: BorrowDetailSerializer}
    ),
)
class BorrowViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """档案借阅。"""

    queryset = BorrowRequest.objects.none()
    filter_backends: list = []
    permission_classes = [ActionPermissions]
    read_perms = (VIEW_PERM,)  # every step too: the services check who may take it

    def get_serializer_class(self):
        return BorrowSerializer if self.action == "list" else BorrowDetailSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BorrowRequest.objects.none()
        params = self.request.query_params
        form = BorrowFilterForm(params or None)
        mine = _MINE_VALUES.get(params.get("mine", "").lower())
        if params and not form.is_valid() or mine is None:
            errors = dict(form_errors(form).detail) if params and not form.is_valid() else {}
            if mine is None:
                errors["mine"] = ["mine 只能为 1 或 0。"]
            raise serializers.ValidationError(errors)
        filters = dict(form.cleaned_data) if params else {}
        filters["mine"] = mine
        return selectors.register_search(user=self.request.user, filters=filters)

    def get_object(self):
        borrow = selectors.borrow_for(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, borrow)
        return borrow

    def _detail(self, borrow: BorrowRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.borrow_for(user=self.request.user, pk=borrow.pk)
        return Response(
            BorrowDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request, *args, **kwargs):
        if not services.may_request(request.user):
            raise exceptions.PermissionDenied("您的角色无权申请借阅。")
        form = BorrowRequestForm(request.data)
        errors = {} if form.is_valid() else dict(form_errors(form).detail)
        archive = None
        try:
            archive = selectors.archive_for_request(user=request.user, pk=request.data.get("archive"))
        except Http404:  # a body naming an archive the user cannot see is a bad value, not a 404
            errors["archive"] = ["没有找到该档案。"]
        if errors:
            raise serializers.ValidationError(errors)
        borrow = call_service(
            services.borrow_request, archive=archive, actor=request.user, **form.cleaned_data
        )
        return self._detail(borrow, status.HTTP_201_CREATED)

    def _step(self, request, service, *, takes_reason: bool = True) -> Response:
        borrow = self.get_object()
        body = ReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        kwargs = {"reason": body.validated_data.get("reason", "")} if takes_reason else {}
        try:
            borrow = call_service(service, borrow=borrow, actor=request.user, **kwargs)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict) and "archive" in exc.detail:
                # Not a bad value: the folder is out or not on its shelf — refused like a wrong state.
                raise Conflict("；".join(str(m) for m in exc.detail["archive"])) from None
            raise
        return self._detail(borrow)

    @_step_schema("批准借阅（科室负责人）")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._step(request, services.borrow_approve)

    @_step_schema("不批准借阅（科室负责人，须填理由）")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._step(request, services.borrow_reject)

    @_step_schema("借出纸质卷 / 开通电子调阅（档案人员）")
    @action(detail=True, methods=["post"])
    def lend(self, request, pk=None):
        return self._step(request, services.borrow_lend, takes_reason=False)

    @_step_schema("归还 / 关闭电子调阅（档案人员）")
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        return self._step(request, services.borrow_return)

    @_step_schema("撤回借阅申请（申请人本人）")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._step(request, services.borrow_cancel)


router.register("archive-borrows", BorrowViewSet, basename="archive-borrow")
