"""Background-job runners of the register (executed by core's Celery task `core.run_job`).

Both are idempotent: the import recognises rows it already wrote, and recomputing FTZ tags twice gives
the same tags.
"""

from __future__ import annotations

from bizreg.core.jobs import Progress, register_job_runner
from bizreg.core.models import BackgroundJob
from bizreg.enterprises import exports, services  # noqa: F401 — exports registers the register's export


@register_job_runner(services.IMPORT_JOB_KIND, label="商事主体 Excel 导入")
def run_import(job: BackgroundJob, progress: Progress) -> dict:
    return services.enterprise_import_execute(job=job, progress=progress)


@register_job_runner(services.FTZ_RECOMPUTE_JOB_KIND, label="自贸区标记重新判定")
def run_ftz_recompute(job: BackgroundJob, progress: Progress) -> dict:
    changed = services.ftz_rules_recompute(authority=job.authority, actor=job.created_by, progress=progress)
    return {"changed": changed}
