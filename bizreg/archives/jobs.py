"""Background-job runners of archives (executed by core's Celery task `core.run_job`), on the "ocr" queue
so OCR work can be given its own workers when scaled out.

`archives.digitize`: process → OCR → index one batch's pages; `archives.import_batch`: searchable PDFs of
a batch that passed QA. Both resume where an earlier run stopped (each page/item records what is done).
`archives.born_digital_ingest` (submitted by registration when an online case completes): the case's
electronic documents straight into the e-archive (services.born_digital), on the default queue.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from bizreg.archives import exports  # noqa: F401 — registers the archive list's export
from bizreg.core.jobs import Progress, register_job_runner
from bizreg.core.models import BackgroundJob
from bizreg.registration.services.cases import ARCHIVE_INGEST_JOB_KIND


@register_job_runner(
    "archives.digitize", label=gettext_noop("档案数字化加工（图像处理、识别、著录）"), queue="ocr"
)
def run_digitize(job: BackgroundJob, progress: Progress) -> dict:
    from bizreg.archives.services import digitization

    return digitization.run_digitize_job(job, progress)


@register_job_runner("archives.import_batch", label=gettext_noop("数字化成果入库（可检索 PDF）"), queue="ocr")
def run_import(job: BackgroundJob, progress: Progress) -> dict:
    from bizreg.archives.services import digitization

    return digitization.run_import_job(job, progress)


@register_job_runner("archives.demo_scans", label=gettext_noop("生成演示扫描件"), queue="ocr")
def run_demo_scans(job: BackgroundJob, progress: Progress) -> dict:
    from bizreg.archives.demo import generate_demo_scans

    return generate_demo_scans(job, progress)


@register_job_runner("archives.search_rebuild", label=gettext_noop("重建档案全文索引"))
def run_search_rebuild(job: BackgroundJob, progress: Progress) -> dict:
    from bizreg.archives.services.search_index import search_rebuild

    return {"items": search_rebuild(authority=job.authority, progress=progress)}


@register_job_runner(ARCHIVE_INGEST_JOB_KIND, label=gettext_noop("电子原生档案入库（一网通办/全程电子化）"))
def run_born_digital_ingest(job: BackgroundJob, progress: Progress) -> dict:
    from bizreg.archives.services import born_digital

    return born_digital.run_born_digital_job(job, progress)
