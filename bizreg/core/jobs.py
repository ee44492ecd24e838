"""Runners of background jobs (BackgroundJob), by kind, and the one place that executes them.

An app registers the function that does one kind of job in its own `jobs.py` (imported at start-up):

    @register_job_runner("enterprises.import", label="商事主体导入")
    def run_import(job: BackgroundJob, progress: Progress) -> dict: ...

The runner reads its input from the job (parameters, input_file), reports progress with
`progress(done, total)` and returns the result dict; raising JobError fails the job with that message.
Runners must be idempotent: a retried or redelivered job runs again from the start.

`core.tasks.run_job` is the Celery task that calls `execute`; services.job_submit/job_retry enqueue it
on the runner's queue once the submitting transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.utils.translation import gettext, gettext_noop

from bizreg.core.models import BackgroundJob

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
JobRunner = Callable[[BackgroundJob, Progress], dict]

DEFAULT_QUEUE = "celery"


class JobError(Exception):
    """A failure the runner can explain to staff; its message (Chinese) is shown on the job page."""


@dataclass(frozen=True)
class RunnerEntry:
    kind: str
    label: str
    func: JobRunner
    queue: str


_RUNNERS: dict[str, RunnerEntry] = {}


def register_job_runner(
    kind: str, *, label: str, queue: str = DEFAULT_QUEUE
) -> Callable[[JobRunner], JobRunner]:
    def decorator(func: JobRunner) -> JobRunner:
        existing = _RUNNERS.get(kind)
        if existing is not None and existing.func is not func:
            raise ValueError(f"后台任务类型 {kind} 重复注册")
        _RUNNERS[kind] = RunnerEntry(kind=kind, label=label, func=func, queue=queue)
        return func

    return decorator


def get_runner(kind: str) -> RunnerEntry | None:
    return _RUNNERS.get(kind)


def kind_label(kind: str) -> str:
    """The kind's label in the active language (register labels wrapped in gettext_noop)."""
    entry = _RUNNERS.get(kind)
    return gettext(entry.label) if entry else kind


def queue_for(kind: str) -> str:
    entry = _RUNNERS.get(kind)
    return entry.queue if entry else DEFAULT_QUEUE


def autodiscover() -> None:
    """Import each app's `jobs.py` so web processes and workers know every runner and its queue."""
    for config in apps.get_app_configs():
        if config.name.startswith("bizreg.") and config.name != "bizreg.core":
            try:
                import_module(f"{config.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.jobs":
                    raise


def execute(job_id: int) -> str:
    """Run one job to its end and return its final status; safe to call again for the same job."""
    from bizreg.core import services

    job = BackgroundJob.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("background job %s no longer exists", job_id)
        return "missing"
    # A redelivered or duplicate message must not run a job that is finished or that a live run holds.
    if not services.job_start(job=job, total=job.total):
        return job.status
    entry = get_runner(job.kind)
    if entry is None:
        services.job_finish(job=job, result={}, failed=True, error=f"未知的后台任务类型：{job.kind}")
        return job.status

    def progress(done: int, total: int) -> None:
        services.job_progress(job=job, done=done, total=total)

    try:
        result = entry.func(job, progress)
    except services.JobSuperseded:
        logger.warning("background job %s (%s): run %s was superseded", job.pk, job.kind, job.attempts)
        return "superseded"
    except JobError as exc:
        services.job_finish(job=job, result={}, failed=True, error=str(exc))
    except Exception as exc:
        logger.exception("background job %s (%s) failed", job.pk, job.kind)
        services.job_finish(
            job=job, result={}, failed=True, error=f"处理出错：{type(exc).__name__}: {exc}"[:2000]
        )
    else:
        services.job_finish(job=job, result=result or {})
    return job.status


@register_job_runner("core.ping", label=gettext_noop("连通性检查"))
def run_ping(job: BackgroundJob, progress: Progress) -> dict:
    """Proves the worker, the broker and the database are connected: counts through a few steps."""
    steps = int(job.parameters.get("steps", 3))
    if steps < 0 or steps > 1000:
        raise JobError("步数应在 0–1000 之间。")
    for done in range(1, steps + 1):
        progress(done, steps)
    return {"pong": True, "steps": steps}
