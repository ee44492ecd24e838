import io

import pytest
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from bizreg.core import jobs
from bizreg.core.models import AccessLog, BackgroundJob
from bizreg.enterprises import excel, services
from bizreg.enterprises.tests.conftest import next_uscc, wrong_check_digit

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def test_export_of_the_filtered_result_with_masked_ids(client_for, clerk, create, investigator):
    locked = create(name="广州海港科技有限公司", registered_capital="1234500")
    services.enterprise_lock(enterprise=locked, actor=investigator, reason="x")
    create(name="广州精工制造有限公司")
    response = client_for(clerk).get("/enterprises/export/", {"q": "海港"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = rows_of(response)
    assert [r["名称"] for r in rows] == ["广州海港科技有限公司"]
    row = rows[0]
    assert list(row) == list(excel.EXPORT_HEADERS)
    assert (
        row["法定代表人身份证号"]
        == locked.legal_rep_id_number[:4] + "*" * 10 + locked.legal_rep_id_number[-4:]
    )
    assert row["注册资本（万元）"] == 123.45
    assert row["锁定"] == "锁定"
    assert row["代码校验例外"] is None
    assert not AccessLog.objects.exists()


def test_export_marks_uscc_exceptions(client_for, clerk, manager, authority, create):
    code = wrong_check_digit(next_uscc())
    services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="试点")
    create(uscc=code)
    rows = rows_of(client_for(clerk).get("/enterprises/export/"))
    assert rows[0]["代码校验例外"] == "例外"


def test_full_id_export_is_logged_with_the_record_count(client_for, clerk, create):
    first, second = create(), create()
    response = client_for(clerk).get("/enterprises/export/", {"full_id": "1"})
    ids = {r["法定代表人身份证号"] for r in rows_of(response)}
    assert ids == {first.legal_rep_id_number, second.legal_rep_id_number}
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.record_count, log.fields) == (clerk, "export", 2, "legal_rep_id_number")


def test_full_id_export_needs_the_personal_data_permission(client_for, role_users, create):
    create()
    response = client_for(role_users["enterprise_officer"]).get("/enterprises/export/", {"full_id": "1"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_export_over_the_cap_is_refused_with_a_message(client_for, clerk, create, settings):
    settings.ENTERPRISE_EXPORT_MAX_ROWS = 1
    create()
    create()
    response = client_for(clerk).get("/enterprises/export/", {"status": "active"}, follow=True)
    html = response.content.decode()
    assert "导出结果超过 1 条" in html
    assert response.redirect_chain[-1][0] == "/enterprises/?status=active"


def test_formula_and_markup_in_names_are_exported_as_plain_text(client_for, clerk, create):
    create(name='=HYPERLINK("http://evil.example","点我")', address="+1+2 <script>alert(1)</script>")
    create(name="@SUM(A1:A9)有限公司", address="-3 号\x07铃声")
    response = client_for(clerk).get("/enterprises/export/", {"sort": "uscc"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert '\'=HYPERLINK("http://evil.example","点我")' in texts
    assert "'+1+2 <script>alert(1)</script>" in texts
    assert "'@SUM(A1:A9)有限公司" in texts
    assert "'-3 号铃声" in texts  # the control character Excel refuses is dropped, the text stays


def test_safe_cell_leaves_ordinary_values_alone():
    assert excel.safe_cell("广州南沙") == "广州南沙"
    assert excel.safe_cell(12) == 12
    assert excel.safe_cell("=1+1") == "'=1+1"


def test_a_large_full_id_export_is_made_in_the_background_and_logged_then(
    client_for, clerk, create, settings, celery_eager, django_capture_on_commit_callbacks
):
    first, second = create(), create()
    settings.EXPORT_INLINE_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        queued = client_for(clerk).get("/enterprises/export/", {"full_id": "1"})
    job = BackgroundJob.objects.get(kind="core.export")
    assert queued.status_code == 302 and queued["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    # Logged when the worker wrote the identifiers, with the submitter and the count, not at the request.
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.record_count, log.ip_address) == (clerk, "export", 2, None)
    rows = rows_of(client_for(clerk).get(f"/jobs/{job.pk}/download/"))
    assert {r["法定代表人身份证号"] for r in rows} == {first.legal_rep_id_number, second.legal_rep_id_number}


def test_a_background_full_id_export_fails_when_the_right_is_gone(client_for, clerk, create, settings):
    create(), create()
    settings.EXPORT_INLINE_MAX_ROWS = 1
    client_for(clerk).get("/enterprises/export/", {"full_id": "1"})  # queued; the worker has not run yet
    job = BackgroundJob.objects.get(kind="core.export")
    clerk.groups.clear()
    clerk.user_permissions.add(Permission.objects.get(codename="export_enterprise"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # a fresh permission cache, as the worker has
    assert jobs.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert "提交人已无该导出的权限" in job.error and "完整身份证号" in job.error
    assert not job.output_file and not AccessLog.objects.exists()
