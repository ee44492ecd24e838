"""Background jobs: the runner, the progress page (HTMX partial), retry, and who may see a job."""

from __future__ import annotations

import pytest

from bizreg.core import jobs, services
from bizreg.core.models import BackgroundJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(celery_eager):
    return celery_eager


def _job(authority, user, kind="core.ping", **fields) -> BackgroundJob:
    return BackgroundJob.objects.create(authority=authority, kind=kind, created_by=user, **fields)


def test_ping_runner_reports_progress_and_result(make_user, authority):
    job = _job(authority, make_user("registration_clerk"), parameters={"steps": 4})
    assert jobs.execute(job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.attempts) == ("succeeded", 4, 4, 1)
    assert job.result == {"pong": True, "steps": 4}
    assert job.started_at and job.finished_at and job.error == ""


def test_a_finished_job_is_not_run_again(runners, make_user, authority):
    calls = []

    @runners.register_job_runner("test.count", label="计数")
    def count(job, progress):
        calls.append(job.pk)
        return {}

    job = _job(authority, make_user("registration_clerk"), kind="test.count")
    jobs.execute(job.pk)
    jobs.execute(job.pk)  # a redelivered message
    assert calls == [job.pk]


def test_runner_error_fails_the_job_with_its_message(runners, make_user, authority):
    @runners.register_job_runner("test.refuse", label="拒绝")
    def refuse(job, progress):
        progress(1, 10)
        raise jobs.JobError("第 3 行：统一社会信用代码重复。")

    job = _job(authority, make_user("registration_clerk"), kind="test.refuse")
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == "第 3 行：统一社会信用代码重复。"
    assert (job.done, job.total) == (1, 10)


def test_unexpected_exception_fails_the_job_without_crashing_the_worker(runners, make_user, authority):
    @runners.register_job_runner("test.crash", label="崩溃")
    def crash(job, progress):
        raise ZeroDivisionError("division by zero")

    job = _job(authority, make_user("registration_clerk"), kind="test.crash")
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error.startswith("处理出错：ZeroDivisionError")


def test_unknown_kind_and_missing_job(make_user, authority):
    job = _job(authority, make_user("registration_clerk"), kind="no.such.kind")
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert "未知的后台任务类型" in job.error
    assert jobs.execute(999_999) == "missing"


def test_bad_parameters_fail_with_a_chinese_message(make_user, authority):
    job = _job(authority, make_user("registration_clerk"), parameters={"steps": 5000})
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "步数应在 0–1000 之间" in job.error


def test_duplicate_runner_kind_is_an_error(runners):
    with pytest.raises(ValueError, match="重复注册"):
        runners.register_job_runner("core.ping", label="另一个")(lambda job, progress: {})


def test_submit_runs_after_commit(make_user, authority, eager, django_capture_on_commit_callbacks):
    user = make_user("registration_clerk")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.job_submit(authority=authority, kind="core.ping", actor=user, parameters={"steps": 2})
        job.refresh_from_db()
        assert job.status == "pending"  # nothing runs before the transaction commits
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == "succeeded"


# --- the job page -----------------------------------------------------------------------------------


def test_submitter_sees_progress_page_and_htmx_partial(make_user, client_for, authority):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="running", total=8, done=2)
    client = client_for(user)
    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "25%" in html and "处理中" in html and "已处理 2 / 8" in html
    assert "<html" in html
    assert 'hx-trigger="every 2s"' in html
    partial = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'id="job-progress"' in partial.content.decode()


def test_finished_job_stops_polling(make_user, client_for, authority):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="succeeded", total=3, done=3)
    html = client_for(user).get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in html and "100%" in html and "已完成" in html


def test_failed_job_shows_error_and_retry_button_to_its_submitter(make_user, client_for, authority):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="failed", error="第 2 行：<b>名称</b>不能为空")
    html = client_for(user).get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-testid="job-retry"' in html
    assert "&lt;b&gt;名称&lt;/b&gt;不能为空" in html


def test_retry_requeues_and_runs_the_job(
    make_user, client_for, authority, eager, django_capture_on_commit_callbacks
):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="failed", error="旧错误", parameters={"steps": 3}, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts, job.done) == ("succeeded", "", 2, 3)


def test_only_failed_jobs_can_be_retried(make_user, client_for, authority):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="succeeded")
    response = client_for(user).post(f"/jobs/{job.pk}/retry/", follow=True)
    assert "只有失败的任务可以重试" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_manager_sees_the_authoritys_jobs_but_cannot_retry_them(make_user, client_for, authority):
    job = _job(authority, make_user("registration_clerk"), status="failed", error="x")
    manager = client_for(make_user("manager"))
    page = manager.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    assert 'data-testid="job-retry"' not in page.content.decode()
    response = manager.post(f"/jobs/{job.pk}/retry/", follow=True)
    assert "只有任务提交人可以重试该任务" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "failed"


def test_jobs_of_others_are_not_found(make_user, client_for, authority, other_authority):
    job = _job(authority, make_user("registration_clerk"), status="failed")
    colleague = client_for(make_user("registration_clerk"))
    assert colleague.get(f"/jobs/{job.pk}/").status_code == 404
    assert colleague.post(f"/jobs/{job.pk}/retry/").status_code == 404
    other_manager = client_for(make_user("manager", authorities=[other_authority]))
    assert other_manager.get(f"/jobs/{job.pk}/").status_code == 404
    assert other_manager.get("/jobs/999999/").status_code == 404


def test_retry_needs_post(make_user, client_for, authority):
    user = make_user("registration_clerk")
    job = _job(authority, user, status="failed")
    assert client_for(user).get(f"/jobs/{job.pk}/retry/").status_code == 405
