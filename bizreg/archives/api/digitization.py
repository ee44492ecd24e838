"""REST API of digitization batches (/api/archive-digitization-batches/): list with the batch list page's
filters (q, state, created_from, created_to), detail with the current job's state and progress, the pages'
counts and the QA verdict; create a batch, upload scans (multipart, several `files`) and start processing.

Permissions as the pages: reading needs archives.view_digitizationbatch (the contractor's operator, the
archivist, the manager); creating, uploading and processing archives.operate_digitization (the operator
only: the bureau checks the contractor's work, it does not scan). Another authority's batch is a 404.
An upload answers the intake result: every refused file with its reason, the good files of the same
upload kept. A step the batch's state refuses is a 409 with the reason.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from bizreg.archives import workflows
from bizreg.archives.api.common import ActionPermissions, Conflict, call_service, form_errors
from bizreg.archives.forms_digitization import BatchCreateForm, BatchFilterForm
from bizreg.archives.models import BatchState, DigitizationBatch
from bizreg.archives.selectors import digitization as selectors
from bizreg.archives.selectors.events import events_of
from bizreg.archives.services import digitization as services
from bizreg.core.api_router import router
from bizreg.core.models import BackgroundJob
from bizreg.core.scoping import default_authority_for

VIEW_PERM = "archives.view_digitizationbatch"
OPERATE_PERM = "archives.operate_digitization"


class JobSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = BackgroundJob
        fields = [
            "id",
            "kind",
            "status",
            "status_display",
            "done",
            "total",
            "percent",
            "attempts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class BatchSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    transfer_number = serializers.CharField(source="transfer.number", read_only=True, default="")
    created_by_name = serializers.CharField(source="created_by.__str__", read_only=True)
    job = JobSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DigitizationBatch
        fields = [
            "id",
            "number",
            "authority",
            "transfer",
            "transfer_number",
            "state",
            "state_display",
            "created_by",
            "created_by_name",
            "created_at",
            "sample_percent",
            "pass_mark_percent",
            "pages_total",
            "pages_rejected",
            "qa_sampled",
            "qa_passed",
            "finished_at",
            "job",
        ]
        read_only_fields = fields


class PageCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="已收页数")
    processed = serializers.IntegerField(help_text="已完成图像处理")
    ocr_done = serializers.IntegerField(help_text="已完成文字识别")
    bound = serializers.IntegerField(help_text="已归件")
    blank = serializers.IntegerField(help_text="空白页")
    sampled = serializers.IntegerField(help_text="抽检页")
    qa_passed = serializers.IntegerField(help_text="质检合格")
    qa_rejected = serializers.IntegerField(help_text="质检退回")


class QaVerdictSerializer(serializers.Serializer):
    sampled = serializers.IntegerField()
    checked = serializers.IntegerField()
    passed = serializers.IntegerField()
    pass_rate = serializers.FloatField()
    auto_errors = serializers.IntegerField()
    ok = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class BatchEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.StringRelatedField()
    reason = serializers.CharField()


class BatchDetailSerializer(BatchSerializer):
    page_counts = serializers.SerializerMethodField()
    qa_verdict = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "page_counts", "qa_verdict", "available_actions", "events"]
        read_only_fields = fields

    @extend_schema_field(PageCountsSerializer)
    def get_page_counts(self, batch: DigitizationBatch) -> dict:
        return PageCountsSerializer(selectors.batch_page_counts(batch)).data

    @extend_schema_field(QaVerdictSerializer(allow_null=True))
    def get_qa_verdict(self, batch: DigitizationBatch) -> dict | None:
        if batch.state != BatchState.QA:
            return None
        return QaVerdictSerializer(services.batch_qa_verdict(batch)).data

    def get_available_actions(self, batch: DigitizationBatch) -> list[str]:
        user = self.context["request"].user
        return [t.action for t in workflows.BATCH.available(state=batch.state, user=user)]

    @extend_schema_field(BatchEventSerializer(many=True))
    def get_events(self, batch: DigitizationBatch) -> list[dict]:
        return BatchEventSerializer(events_of(batch)[:200], many=True).data


class BatchCreateInput(serializers.Serializer):
    transfer = serializers.IntegerField(
        required=False, allow_null=True, help_text="移交清单 id（已移交或已接收）"
    )
    sample_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, default=5)
    pass_mark_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, default=95)


class ScanUploadInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), help_text="扫描文件，可多个")


class RejectedFileSerializer(serializers.Serializer):
    file = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class IntakeResultSerializer(serializers.Serializer):
    pages_added = serializers.IntegerField()
    files_accepted = serializers.IntegerField()
    rejected = RejectedFileSerializer(many=True)


BATCH_FILTERS = [
    OpenApiParameter("q", str, description="批次号或移交清单号"),
    OpenApiParameter("state", str, enum=BatchState.values),
    OpenApiParameter("created_from", str, description="YYYY-MM-DD"),
    OpenApiParameter("created_to", str, description="YYYY-MM-DD"),
]


@extend_schema_view(
    list=extend_schema(summary="数字化批次", parameters=BATCH_FILTERS),
    retrieve=extend_schema(summary="批次详情（任务进度、页数统计、质检结论）"),
    create=extend_schema(
        summary="新建数字化批次", request=BatchCreateInput, responses={201: BatchDetailSerializer}
    ),
)
class DigitizationBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """数字化批次（数字化加工人员、档案人员、科室负责人）。"""

    queryset = DigitizationBatch.objects.none()
    filter_backends: list = []
    permission_classes = [ActionPermissions]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    read_perms = (VIEW_PERM,)
    action_perms = {
        "create": (OPERATE_PERM,),
        "upload": (VIEW_PERM, OPERATE_PERM),
        "process": (VIEW_PERM, OPERATE_PERM),
    }

    def get_serializer_class(self):
        return BatchSerializer if self.action == "list" else BatchDetailSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DigitizationBatch.objects.none()
        params = self.request.query_params
        form = BatchFilterForm(params or None)
        if params and not form.is_valid():
            raise form_errors(form)
        return selectors.batch_search(user=self.request.user, filters=form.cleaned_data if params else {})

    def get_object(self):
        batch = selectors.batch_for(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, batch)
        return batch

    def _detail(self, batch: DigitizationBatch, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.batch_for(user=self.request.user, pk=batch.pk)
        return Response(BatchDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        form = BatchCreateForm(request.data, user=request.user)
        if not form.is_valid():
            raise form_errors(form)
        transfer = form.cleaned_data["transfer"]
        batch = call_service(
            services.batch_create,
            authority=transfer.authority if transfer else default_authority_for(request.user),
            actor=request.user,
            transfer=transfer,
            sample_percent=form.cleaned_data["sample_percent"],
            pass_mark_percent=form.cleaned_data["pass_mark_percent"],
        )
        return self._detail(batch, status.HTTP_201_CREATED)

    @extend_schema(
        summary="上传扫描件（multipart，字段 files 可多个）",
        request={"multipart/form-data": ScanUploadInput},
        responses={200: IntakeResultSerializer},
        description=(
            "逐个检查文件：空文件、非图像、损坏、超大或含脚本的 PDF 等列入 rejected 并说明原因，"
            "其余照常接收。"
        ),
    )
    @action(detail=True, methods=["post"])
    def upload(self, request, pk=None):
        batch = self.get_object()
        uploads = request.FILES.getlist("files")
        if not uploads:
            raise serializers.ValidationError({"files": ["请选择要上传的扫描文件。"]})
        files = [(upload.name, upload.read()) for upload in uploads]
        try:
            result = call_service(services.batch_add_scans, batch=batch, actor=request.user, files=files)
        except serializers.ValidationError as exc:
            # Not a bad file (those are in `rejected`): the batch no longer takes scans in its state.
            raise Conflict(" ".join(_messages(exc.detail))) from None
        return Response(IntakeResultSerializer(result).data)

    @extend_schema(
        summary="提交后台处理（图像处理、文字识别、著录标引）",
        request=None,
        responses={202: BatchDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def process(self, request, pk=None):
        batch = self.get_object()
        try:
            call_service(services.batch_start_processing, batch=batch, actor=request.user)
        except serializers.ValidationError as exc:
            raise Conflict(" ".join(_messages(exc.detail))) from None
        return self._detail(batch, status.HTTP_202_ACCEPTED)


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [str(m) for msgs in detail.values() for m in msgs]
    return [str(m) for m in detail]


router.register(
    "archive-digitization-batches", DigitizationBatchViewSet, basename="archive-digitization-batch"
)
