"""Celery tasks of core: the generic background-job runner (thin: the work is in core.jobs)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.run_job", ignore_result=True, acks_late=True)
def run_job(job_id: int) -> str:
    from bizreg.core import jobs

    return jobs.execute(job_id)


@shared_task(name="core.recover_stalled_jobs", ignore_result=True)
def recover_stalled_jobs() -> dict[str, int]:
    from bizreg.core import services

    return services.job_recover_stalled()


@shared_task(name="core.purge_expired_outputs", ignore_result=True)
def purge_expired_outputs() -> int:
    from bizreg.core import services

    return services.job_purge_expired_outputs()
