"""Stalled background jobs: a lost queue message, a dead worker, a duplicate message, a run taken over."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from bizreg.core import jobs, services, tasks
from bizreg.core.models import BackgroundJob

pytestmark = pytest.mark.django_db

QUIET = services.JOB_STALL_AFTER + dt.timedelta(minutes=1)


def _job(authority, user, **fields) -> BackgroundJob:
    fields.setdefault("kind", "core.ping")
    fields.setdefault("parameters", {"steps": 2})
    return BackgroundJob.objects.create(authority=authority, created_by=user, **fields)


def _quiet_for(job: BackgroundJob, quiet: dt.timedelta) -> None:
    BackgroundJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - quiet)


def test_a_queued_job_whose_message_was_lost_is_sent_again_and_runs(
    make_user, authority, celery_eager, django_capture_on_commit_callbacks
):
    user = make_user("registration_clerk")
    lost = _job(authority, user)
    _quiet_for(lost, QUIET)
    waiting = _job(authority, user)  # queued a moment ago: still in the queue
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_recover_stalled() == {"requeued": 1, "failed": 0}
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert (lost.status, lost.attempts, lost.done) == ("succeeded", 1, 2)
    assert (waiting.status, waiting.attempts) == ("pending", 0)


def test_a_running_job_whose_worker_died_runs_again_from_the_start(
    make_user, authority, celery_eager, django_capture_on_commit_callbacks
):
    job = _job(authority, make_user("registration_clerk"), status="running", attempts=1, done=1, total=2)
    _quiet_for(job, QUIET)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_recover_stalled() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.error) == ("succeeded", 2, 2, "")


def test_a_job_that_stalls_on_every_run_fails_for_its_submitter_to_retry(
    make_user, client_for, authority, django_capture_on_commit_callbacks
):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="running", attempts=services.JOB_MAX_ATTEMPTS, done=5, total=9)
    _quiet_for(job, QUIET)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert services.job_recover_stalled() == {"requeued": 0, "failed": 1}
    assert queued == []
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert "已停止自动重试" in job.error and "30 分钟无进展" in job.error
    page = client_for(user).get(f"/jobs/{job.pk}/").content.decode()
    assert "已停止自动重试" in page and 'data-testid="job-retry"' in page


def test_live_and_finished_jobs_are_left_alone(make_user, authority, django_capture_on_commit_callbacks):
    user = make_user("registration_clerk")
    running = _job(authority, user, status="running", attempts=1)
    _quiet_for(running, services.JOB_STALL_AFTER - dt.timedelta(minutes=1))
    finished = [_job(authority, user, status=status) for status in ("succeeded", "failed")]
    for job in finished:
        _quiet_for(job, dt.timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert services.job_recover_stalled() == {"requeued": 0, "failed": 0}
    assert queued == []
    statuses = dict(BackgroundJob.objects.values_list("pk", "status"))
    assert statuses == {running.pk: "running", finished[0].pk: "succeeded", finished[1].pk: "failed"}


def test_a_duplicate_message_does_not_run_a_job_a_live_run_holds(runners, make_user, authority):
    calls = []

    @runners.register_job_runner("test.count", label="计数")
    def count(job, progress):
        calls.append(job.pk)
        return {}

    job = _job(authority, make_user("registration_clerk"), kind="test.count", status="running", attempts=1)
    assert jobs.execute(job.pk) == "running"
    assert calls == []
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    # Quiet past the stall limit, the same message takes the job over (a redelivery after a worker died).
    _quiet_for(job, QUIET)
    assert jobs.execute(job.pk) == "succeeded"
    assert calls == [job.pk]


def test_a_run_given_up_for_dead_stops_without_writing_when_it_wakes(runners, make_user, authority):
    @runners.register_job_runner("test.slow", label="慢任务")
    def slow(job, progress):
        progress(1, 3)
        # Meanwhile the job was given up for dead and another run claimed it.
        BackgroundJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1, done=0)
        progress(2, 3)
        return {"written_by": "the old run"}

    job = _job(authority, make_user("registration_clerk"), kind="test.slow")
    assert jobs.execute(job.pk) == "superseded"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.result) == ("running", 2, 0, {})


def test_a_stale_run_cannot_finish_a_job_another_run_holds(make_user, authority):
    job = _job(authority, make_user("registration_clerk"))
    assert services.job_start(job=job, total=2)
    old_run = BackgroundJob.objects.get(pk=job.pk)
    _quiet_for(job, QUIET)
    assert services.job_start(job=job, total=2)  # the new run
    assert not services.job_finish(job=old_run, result={"from": "old"}, failed=True, error="旧运行")
    assert services.job_finish(job=job, result={"from": "new"})
    job.refresh_from_db()
    assert (job.status, job.result, job.error, job.attempts) == ("succeeded", {"from": "new"}, "", 2)


def test_the_sweep_is_a_scheduled_task(
    make_user, authority, celery_eager, django_capture_on_commit_callbacks
):
    schedule = settings.CELERY_BEAT_SCHEDULE["core-recover-stalled-jobs"]
    assert schedule["task"] == tasks.recover_stalled_jobs.name and schedule["schedule"] <= 600
    job = _job(authority, make_user("registration_clerk"))
    _quiet_for(job, QUIET)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.recover_stalled_jobs.delay().get() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_progress_and_retry_are_signs_of_life(make_user, authority):
    user = make_user("registration_clerk")
    job = _job(authority, user)
    assert services.job_start(job=job, total=4)
    _quiet_for(job, QUIET)
    services.job_progress(job=job, done=1)
    job.refresh_from_db()
    assert timezone.now() - job.heartbeat_at < dt.timedelta(minutes=1)
    services.job_finish(job=job, result={}, failed=True, error="x")
    _quiet_for(job, QUIET)
    services.job_retry(job=job, actor=user)
    job.refresh_from_db()
    assert job.status == "pending" and timezone.now() - job.heartbeat_at < dt.timedelta(minutes=1)
