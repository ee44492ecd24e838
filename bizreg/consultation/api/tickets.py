"""REST API of online tickets (staff): /api/consultation-tickets/ lists and shows the tickets of the user's
authorities (filters as on the list page: q, state, kind, channel, assignee, overdue, escalated, date_from,
date_to) and takes the same steps as the ticket page: reply, note, transition, assign, merge.

Permissions as the pages: reading needs consultation.view_ticket; each step is checked by its service
(change_ticket, assign_ticket, merge_ticket) and refused with 403. Another authority's ticket is a 404; a
step the ticket's state does not allow is a 409 with the Chinese reason; bad input a 400. Contacts' names,
phones and e-mail addresses are masked unless `?full_id=1` (core.view_full_personal_data, access-logged).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from bizreg.consultation.models import Ticket, TicketMessage, TicketTransitionLog
from bizreg.consultation.selectors import knowledge as kb_selectors
from bizreg.consultation.selectors import tickets as selectors
from bizreg.consultation.services import tickets as services
from bizreg.core.api import FullPersonalDataMixin
from bizreg.core.api_router import router
from bizreg.core.masking import mask_person_name, mask_phone
from bizreg.core.statemachine import TransitionNotAllowed

VIEW_PERM = "consultation.view_ticket"


class CanViewTickets(BasePermission):
    """Every method needs the view permission; the steps' own permissions are checked by the services (a
    POST must not require add_ticket, which a manager who may assign and merge does not have)."""

    message = "您的角色无权查看咨询工单。"

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(VIEW_PERM)


def _mask_email(email: str) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in ("channel", "display_name", "phone", "email", "enterprise_name")
        },
    }
)
class ContactField(serializers.Field):
    """The ticket's contact: masked unless the request asked for (and may see) full personal data."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, contact):
        full = self.context.get("full_id", False)
        return {
            "channel": contact.channel,
            "display_name": contact.display_name if full else mask_person_name(contact.display_name),
            "phone": contact.phone if full else mask_phone(contact.phone),
            "email": contact.email if full else _mask_email(contact.email),
            "enterprise_name": contact.enterprise_name,
        }


class TicketSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    contact = ContactField()
    due_status = serializers.SerializerMethodField()
    merged_into_number = serializers.CharField(source="merged_into.number", read_only=True, default="")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "kind",
            "kind_display",
            "channel",
            "channel_display",
            "state",
            "state_display",
            "priority",
            "subject",
            "contact",
            "assignee",
            "assignee_name",
            "topic",
            "related_case_number",
            "opened_at",
            "first_response_due_at",
            "first_responded_at",
            "resolution_due_at",
            "resolved_at",
            "closed_at",
            "due_status",
            "escalation_level",
            "escalated_at",
            "merged_into",
            "merged_into_number",
            "csat_score",
            "csat_comment",
        ]
        read_only_fields = fields

    def get_assignee_name(self, ticket: Ticket) -> str:
        return str(ticket.assignee) if ticket.assignee_id else ""

    def get_due_status(self, ticket: Ticket) -> str:
        return selectors.due_status(ticket)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    quarantined = serializers.BooleanField()
    quarantine_reason = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    direction_display = serializers.CharField(source="get_direction_display", read_only=True)
    author_name = serializers.SerializerMethodField()
    cited_article = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "ticket",
            "direction",
            "direction_display",
            "author",
            "author_name",
            "body",
            "created_at",
            "cited_version",
            "cited_article",
            "is_automatic",
            "delivery",
            "delivery_error",
            "attachments",
        ]
        read_only_fields = fields

    def get_author_name(self, message: TicketMessage) -> str:
        return str(message.author) if message.author_id else ""

    def get_cited_article(self, message: TicketMessage) -> str:
        return message.cited_version.article.code if message.cited_version_id else ""

    def get_attachments(self, message: TicketMessage) -> list[dict]:
        files = getattr(message, "servable_attachments", []) + getattr(message, "blocked_attachments", [])
        return AttachmentSerializer(files, many=True).data


class TransitionLogSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = TicketTransitionLog
        fields = ["action", "from_state", "to_state", "actor", "actor_name", "occurred_at", "reason"]
        read_only_fields = fields

    def get_actor_name(self, entry: TicketTransitionLog) -> str:
        return str(entry.actor) if entry.actor_id else ""


class TicketDetailSerializer(TicketSerializer):
    messages = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages", "timeline", "actions"]
        read_only_fields = fields

    def get_messages(self, ticket: Ticket) -> list[dict]:
        return MessageSerializer(selectors.conversation(ticket=ticket), many=True).data

    def get_timeline(self, ticket: Ticket) -> list[dict]:
        return TransitionLogSerializer(selectors.timeline(ticket=ticket), many=True).data

    def get_actions(self, ticket: Ticket) -> list[str]:
        return [
            t.action for t in selectors.available_actions(ticket=ticket, user=self.context["request"].user)
        ]


class ReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000, error_messages={"blank": "答复内容不能为空。"})
    cited_version = serializers.IntegerField(required=False, allow_null=True)


class NoteInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000, error_messages={"blank": "备注内容不能为空。"})


class TransitionInput(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["assign", "wait_for_customer", "resolve", "close", "reopen"],
        error_messages={"invalid_choice": "不能执行该操作：{input}。"},
    )
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AssignInput(serializers.Serializer):
    assignee = serializers.IntegerField()


class MergeInput(serializers.Serializer):
    into = serializers.CharField(max_length=30, help_text="目标工单号")
    reason = serializers.CharField(max_length=500, error_messages={"blank": "请填写合并理由。"})


TICKET_FILTERS = [
    OpenApiParameter("q", str, description="工单号、主题、关联业务编号、咨询人"),
    OpenApiParameter("state", str, enum=["new", "open", "waiting", "resolved", "closed", "merged"]),
    OpenApiParameter("kind", str, enum=["consultation", "guidance", "complaint", "follow_up"]),
    OpenApiParameter("channel", str),
    OpenApiParameter("assignee", str, description="me、none 或用户 id"),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("escalated", bool),
    OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
    OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
    OpenApiParameter("full_id", str, enum=["1"], description="完整联系方式（需权限，记入访问日志）"),
]


@extend_schema_view(
    list=extend_schema(summary="在线工单", parameters=TICKET_FILTERS),
    retrieve=extend_schema(summary="工单详情（对话、流转记录、可执行操作）"),
)
class TicketViewSet(
    FullPersonalDataMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """本人所属登记机关的在线工单。"""

    queryset = Ticket.objects.none()
    filter_backends: list = []
    permission_classes = [IsAuthenticated, CanViewTickets]
    personal_data_object_type = "consultation.Contact"
    personal_data_fields = "display_name,phone,email"

    def personal_data_label(self, obj) -> str:
        return obj.number

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        user = self.request.user
        if self.action == "list":
            return selectors.ticket_search(user=user, params=self.request.query_params).select_related(
                "merged_into"
            )
        return selectors.tickets_for(user).select_related("authority", "contact", "assignee", "merged_into")

    def _step(self, request, run, data_class):
        ticket = self.get_object()
        data = data_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = run(ticket, data.validated_data)
        except TransitionNotAllowed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            ) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        if isinstance(result, TicketMessage):
            return Response(MessageSerializer(result).data, status=status.HTTP_201_CREATED)
        result = self.get_queryset().get(pk=result.pk)
        return Response(TicketSerializer(result, context=self.get_serializer_context()).data)

    @extend_schema(summary="答复群众", request=ReplyInput, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        def run(ticket, data):
            cited = None
            if data.get("cited_version"):
                try:
                    cited = kb_selectors.version_for(user=request.user, pk=data["cited_version"])
                except Http404:
                    raise DjangoValidationError({"cited_version": "引用的知识条目不存在或不可用。"}) from None
            return services.ticket_reply(
                ticket=ticket, actor=request.user, body=data["body"], cited_version=cited
            )

        return self._step(request, run, ReplyInput)

    @extend_schema(summary="添加内部备注", request=NoteInput, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        return self._step(
            request,
            lambda ticket, data: services.ticket_note(ticket=ticket, actor=request.user, body=data["body"]),
            NoteInput,
        )

    @extend_schema(summary="流转（领取、等待群众回复、解答完毕、关闭、重新打开）", request=TransitionInput)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        return self._step(
            request,
            lambda ticket, data: services.ticket_transition(
                ticket=ticket, action=data["action"], actor=request.user, reason=data["reason"]
            ),
            TransitionInput,
        )

    @extend_schema(summary="分派给坐席", request=AssignInput)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        def run(ticket, data):
            users = selectors.assignable_users(authority_ids=[ticket.authority_id])
            assignee = users.filter(pk=data["assignee"]).first()
            if assignee is None:
                raise DjangoValidationError({"assignee": "该人员不是本机关的在岗坐席，不能分派。"})
            return services.ticket_assign(ticket=ticket, actor=request.user, assignee=assignee)

        return self._step(request, run, AssignInput)

    @extend_schema(summary="合并到其他工单", request=MergeInput)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        def run(ticket, data):
            number = data["into"].strip()
            into = selectors.tickets_for(request.user).filter(number=number).first()
            if into is None:
                raise DjangoValidationError({"into": f"没有找到工单号为 {number} 的工单。"})
            return services.ticket_merge(ticket=ticket, into=into, actor=request.user, reason=data["reason"])

        return self._step(request, run, MergeInput)


router.register("consultation-tickets", TicketViewSet, basename="consultation-ticket")
