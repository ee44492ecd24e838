"""REST API of the hotline: calls (list with the page's filters, detail, create = the fast call log),
hotline lines and agents (read-only).

/api/consultation-calls/           GET (filters: q, date_from, date_to, line, agent, outcome, topic, resolved,
                                   follow_up, satisfaction, source; `full_id=1` for whole numbers, permission
                                   and access log), POST (one call, as services.calls.call_log)
/api/consultation-hotline-lines/   GET (filters: hotline, active)
/api/consultation-agents/          GET (filters: q, active)

Scoped to the user's authorities (another authority's call answers 404); caller numbers are masked unless
asked for and allowed; bad input answers 400 with the same Chinese messages as the pages.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from bizreg.consultation.forms.calls import CallFilterForm, topic_from_text
from bizreg.consultation.models import Agent, Call, CallOutcome, HotlineLine
from bizreg.consultation.selectors import calls as selectors
from bizreg.consultation.selectors import hotline as hotline_selectors
from bizreg.consultation.services import calls as services
from bizreg.core.api import FullPersonalDataMixin
from bizreg.core.api_router import router
from bizreg.core.scoping import authority_ids_for, default_authority_for


class CallSerializer(serializers.ModelSerializer):
    caller_number = serializers.SerializerMethodField(help_text="来电号码；默认脱敏，full_id=1 时为完整号码")
    caller_withheld = serializers.SerializerMethodField()
    hotline_number = serializers.CharField(source="hotline.number", read_only=True)
    line_label = serializers.CharField(source="line.label", read_only=True, default="")
    line_position = serializers.IntegerField(source="line.position", read_only=True, default=None)
    agent_code = serializers.CharField(source="agent.pbx_code", read_only=True, default="")
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    topic_display = serializers.CharField(source="get_topic_display", read_only=True)
    follow_up_ticket_number = serializers.CharField(
        source="follow_up_ticket.number", read_only=True, default=""
    )

    class Meta:
        model = Call
        fields = [
            "id",
            "source",
            "external_id",
            "hotline",
            "hotline_number",
            "line",
            "line_label",
            "line_position",
            "agent",
            "agent_code",
            "caller_number",
            "caller_withheld",
            "offered_at",
            "answered_at",
            "ended_at",
            "wait_seconds",
            "talk_seconds",
            "hold_seconds",
            "wrap_up_seconds",
            "outcome",
            "outcome_display",
            "topic",
            "topic_display",
            "summary",
            "resolved",
            "needs_follow_up",
            "follow_up_ticket",
            "follow_up_ticket_number",
            "related_case_number",
            "satisfaction_score",
            "satisfaction_at",
            "logged_by",
        ]
        read_only_fields = fields

    def get_caller_number(self, call: Call) -> str:
        full = bool(self.context.get("full_id"))
        return call.caller_number if full else selectors.display_number(call.caller_number)

    def get_caller_withheld(self, call: Call) -> bool:
        return not call.caller_number


class CallInput(serializers.Serializer):
    caller_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    withheld = serializers.BooleanField(required=False, default=False)
    outcome = serializers.ChoiceField(choices=CallOutcome.choices)
    topic = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="主题代码、编号（1–13）或名称"
    )
    summary = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    resolved = serializers.BooleanField(required=False, default=False)
    needs_follow_up = serializers.BooleanField(required=False, default=False)
    related_case_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    line = serializers.IntegerField(help_text="分线 id")
    agent = serializers.IntegerField(
        required=False, allow_null=True, help_text="坐席 id；缺省为本人的坐席档案"
    )
    offered_at = serializers.DateTimeField(required=False, allow_null=True)
    answered_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_topic(self, value: str) -> str:
        topic = topic_from_text(value)
        if topic is None:
            raise serializers.ValidationError(f"没有编号或名称为“{value}”的咨询主题。")
        return topic


def _filters(request) -> dict:
    form = CallFilterForm(request.query_params or None, user=request.user)
    if request.query_params and not form.is_valid():
        raise serializers.ValidationError(form.errors.get_json_data())
    return form.cleaned_data if request.query_params else {}


@extend_schema_view(
    list=extend_schema(
        summary="来电记录",
        parameters=[OpenApiParameter("full_id", str, description="1 = 返回完整号码（需权限，记入访问日志）")],
    ),
    retrieve=extend_schema(summary="来电详情"),
    create=extend_schema(summary="登记来电", request=CallInput, responses={201: CallSerializer}),
)
class CallViewSet(
    FullPersonalDataMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CallSerializer
    queryset = Call.objects.none()
    filter_backends: list = []
    personal_data_object_type = "consultation.Call"
    personal_data_fields = "caller_number"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Call.objects.none()
        if self.action == "list":
            full = self.request.query_params.get("full_id") == "1"
            return selectors.call_search(
                user=self.request.user, filters=_filters(self.request), full_numbers=full
            )
        return selectors.calls_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        data = CallInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        if not user.is_superuser and not authority_ids_for(user):
            raise exceptions.PermissionDenied("您的账号未分配登记机关。")
        line = hotline_selectors.lines_visible_to(user).filter(pk=values.pop("line")).first()
        if line is None:
            raise serializers.ValidationError({"line": ["分线不存在或不属于本登记机关。"]})
        agent_id = values.pop("agent", None)
        if agent_id is not None:
            agent = hotline_selectors.agents_visible_to(user).filter(pk=agent_id).first()
            if agent is None:
                raise serializers.ValidationError({"agent": ["坐席不存在或不属于本登记机关。"]})
        else:
            agent = hotline_selectors.own_agent(user=user, authority_id=line.hotline.authority_id)
        authority = line.hotline.authority if line is not None else default_authority_for(user)
        try:
            call = services.call_log(
                authority=authority, actor=user, data={**values, "line": line, "agent": agent}
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        call = selectors.calls_visible_to(user).get(pk=call.pk)
        return Response(CallSerializer(call, context={"full_id": False}).data, status=status.HTTP_201_CREATED)


class HotlineLineSerializer(serializers.ModelSerializer):
    hotline_number = serializers.CharField(source="hotline.number", read_only=True)
    hotline_active = serializers.BooleanField(source="hotline.is_active", read_only=True)

    class Meta:
        model = HotlineLine
        fields = [
            "id",
            "hotline",
            "hotline_number",
            "hotline_active",
            "position",
            "label",
            "pbx_channel",
            "is_active",
        ]
        read_only_fields = fields


def _yes_no(value: str | None) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get((value or "").lower())


@extend_schema_view(
    list=extend_schema(
        summary="热线分线（按振铃顺序）",
        parameters=[OpenApiParameter("hotline", int), OpenApiParameter("active", str, description="1/0")],
    ),
    retrieve=extend_schema(summary="热线分线"),
)
class HotlineLineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = HotlineLineSerializer
    queryset = HotlineLine.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HotlineLine.objects.none()
        params = self.request.query_params
        hotline = params.get("hotline") or ""
        if hotline and not hotline.isdigit():
            raise serializers.ValidationError({"hotline": ["热线 id 应为整数。"]})
        return hotline_selectors.line_search(
            user=self.request.user,
            hotline_id=int(hotline) if hotline else None,
            active=_yes_no(params.get("active")),
        )


class AgentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.__str__", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Agent
        fields = ["id", "user", "username", "name", "pbx_code", "extension", "is_active"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="坐席",
        parameters=[OpenApiParameter("q", str), OpenApiParameter("active", str, description="1/0")],
    ),
    retrieve=extend_schema(summary="坐席"),
)
class AgentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AgentSerializer
    queryset = Agent.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Agent.objects.none()
        params = self.request.query_params
        return hotline_selectors.agent_search(
            user=self.request.user, q=(params.get("q") or "")[:100], active=_yes_no(params.get("active"))
        )


router.register("consultation-calls", CallViewSet, basename="consultation-call")
router.register("consultation-hotline-lines", HotlineLineViewSet, basename="consultation-hotline-line")
router.register("consultation-agents", AgentViewSet, basename="consultation-agent")
