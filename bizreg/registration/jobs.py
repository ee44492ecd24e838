"""Background-job runners of the registration app (executed by core's Celery task `core.run_job`).

Split by area like services/: each block registers the runners of one area.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from bizreg.core.jobs import Progress, register_job_runner
from bizreg.core.models import BackgroundJob
from bizreg.registration import exports  # noqa: F401 — registers the registration lists' Excel exports
from bizreg.registration.services import imports as import_services


# --- records (helper "records"): import of online submissions -------------------------------------------
@register_job_runner(import_services.IMPORT_JOB_KIND, label=gettext_noop("一网通办申请导入"))
def run_online_import(job: BackgroundJob, progress: Progress) -> dict:
    return import_services.online_import_execute(job=job, progress=progress)
