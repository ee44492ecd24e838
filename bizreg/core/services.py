"""Writes owned by core: the personal-data access log and the background-job lifecycle."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bizreg.core.models import AccessLog, Authority, BackgroundJob


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *,
    user,
    action: str,
    object_type: str,
    object_id: str | int,
    fields: str,
    authority: Authority | None = None,
    object_label: str = "",
    record_count: int = 1,
    request=None,
) -> AccessLog:
    """Record that `user` saw or exported a full personal identifier."""
    return AccessLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        authority=authority,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:200],
        fields=fields[:200],
        record_count=record_count,
        ip_address=client_ip(request),
        path=(request.get_full_path()[:300] if request is not None else ""),
    )


def job_create(
    *,
    authority: Authority,
    kind: str,
    actor,
    parameters: dict | None = None,
    input_file=None,
    sha256: str = "",
) -> BackgroundJob:
    job = BackgroundJob(
        authority=authority,
        kind=kind,
        created_by=actor,
        parameters=parameters or {},
        input_sha256=sha256,
    )
    if input_file is not None:
        job.input_file.save(getattr(input_file, "name", "upload.bin"), input_file, save=False)
    job.save()
    return job


def job_start(*, job: BackgroundJob, total: int) -> None:
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.RUNNING,
        started_at=timezone.now(),
        total=total,
        done=0,
        error="",
        attempts=F("attempts") + 1,
    )
    job.refresh_from_db()


def job_progress(*, job: BackgroundJob, done: int, total: int | None = None) -> None:
    # Progress is written outside the job's own transaction so watchers see it while the job runs.
    changes = {"done": done} if total is None else {"done": done, "total": total}
    BackgroundJob.objects.filter(pk=job.pk).update(**changes)


@transaction.atomic
def job_finish(*, job: BackgroundJob, result: dict, failed: bool = False, error: str = "") -> None:
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.FAILED if failed else BackgroundJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
        result=result,
        error=error,
    )
    job.refresh_from_db()


def _enqueue_on_commit(job: BackgroundJob) -> None:
    from bizreg.core import jobs, tasks

    queue = jobs.queue_for(job.kind)
    transaction.on_commit(lambda: tasks.run_job.apply_async((job.pk,), queue=queue))


@transaction.atomic
def job_submit(
    *,
    authority: Authority,
    kind: str,
    actor,
    parameters: dict | None = None,
    input_file=None,
    sha256: str = "",
) -> BackgroundJob:
    """Create a job and hand it to a worker once the submitting transaction has committed."""
    job = job_create(
        authority=authority,
        kind=kind,
        actor=actor,
        parameters=parameters,
        input_file=input_file,
        sha256=sha256,
    )
    _enqueue_on_commit(job)
    return job


class JobNotRetryable(Exception):
    pass


@transaction.atomic
def job_retry(*, job: BackgroundJob, actor) -> BackgroundJob:
    """Queue a failed job again from the start (runners are idempotent); only its submitter may."""
    locked = BackgroundJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != BackgroundJob.Status.FAILED:
        raise JobNotRetryable("只有失败的任务可以重试。")
    if locked.created_by_id != getattr(actor, "pk", None):
        raise JobNotRetryable("只有任务提交人可以重试该任务。")
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.PENDING, done=0, error="", result={}, started_at=None, finished_at=None
    )
    job.refresh_from_db()
    _enqueue_on_commit(job)
    return job
