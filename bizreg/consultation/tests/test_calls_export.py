"""The call list's Excel export: the filtered calls, numbers masked unless the user may see them whole."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bizreg.consultation.models import CallOutcome
from bizreg.consultation.selectors.calls import EXPORT_HEADERS
from bizreg.consultation.tests.metrics_fixtures import local, make_call, make_hotline
from bizreg.core.models import AccessLog, BackgroundJob

pytestmark = pytest.mark.django_db


def _rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return list(sheet.iter_rows(values_only=True))


def test_export_holds_the_filtered_calls_with_masked_numbers(
    authority, other_authority, role_users, client_for
):
    hotline = make_hotline(authority)
    make_call(hotline, offered_at=local(2025, 3, 3, 9), talk=120, resolved=True)
    make_call(hotline, offered_at=local(2025, 3, 3, 10), outcome=CallOutcome.ABANDONED, wait=30)
    make_call(make_hotline(other_authority, number="39914116"), offered_at=local(2025, 3, 3, 9))

    rows = _rows(client_for(role_users["hotline_agent"]).get("/consultation/calls/export/?outcome=abandoned"))

    assert rows[0] == EXPORT_HEADERS
    assert len(rows) == 2  # only this authority's abandoned call
    number = rows[1][EXPORT_HEADERS.index("来电号码")]
    assert number != "13812345678" and number.endswith("5678")


def test_whole_numbers_need_the_permission(role_users, client_for, authority):
    make_call(make_hotline(authority), offered_at=local(2025, 3, 3, 9))
    response = client_for(role_users["hotline_agent"]).get("/consultation/calls/export/?full=1")
    assert response.status_code == 403


def test_a_bad_filter_is_reported_not_exported(role_users, client_for):
    response = client_for(role_users["hotline_agent"]).get("/consultation/calls/export/?date_from=2025-13-01")
    assert response.status_code == 302 and "/consultation/calls/" in response["Location"]


def test_whole_numbers_are_logged_at_once_or_when_the_worker_writes_them(
    authority, role_users, client_for, settings, celery_eager, django_capture_on_commit_callbacks
):
    hotline = make_hotline(authority)
    for hour in (9, 10):
        make_call(hotline, offered_at=local(2025, 3, 3, hour), talk=60)
    manager = role_users["manager"]
    rows = _rows(client_for(manager).get("/consultation/calls/export/?full=1"))
    assert {r[EXPORT_HEADERS.index("来电号码")] for r in rows[1:]} == {"13812345678"}
    log = AccessLog.objects.get()
    assert (log.user, log.record_count, log.fields, log.authority) == (manager, 2, "caller_number", authority)

    settings.EXPORT_INLINE_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        queued = client_for(manager).get("/consultation/calls/export/?full=1")
    job = BackgroundJob.objects.get(kind="core.export")
    assert queued["Location"] == f"/jobs/{job.pk}/"
    assert _rows(client_for(manager).get(f"/jobs/{job.pk}/download/")) == rows
    assert AccessLog.objects.count() == 2 and AccessLog.objects.latest("pk").record_count == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2025-03-05&date_to=2025-03-01", "起始日期不能晚于截止日期"),
        ("date_from=2025-13-01", "请输入有效日期（YYYY-MM-DD）"),
    ],
)
def test_call_list_reports_a_bad_date_range(role_users, client_for, query, message):
    response = client_for(role_users["hotline_agent"]).get(f"/consultation/calls/?{query}")
    assert response.status_code == 200
    assert not response.context["form"].is_valid()
    assert message in str(response.context["form"].errors)
