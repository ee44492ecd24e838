"""Writes owned by core: the personal-data access log and the background-job lifecycle."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bizreg.core.models import AccessLog, Authority, BackgroundJob

logger = logging.getLogger(__name__)

# A job that shows no sign of life for this long has lost its worker (killed, machine restarted) or its
# queue message (the broker restarted empty). Runners report progress at least every few seconds.
JOB_STALL_AFTER = dt.timedelta(minutes=30)
# Runs a job gets before a stall fails it for staff to look at instead of queueing it once more.
JOB_MAX_ATTEMPTS = 3


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


class JobSuperseded(Exception):
    """This run of a job was given up for dead and the job handed to another run: stop without writing."""


def job_start(*, job: BackgroundJob, total: int) -> bool:
    """Claim the job for this run; False when another live run has it (a duplicate or redelivered message).

    A queued job is claimed, and so is a running one quiet for longer than JOB_STALL_AFTER (its worker is
    gone). The claim numbers the run (attempts): later writes of an older run no longer match and are
    refused, so two workers never both finish one job.
    """
    now = timezone.now()
    claimable = Q(status=BackgroundJob.Status.PENDING) | Q(
        status=BackgroundJob.Status.RUNNING, heartbeat_at__lt=now - JOB_STALL_AFTER
    )
    claimed = (
        BackgroundJob.objects.filter(claimable, pk=job.pk).update(
            status=BackgroundJob.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            total=total,
            done=0,
            error="",
            attempts=F("attempts") + 1,
        )
        == 1
    )
    job.refresh_from_db()
    return claimed


def _this_run(job: BackgroundJob):
    return BackgroundJob.objects.filter(pk=job.pk, status=BackgroundJob.Status.RUNNING, attempts=job.attempts)


def job_progress(*, job: BackgroundJob, done: int, total: int | None = None) -> None:
    """Record progress (and that the run is alive); raises JobSuperseded when another run took the job."""
    # Progress is written outside the job's own transaction so watchers see it while the job runs.
    changes = {"done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        changes["total"] = total
    if not _this_run(job).update(**changes):
        raise JobSuperseded(f"后台任务 #{job.pk} 的第 {job.attempts} 次运行已被接替")


@transaction.atomic
def job_finish(*, job: BackgroundJob, result: dict, failed: bool = False, error: str = "") -> bool:
    """End this run of the job; False (nothing written) when another run has taken the job over."""
    finished = _this_run(job).update(
        status=BackgroundJob.Status.FAILED if failed else BackgroundJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        result=result,
        error=error,
    )
    job.refresh_from_db()
    return finished == 1


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
        status=BackgroundJob.Status.PENDING,
        done=0,
        error="",
        result={},
        started_at=None,
        finished_at=None,
        heartbeat_at=timezone.now(),
    )
    job.refresh_from_db()
    _enqueue_on_commit(job)
    return job


def job_recover_stalled(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Queue stalled jobs again, or fail them after JOB_MAX_ATTEMPTS runs; returns how many of each.

    A queued job whose message was lost is sent again (a duplicate message is harmless: job_start lets
    one run claim the job). A running job whose worker died goes back to the queue from the start
    (runners are idempotent) until it has had JOB_MAX_ATTEMPTS runs; then it fails with a message its
    submitter can act on, and the retry button queues it again.
    """
    now = now or timezone.now()
    minutes = int(JOB_STALL_AFTER.total_seconds() // 60)
    counts = {"requeued": 0, "failed": 0}
    stalled = BackgroundJob.objects.filter(
        status__in=(BackgroundJob.Status.PENDING, BackgroundJob.Status.RUNNING),
        heartbeat_at__lt=now - JOB_STALL_AFTER,
    )
    for job_id in list(stalled.values_list("pk", flat=True)):
        with transaction.atomic():
            job = stalled.select_for_update().filter(pk=job_id).first()
            if job is None:  # it moved on while we looked
                continue
            if job.status == BackgroundJob.Status.RUNNING and job.attempts >= JOB_MAX_ATTEMPTS:
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=BackgroundJob.Status.FAILED,
                    finished_at=now,
                    heartbeat_at=now,
                    error=(
                        f"任务已运行 {job.attempts} 次，每次都在处理中中断（超过 {minutes} 分钟无进展），"
                        "已停止自动重试。请检查输入文件或联系系统管理员后点击“重试”。"
                    ),
                )
                counts["failed"] += 1
                logger.warning(
                    "background job %s (%s) failed after %s stalled runs", job.pk, job.kind, job.attempts
                )
                continue
            BackgroundJob.objects.filter(pk=job.pk).update(
                status=BackgroundJob.Status.PENDING, done=0, started_at=None, heartbeat_at=now
            )
            _enqueue_on_commit(job)
            counts["requeued"] += 1
            logger.warning("background job %s (%s) stalled; queued again", job.pk, job.kind)
    return counts


def export_keep_hours() -> int:
    """How long a job's output file (an export with personal data, masked) stays downloadable."""
    return int(getattr(settings, "EXPORT_KEEP_HOURS", 24))


def job_store_output(*, job: BackgroundJob, content, filename: str) -> None:
    """Keep the file this run made (replacing an earlier run's); refused when another run took the job."""
    previous = job.output_file.name
    stored = default_storage.save(
        f"jobs/output/{timezone.localtime():%Y/%m}/job{job.pk}-{uuid.uuid4().hex}{Path(filename).suffix}",
        File(content),
    )
    if not _this_run(job).update(output_file=stored, heartbeat_at=timezone.now()):
        default_storage.delete(stored)
        raise JobSuperseded(f"后台任务 #{job.pk} 的第 {job.attempts} 次运行已被接替")
    if previous:
        default_storage.delete(previous)
    job.refresh_from_db()


def job_output_expires_at(job: BackgroundJob) -> dt.datetime | None:
    if not job.output_file or job.finished_at is None:
        return None
    return job.finished_at + dt.timedelta(hours=export_keep_hours())


def job_purge_expired_outputs(*, now: dt.datetime | None = None) -> int:
    """Delete the output files kept longer than export_keep_hours(); the job records that its file expired.
    Returns how many files were deleted."""
    now = now or timezone.now()
    expired = BackgroundJob.objects.exclude(output_file="").filter(
        finished_at__lt=now - dt.timedelta(hours=export_keep_hours())
    )
    purged = 0
    for job in expired:
        with transaction.atomic():
            locked = BackgroundJob.objects.select_for_update().get(pk=job.pk)
            if not locked.output_file:
                continue
            name = locked.output_file.name
            locked.output_file = ""
            locked.result = {**locked.result, "expired_at": now.isoformat()}
            locked.save(update_fields=["output_file", "result"])
            transaction.on_commit(lambda name=name: default_storage.delete(name))
            purged += 1
    return purged
