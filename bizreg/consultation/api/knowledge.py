"""REST API of the knowledge base (staff): the articles in use with their published text
(/api/consultation-articles/), and the knowledge gaps (/api/consultation-knowledge-gaps/) with their
dismissal. Scoped to the user's authorities; another authority's rows answer 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bizreg.consultation.forms.knowledge import GapFilterForm
from bizreg.consultation.models import Article, ArticleVersion, KnowledgeGap
from bizreg.consultation.selectors import knowledge as selectors
from bizreg.consultation.services import knowledge as services
from bizreg.core.api_router import router
from bizreg.core.statemachine import TransitionNotAllowed


class PublishedVersionSerializer(serializers.ModelSerializer):
    variants = serializers.ListField(child=serializers.CharField(), read_only=True)
    topic_display = serializers.CharField(source="get_topic_display", read_only=True)
    visibility_display = serializers.CharField(source="get_visibility_display", read_only=True)

    class Meta:
        model = ArticleVersion
        fields = [
            "id",
            "number",
            "title",
            "variants",
            "answer",
            "legal_basis",
            "case_types",
            "topic",
            "topic_display",
            "visibility",
            "visibility_display",
            "published_at",
        ]
        read_only_fields = fields


class ArticleSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    published = PublishedVersionSerializer(source="published_version", read_only=True)
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["id", "code", "owner", "owner_name", "review_by", "stale", "usage_count", "published"]
        read_only_fields = fields

    def get_stale(self, article: Article) -> bool:
        return selectors.freshness_of(article, self.context["today"]) == "stale"


ARTICLE_FILTERS = [
    OpenApiParameter("q", str, description="条目编号、问题、相似问法或答案中的文字"),
    OpenApiParameter("topic", str, description="咨询主题（CallTopic 值）"),
    OpenApiParameter("case_type", str, description="业务类型（registration CaseType 值）"),
    OpenApiParameter("visibility", str, enum=["public", "internal"]),
    OpenApiParameter("freshness", str, enum=["stale", "soon", "mine_stale"]),
]


@extend_schema_view(
    list=extend_schema(summary="知识条目（现行发布版本）", parameters=ARTICLE_FILTERS),
    retrieve=extend_schema(summary="知识条目详情（现行发布版本）"),
)
class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """在用（已发布、未停用）的知识条目及其现行版本全文。"""

    serializer_class = ArticleSerializer
    queryset = Article.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Article.objects.none()
        params = self.request.query_params
        filters = {
            name: params.get(name, "").strip()
            for name in ("q", "topic", "case_type", "visibility", "freshness")
            if params.get(name, "").strip()
        }
        filters["status"] = "published"
        queryset = selectors.article_search(user=self.request.user, filters=filters)
        return queryset.select_related("owner", "published_version")

    def get_serializer_context(self):
        from django.utils import timezone

        return {**super().get_serializer_context(), "today": timezone.localdate()}


class GapSerializer(serializers.ModelSerializer):
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    covered_by_code = serializers.CharField(source="covered_by.code", read_only=True, default="")

    class Meta:
        model = KnowledgeGap
        fields = [
            "id",
            "question",
            "channel",
            "channel_display",
            "first_asked_at",
            "last_asked_at",
            "occurrences",
            "best_score",
            "best_version",
            "status",
            "status_display",
            "covered_by",
            "covered_by_code",
            "handled_by",
            "handled_at",
            "handling_note",
        ]
        read_only_fields = fields


class GapDismissInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


@extend_schema_view(
    list=extend_schema(
        summary="知识缺口",
        parameters=[
            OpenApiParameter("status", str, enum=["open", "covered", "dismissed", "writing", ""]),
            OpenApiParameter("channel", str),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
            OpenApiParameter("min_occurrences", int),
            OpenApiParameter("q", str),
        ],
    ),
    retrieve=extend_schema(summary="知识缺口详情"),
)
class KnowledgeGapViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """智能应答未能回答的问题；默认只列待补充（status=open），status= 为空列出全部。"""

    serializer_class = GapSerializer
    queryset = KnowledgeGap.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return KnowledgeGap.objects.none()
        if self.action != "list":
            return selectors.gaps_visible_to(self.request.user)
        form = GapFilterForm(self.request.query_params or None)
        if self.request.query_params and not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        return selectors.gap_search(user=self.request.user, filters=form.filters())

    @extend_schema(summary="标记为无需补充", request=GapDismissInput, responses={200: GapSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def dismiss(self, request, pk=None):
        if not request.user.has_perm("consultation.change_knowledgegap"):
            raise exceptions.PermissionDenied("您的角色无权处理知识缺口。")
        gap = self.get_object()
        data = GapDismissInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            gap = services.gap_dismiss(gap=gap, actor=request.user, reason=data.validated_data["reason"])
        except TransitionNotAllowed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(GapSerializer(gap).data)


router.register("consultation-articles", ArticleViewSet, basename="consultation-article")
router.register("consultation-knowledge-gaps", KnowledgeGapViewSet, basename="consultation-knowledge-gap")
