"""Background jobs through the configured broker to a real Celery worker (not eager mode).

The broker is whatever the settings say: kombu's filesystem transport under var/ in the embedded
default (SQLite pass), Redis when CELERY_BROKER_URL points at one (PostgreSQL pass). The worker runs
in a thread of this process; each test sends to its own queue, so a worker of `make run` sharing the
broker never takes these messages. Every wait is bounded.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from bizreg.core import jobs, services
from bizreg.core.models import BackgroundJob
from bizreg.testing.celery import own_queue_name, worker_on
from config.celery import app as celery_app

# serialized_rollback: the roles (groups) come from a data migration, which a transactional flush removes.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.timeout(90)]

FINISHED = (BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.FAILED)


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own, and a registry where the test's job kinds are sent to it."""
    name = own_queue_name()
    monkeypatch.setattr(jobs, "_RUNNERS", dict(jobs._RUNNERS))
    return name


@pytest.fixture
def worker(queue):
    with worker_on(queue, shutdown_timeout=30) as running:
        yield running


def _wait_until_finished(job: BackgroundJob, timeout: float = 45.0) -> BackgroundJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout} s")


def test_broker_is_the_configured_one():
    expected = settings.CELERY_BROKER_URL.split("://", 1)[0]
    assert celery_app.connection_for_write().transport_cls == expected
    assert expected in ("filesystem", "redis")


def test_ping_job_runs_on_a_real_worker(queue, worker, make_user, authority):
    jobs.register_job_runner(f"test.ping.{queue}", label="连通性检查（测试）", queue=queue)(jobs.run_ping)
    user = make_user("registration_clerk")
    job = services.job_submit(
        authority=authority, kind=f"test.ping.{queue}", actor=user, parameters={"steps": 5}
    )
    job = _wait_until_finished(job)
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    assert (job.done, job.total, job.percent, job.attempts) == (5, 5, 100, 1)
    assert job.result == {"pong": True, "steps": 5}


def test_failed_job_retried_through_the_worker(queue, worker, make_user, authority):
    def flaky(job, progress):
        # Fails on its first attempt (say, the upload was still being written) and succeeds when retried.
        if job.attempts == 1:
            raise jobs.JobError("输入文件暂不可读，请稍后重试。")
        progress(1, 1)
        return {"ok": True}

    kind = f"test.flaky.{queue}"
    jobs.register_job_runner(kind, label="偶发失败（测试）", queue=queue)(flaky)
    user = make_user("registration_clerk")
    job = _wait_until_finished(services.job_submit(authority=authority, kind=kind, actor=user))
    assert job.status == BackgroundJob.Status.FAILED
    assert job.error == "输入文件暂不可读，请稍后重试。"

    services.job_retry(job=job, actor=user)
    job = _wait_until_finished(job)
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.error
    assert (job.attempts, job.result, job.error) == (2, {"ok": True}, "")
