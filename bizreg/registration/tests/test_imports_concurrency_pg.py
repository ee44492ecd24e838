"""Real races on PostgreSQL: the same batch imported twice at once, two clerks opening one follow-up task."""

from __future__ import annotations

import pytest
from django.db import connection

from bizreg.core import jobs
from bizreg.core.models import BackgroundJob
from bizreg.registration.models import CaseState, Channel, FollowUpTask, RegistrationCase
from bizreg.registration.services import imports
from bizreg.registration.services import records as record_services
from bizreg.registration.tests.records_fixtures import make_case
from bizreg.registration.tests.test_imports_online import change_row, establishment_row, json_upload
from bizreg.testing import factories
from bizreg.testing.concurrency import race

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles, streets
# and materials checklists the migrations loaded.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_same_batch_imported_twice_at_once_creates_each_case_once(
    authority, role_users, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    clerk = role_users["registration_clerk"]
    enterprise = factories.EnterpriseFactory(authority=authority)
    rows = [change_row(enterprise), establishment_row()]
    job_ids = [
        imports.online_import_submit(
            authority=authority, actor=clerk, upload=json_upload(rows), good_rows_only=False
        ).pk
        for _ in range(2)
    ]
    assert connection.vendor == "postgresql"
    race(*[lambda job_id=job_id: jobs.execute(job_id) for job_id in job_ids])
    assert RegistrationCase.objects.count() == 2
    assert sorted(RegistrationCase.objects.values_list("external_id", flat=True)) == sorted(
        r["external_id"] for r in rows
    )
    finished = {job.pk: job for job in BackgroundJob.objects.filter(pk__in=job_ids)}
    imported = sum(j.result.get("imported", 0) for j in finished.values())
    assert imported == 2
    for job in finished.values():
        if job.status == BackgroundJob.Status.FAILED:
            # The slower one saw the rows appear after validating: it wrote nothing and asks for a retry,
            # which then finds every row already imported.
            assert "重试" in job.error
            job.status = BackgroundJob.Status.PENDING
            job.save()
            jobs.execute(job.pk)
            job.refresh_from_db()
            assert job.result["already_imported"] == 2 and job.result["imported"] == 0
    assert RegistrationCase.objects.count() == 2


def test_two_clerks_opening_one_follow_up_get_the_same_task(authority, make_user):
    clerks = [make_user("registration_clerk") for _ in range(2)]
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED)
    results = race(
        *[lambda clerk=clerk: record_services.follow_up_create(case=case, actor=clerk) for clerk in clerks]
    )
    assert all(isinstance(r, FollowUpTask) for r in results), results
    assert results[0].pk == results[1].pk
    assert FollowUpTask.objects.count() == 1
