"""Large Excel exports as background jobs: the file, who may download it, its expiry, and the refusals."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.core import exports, jobs, services
from bizreg.core.models import Authority, BackgroundJob

pytestmark = pytest.mark.django_db

PERMISSION = "registration.view_registrationcase"


def _authority_rows(user, query):
    """A test export: the authorities whose name contains ?q=."""
    authorities = Authority.objects.filter(name__contains=query.get("q", "")).order_by("code")
    if query.get("q") == "坏":
        raise exports.ExportRefused("筛选条件无效，请修改后再导出。")
    return exports.ExportSpec(
        title="登记机关",
        headers=("代码", "名称"),
        rows=authorities.values_list("code", "name"),
        filename="登记机关.xlsx",
        counted=authorities,
        max_rows=3,
    )


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setattr(exports, "_EXPORTS", {})
    exports.register_export(
        "test.authorities", label="登记机关", permissions=(PERMISSION,), build=_authority_rows
    )


def _export_job(authority, user, query="q=") -> BackgroundJob:
    return BackgroundJob.objects.create(
        authority=authority,
        kind=exports.EXPORT_JOB_KIND,
        created_by=user,
        parameters={"export": "test.authorities", "query": query},
    )


def _cells(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_job_writes_the_file_only_its_submitter_downloads(
    registered, client_for, make_user, authority, other_authority
):
    clerk, manager = make_user("registration_clerk"), make_user("manager")
    job = _export_job(authority, clerk)
    assert jobs.execute(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["rows"] == 2 and job.result["filename"] == "登记机关.xlsx"
    assert (job.done, job.total) == (2, 2)

    page = client_for(clerk).get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-download"' in page and "共 2 行" in page
    download = client_for(clerk).get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    rows = _cells(b"".join(download.streaming_content))
    assert rows[0] == ["代码", "名称"] and {r[0] for r in rows[1:]} == {authority.code, other_authority.code}

    # A supervisor sees the job but not the file; someone else's job is not found at all.
    seen = client_for(manager).get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-download"' not in seen and "仅提交人可下载" in seen
    assert client_for(manager).get(reverse("core:job_download", args=[job.pk])).status_code == 404
    assert (
        client_for(make_user("registration_clerk"))
        .get(reverse("core:job_download", args=[job.pk]))
        .status_code
        == 404
    )


def test_a_run_again_replaces_the_file(registered, make_user, authority):
    job = _export_job(authority, make_user("registration_clerk"))
    jobs.execute(job.pk)
    job.refresh_from_db()
    first = job.output_file.name
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.PENDING)
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.output_file.name != first and not default_storage.exists(first)
    assert default_storage.exists(job.output_file.name)


def test_expired_files_are_deleted_and_the_page_says_so(
    registered, client_for, make_user, authority, django_capture_on_commit_callbacks
):
    clerk = make_user("registration_clerk")
    job = _export_job(authority, clerk)
    jobs.execute(job.pk)
    job.refresh_from_db()
    name = job.output_file.name
    kept = job.finished_at + dt.timedelta(hours=services.export_keep_hours())
    assert services.job_purge_expired_outputs(now=kept - dt.timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):  # the file goes once the purge has committed
        assert services.job_purge_expired_outputs(now=kept + dt.timedelta(minutes=1)) == 1
    job.refresh_from_db()
    assert not job.output_file and "expired_at" in job.result and not default_storage.exists(name)
    gone = client_for(clerk).get(reverse("core:job_download", args=[job.pk]))
    assert gone.status_code == 404
    page = client_for(clerk).get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-output-expired"' in page


@pytest.mark.parametrize(
    ("query", "parameters", "message"),
    [
        ("q=", {"export": "test.nothing"}, "未知的导出：test.nothing"),
        ("q=坏", {}, "筛选条件无效"),
        ("q=", {}, None),  # filled in below: over the export's limit
    ],
)
def test_refusals_fail_the_job_with_the_reason(registered, make_user, authority, query, parameters, message):
    if message is None:
        for code in ("440101", "440103", "440104"):
            Authority.objects.create(code=code, name=f"测试登记机关{code}", division_code=code)
        message = "导出结果超过 3 条"
    job = _export_job(authority, make_user("registration_clerk"), query=query)
    if parameters:
        BackgroundJob.objects.filter(pk=job.pk).update(parameters={**job.parameters, **parameters})
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert message in job.error and not job.output_file


def test_a_submitter_who_lost_the_right_gets_no_file(registered, make_user, authority):
    job = _export_job(authority, make_user("finance_officer"))  # a role without the list's permission
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert "提交人已无该导出的权限" in job.error and not job.output_file


def test_the_purge_runs_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["core-purge-expired-outputs"]
    assert entry["task"] == "core.purge_expired_outputs" and entry["schedule"] == 3600.0


def test_the_job_page_links_back_to_a_list_of_this_site_only(registered, client_for, make_user, authority):
    clerk = make_user("registration_clerk")
    job = _export_job(authority, clerk)
    url = reverse("core:job_detail", args=[job.pk])
    for back, shown in (
        ("/registration/cases/?q=1", True),
        ("https://evil.example/", False),
        ("//evil", False),
    ):
        BackgroundJob.objects.filter(pk=job.pk).update(parameters={**job.parameters, "back_url": back})
        page = client_for(clerk).get(url).content.decode()
        assert ('data-testid="job-back"' in page) is shown and ("evil" in page) is False, back
