"""Excel import: the whole file or nothing, a per-row report, and files that cannot be imported at all."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from bizreg.core.identifiers import build_resident_id
from bizreg.core.models import BackgroundJob
from bizreg.enterprises import excel, services
from bizreg.enterprises.models import Enterprise
from bizreg.enterprises.tests.conftest import next_uscc, wrong_check_digit

pytestmark = pytest.mark.django_db

HEADERS = [header for header, _ in excel.IMPORT_COLUMNS]


def good_row(**overrides) -> list:
    row = {
        "统一社会信用代码": next_uscc(),
        "名称": "广州南沙导入测试有限公司",
        "主体类型": "有限责任公司",
        "法定代表人": "孙七",
        "法定代表人身份证号": build_resident_id("440115", dt.date(1982, 8, 8), 45),
        "注册资本（万元）": 100,
        "成立日期": dt.date(2020, 3, 1),
        "经营范围": "贸易",
        "行业门类": "F",
        "住所": "广州市南沙区海滨路 1 号",
        "街道/镇": "南沙街道",
        "登记状态": "存续",
    }
    row.update(overrides)
    return [row[h] for h in HEADERS]


def workbook_bytes(rows: list[list], headers: list[str] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers if headers is not None else HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def upload(client_for, clerk, eager, django_capture_on_commit_callbacks):
    """upload(content, **form) → (response, job or None) after the import ran (Celery eager)."""

    def post(content: bytes, name: str = "企业.xlsx", **form):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(clerk).post(
                "/enterprises/import/", {"file": SimpleUploadedFile(name, content), **form}
            )
        job = BackgroundJob.objects.filter(kind=services.IMPORT_JOB_KIND).order_by("-pk").first()
        return response, job

    return post


def test_template_has_the_documented_headers(client_for, clerk):
    response = client_for(clerk).get("/enterprises/import/template/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS


def test_good_file_imports_every_row_with_history(upload, clerk, client_for, ftz_rule):
    rows = [
        good_row(名称=f"导入公司{i}", 住所="进港大道 1 号" if i == 0 else "海滨路 2 号") for i in range(3)
    ]
    response, job = upload(workbook_bytes(rows))
    assert response.status_code == 302 and response["Location"] == f"/enterprises/import/{job.pk}/"
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.result["imported"] == 3
    assert Enterprise.objects.count() == 3
    first = Enterprise.objects.get(name="导入公司0")
    assert str(first.registered_capital) == "1000000.00"
    assert first.in_ftz and first.ftz_rule == ftz_rule  # same derivation as the form
    assert first.name_initials == "drgs0"
    record = first.history.get()
    assert record.history_user == clerk and f"任务 #{job.pk}" in record.history_change_reason
    page = client_for(clerk).get(f"/enterprises/import/{job.pk}/").content.decode()
    assert "已导入 3 条" in page


def test_bad_rows_reject_the_whole_file_with_a_row_report(upload, client_for, clerk, create):
    taken = create().uscc
    rows = [
        good_row(名称="好公司"),
        good_row(统一社会信用代码="91440115I2345678X0"),
        good_row(法定代表人身份证号="440115198002300011"),
        good_row(统一社会信用代码=taken),
        good_row(成立日期="去年"),
        good_row(主体类型="皮包公司"),
        good_row(**{"街道/镇": "天河区某街道"}),
        good_row(名称=""),
    ]
    _response, job = upload(workbook_bytes(rows))
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.result["rejected"] is True and job.result["imported"] == 0
    assert Enterprise.objects.count() == 1  # only the one created before: nothing half-written
    errors = {(e["row"], e["column"]) for e in job.result["errors"]}
    assert errors == {
        (3, "统一社会信用代码"),
        (4, "法定代表人身份证号"),
        (5, "统一社会信用代码"),
        (6, "成立日期"),
        (7, "主体类型"),
        (8, "街道/镇"),
        (9, "名称"),
    }
    messages = {(e["row"]): e["message"] for e in job.result["errors"]}
    assert "不得含字母" in messages[3]
    assert "出生日期 19800230 不存在" in messages[4]
    assert messages[5] == services.DUPLICATE_USCC_MESSAGE
    page = client_for(clerk).get(f"/enterprises/import/{job.pk}/").content.decode()
    assert "未导入任何数据" in page and "不得含字母" in page

    report = client_for(clerk).get(f"/enterprises/import/{job.pk}/errors.xlsx")
    sheet = load_workbook(io.BytesIO(report.content)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("行号", "列", "错误说明")
    assert (3, "统一社会信用代码") in {(r[0], r[1]) for r in values[1:]}


def test_good_rows_only_commits_the_good_ones_and_reports_the_rest(upload):
    rows = [good_row(名称="好一"), good_row(统一社会信用代码="123"), good_row(名称="好二")]
    _response, job = upload(workbook_bytes(rows), good_rows_only="on")
    job.refresh_from_db()
    assert job.result["imported"] == 2 and job.result["bad_rows"] == 1
    assert set(Enterprise.objects.values_list("name", flat=True)) == {"好一", "好二"}
    assert job.result["errors"][0]["row"] == 3


def test_duplicate_inside_the_file_is_a_row_error(upload):
    code = next_uscc()
    _response, job = upload(
        workbook_bytes([good_row(统一社会信用代码=code), good_row(统一社会信用代码=code)])
    )
    job.refresh_from_db()
    assert job.result["errors"] == [
        {"row": 3, "column": "统一社会信用代码", "message": "与第 2 行的统一社会信用代码重复。"}
    ]
    assert not Enterprise.objects.exists()


def test_check_digit_exception_needs_a_recorded_confirmation(upload, manager, authority):
    code = wrong_check_digit(next_uscc())
    _response, job = upload(workbook_bytes([good_row(统一社会信用代码=code)]))
    job.refresh_from_db()
    assert "科室负责人" in job.result["errors"][0]["message"]
    services.uscc_exception_confirm(authority=authority, actor=manager, uscc=code, reason="试点")
    _response, job = upload(workbook_bytes([good_row(统一社会信用代码=code)]))
    assert Enterprise.objects.get(uscc=code).uscc_is_exception


def test_ids_stored_as_numbers_are_reported_not_guessed(upload):
    _response, job = upload(workbook_bytes([good_row(法定代表人身份证号=4.40115198208084e17)]))
    job.refresh_from_db()
    assert "文本" in job.result["errors"][0]["message"]


@pytest.mark.parametrize(
    "headers, message",
    [
        (HEADERS[:-1], "缺少列：登记状态"),
        ([*HEADERS, "备注"], "无法识别的列：备注"),
        (["名称", *HEADERS], "重复的列：名称"),
        (["a", "b"], "缺少列"),
    ],
)
def test_wrong_columns_are_refused_before_anything_runs(upload, headers, message):
    response, job = upload(workbook_bytes([["x"] * len(headers)], headers=headers))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert job is None and not Enterprise.objects.exists()


def test_half_width_brackets_and_spaces_in_headers_are_accepted(upload):
    headers = [h.replace("（", "(").replace("）", ")") for h in HEADERS]
    headers[1] = " 名 称 "
    _response, job = upload(workbook_bytes([good_row()], headers=headers))
    job.refresh_from_db()
    assert job.result["imported"] == 1


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"uscc,name\n91110000600037341L,x\n", "企业.xlsx", "不是 Excel（.xlsx）文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "企业.xls", "旧版 Excel（.xls）"),
        (b"PK\x03\x04garbage", "企业.xlsx", "已损坏"),
        (b"", "企业.xlsx", ""),
    ],
)
def test_non_excel_files_are_refused(upload, content, name, message):
    response, job = upload(content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert job is None


def test_a_zip_that_is_not_a_workbook_is_refused(upload):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    response, job = upload(buffer.getvalue())
    assert response.status_code == 400 and "不是 Excel" in response.content.decode() and job is None


def test_oversized_file_is_refused(upload, settings):
    settings.MAX_IMPORT_FILE_BYTES = 1000
    response, job = upload(workbook_bytes([good_row() for _ in range(30)]))
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert job is None and not Enterprise.objects.exists()


def test_file_without_data_rows_fails_with_a_message(upload):
    _response, job = upload(workbook_bytes([]))
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and "没有数据行" in job.error


def test_rerunning_a_finished_job_does_nothing(upload):
    from bizreg.core import jobs

    _response, job = upload(workbook_bytes([good_row()]))
    assert jobs.execute(job.pk) == BackgroundJob.Status.SUCCEEDED
    assert Enterprise.objects.count() == 1


def test_a_job_whose_rows_were_written_reports_them_on_rerun(upload):
    _response, job = upload(workbook_bytes([good_row(), good_row()]))
    again = services.enterprise_import_execute(job=job, progress=lambda done, total: None)
    assert again["imported"] == 2 and "此前已完成写入" in again["note"]
    assert Enterprise.objects.count() == 2


def test_failed_job_can_be_retried_from_the_page(
    upload, client_for, clerk, monkeypatch, django_capture_on_commit_callbacks
):
    original = services.enterprise_import_execute

    def broken(**kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(services, "enterprise_import_execute", broken)
    _response, job = upload(workbook_bytes([good_row()]))
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and "数据库连接中断" in job.error
    page = client_for(clerk).get(f"/enterprises/import/{job.pk}/").content.decode()
    assert "重试" in page and "未写入任何数据" in page
    assert not Enterprise.objects.exists()

    monkeypatch.setattr(services, "enterprise_import_execute", original)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clerk).post(f"/enterprises/import/{job.pk}/retry/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED and Enterprise.objects.count() == 1


def test_status_page_polls_while_running(client_for, clerk, authority):
    from bizreg.core import services as core_services

    job = core_services.job_create(authority=authority, kind=services.IMPORT_JOB_KIND, actor=clerk)
    core_services.job_start(job=job, total=200)
    core_services.job_progress(job=job, done=50)
    response = client_for(clerk).get(f"/enterprises/import/{job.pk}/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and "50 / 200" in html and "<html" not in html


def test_ten_thousand_rows_import_quickly(clerk, authority, eager, django_capture_on_commit_callbacks):
    rows = [good_row(名称=f"批量导入公司{i}") for i in range(10_000)]
    upload = SimpleUploadedFile("big.xlsx", workbook_bytes(rows))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enterprise_import_submit(
            authority=authority, actor=clerk, upload=upload, good_rows_only=False
        )
    elapsed = time.monotonic() - started
    job.refresh_from_db()
    assert job.result["imported"] == 10_000
    assert Enterprise.objects.count() == 10_000
    assert elapsed < 60, f"10k rows took {elapsed:.1f}s"
