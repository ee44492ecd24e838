"""Background-job runners of consultation (executed by core's Celery task `core.run_job`).

`consultation.import_pbx`: a big PBX upload, imported by services.pbx_import in the worker. Idempotent: a
retried job resumes its batch (records it already wrote count as its own; calls are upserted).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from bizreg.consultation import exports  # noqa: F401 — registers the call log's export
from bizreg.core.jobs import JobError, Progress, register_job_runner
from bizreg.core.models import BackgroundJob


@register_job_runner("consultation.import_pbx", label=gettext_noop("话单/队列日志/满意度导入"))
def run_pbx_import(job: BackgroundJob, progress: Progress) -> dict:
    from bizreg.consultation.models import PbxImportBatch
    from bizreg.consultation.services import pbx_import

    batch = PbxImportBatch.objects.filter(pk=job.parameters.get("batch_id"), authority=job.authority).first()
    if batch is None:
        raise JobError("导入批次不存在（可能已被删除）。")
    try:
        batch = pbx_import.pbx_import_execute(batch=batch, progress=progress)
    except Exception as exc:
        pbx_import.mark_failed(batch=batch, message=f"处理出错：{type(exc).__name__}: {exc}"[:1000])
        raise
    if batch.status == PbxImportBatch.Status.FAILED:
        raise JobError(batch.errors[0]["message"] if batch.errors else "导入失败。")
    return {
        "batch_id": batch.pk,
        "status": batch.status,
        "lines": batch.lines_total,
        "new": batch.records_new,
        "duplicates": batch.records_duplicate,
        "rejected": batch.lines_rejected,
    }
