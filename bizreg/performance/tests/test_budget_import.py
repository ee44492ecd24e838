"""The Excel budget sheet: a good file creates/updates lines and components; any bad row refuses the whole
sheet with the row and reason; wrong file type or columns → a clear error; nothing saved when refused."""

# ruff: noqa: F811 — the shared fixtures are imported from budget_fixtures and requested by name

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bizreg.performance.models import BudgetLine, ProjectComponent, ProjectStatus
from bizreg.performance.services import budget as services
from bizreg.performance.tests.budget_fixtures import (  # noqa: F401
    line1,
    make_project,
    project,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db

HEADER = ("明细编号", "明细名称", "预算金额（万元）", "子项目")


def test_good_sheet_creates_lines_in_yuan_and_components(project, officer):
    upload = xlsx_upload(
        [
            HEADER,
            ("L01", "南沙区处理被冒用身份信息办理虚假注册登记专责小组项目", 26, "专责小组及协助调查项目"),
            ("L02", "冒用身份虚假注册企业协助调查项目", "89", "专责小组及协助调查项目"),
            (None, None, None, None),
            ("L03", "企业跟踪服务项目", 72.5, ""),
        ]
    )
    result = services.budget_import(project=project, actor=officer, upload=upload)
    assert (result.created, result.updated, result.components_created) == (3, 0, 1)
    lines = {line.code: line for line in project.lines.all()}
    assert lines["L01"].amount == Decimal("260000.00")
    assert lines["L03"].amount == Decimal("725000.00")
    assert [line.code for line in project.lines.order_by("order")] == ["L01", "L02", "L03"]
    component = ProjectComponent.objects.get(project=project)
    assert sorted(line.code for line in component.lines.all()) == ["L01", "L02"]


def test_reimport_updates_by_code_and_keeps_other_lines(project, line1, officer):
    BudgetLine.objects.create(
        project=project, code="L09", name="营业执照正副本采购", amount=Decimal("299000")
    )
    upload = xlsx_upload(
        [("明细编号", "明细名称", "预算金额(万元)"), ("L01", "企业跟踪服务项目（调整）", "12.345")]
    )
    result = services.budget_import(project=project, actor=officer, upload=upload)
    assert (result.created, result.updated) == (0, 1)
    line1.refresh_from_db()
    assert line1.name == "企业跟踪服务项目（调整）"
    assert line1.amount == Decimal("123450.00")
    assert project.lines.filter(code="L09").exists()


def test_bad_rows_are_each_reported_and_nothing_is_saved(project, line1, officer):
    upload = xlsx_upload(
        [
            HEADER,
            ("L01", "改名", 1, ""),
            ("L02", "", 5, ""),  # blank name
            ("L03", "档案", "abc", ""),  # non-numeric
            ("L04", "执照", -3, ""),  # negative
            ("L02", "重复", 1, ""),  # duplicate code
            ("", "无编号", 1, ""),
        ]
    )
    with pytest.raises(services.BudgetImportError) as info:
        services.budget_import(project=project, actor=officer, upload=upload)
    rows = [str(e) for e in info.value.row_errors]
    assert rows == [
        "第 3 行：明细名称为空。",
        "第 4 行：预算金额“abc”不是数字。",
        "第 5 行：预算金额不能为负数。",
        "第 6 行：明细编号“L02”与第 3 行重复。",
        "第 7 行：明细编号为空。",
    ]
    line1.refresh_from_db()
    assert line1.name == "企业跟踪服务项目"  # the good row was not applied either
    assert list(project.lines.values_list("code", flat=True)) == ["L01"]


def test_amount_below_payments_refuses_the_sheet(project, line1, officer):
    services.payment_create(
        project=project, actor=officer, paid_on=dt.date(2023, 2, 1), amount="50000", line=line1
    )
    upload = xlsx_upload([HEADER, ("L01", "企业跟踪服务项目", 4, ""), ("L05", "新明细", 1, "")])
    with pytest.raises(services.BudgetImportError) as info:
        services.budget_import(project=project, actor=officer, upload=upload)
    assert "已支付" in str(info.value.row_errors[0]) and "第 2 行" in str(info.value.row_errors[0])
    assert not project.lines.filter(code="L05").exists()


@pytest.mark.parametrize(
    ("upload", "expected"),
    [
        (SimpleUploadedFile("预算表.csv", "明细编号,明细名称\n".encode()), "文件类型"),
        (SimpleUploadedFile("预算表.xlsx", b"not a zip file"), "不是有效的 .xlsx"),
        (xlsx_upload([("编号", "名称", "金额")]), "缺少列：明细编号、明细名称、预算金额（万元）"),
        (xlsx_upload([HEADER]), "没有数据行"),
    ],
)
def test_wrong_file_or_columns_is_refused(project, officer, upload, expected):
    with pytest.raises(services.BudgetImportError) as info:
        services.budget_import(project=project, actor=officer, upload=upload)
    assert expected in info.value.messages[0]
    assert not project.lines.exists()


def test_closed_project_refuses_import(authority, officer):
    closed = make_project(authority, code="C", status=ProjectStatus.CLOSED)
    with pytest.raises(Exception, match="已结项"):
        services.budget_import(
            project=closed, actor=officer, upload=xlsx_upload([HEADER, ("L1", "x", 1, "")])
        )
    assert not closed.lines.exists()


# --- the page -------------------------------------------------------------------------------------------


def test_import_page_shows_row_errors(project, officer, client_for):
    url = reverse("performance:budget_import", args=[project.pk])
    client = client_for(officer)
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": xlsx_upload([HEADER, ("L01", "x", "一百", "")])})
    assert response.status_code == 400
    text = response.content.decode()
    assert "未导入任何数据" in text and "第 2 行：预算金额“一百”不是数字。" in text
    response = client.post(url, {"file": xlsx_upload([HEADER, ("L01", "企业跟踪", "10", "")])})
    assert response.status_code == 302
    assert project.lines.get().amount == Decimal("100000.00")


def test_import_page_refused_to_manager_and_clerk(project, manager, clerk, client_for):
    url = reverse("performance:budget_import", args=[project.pk])
    for user in (manager, clerk):
        response = client_for(user).post(url, {"file": xlsx_upload([HEADER, ("L01", "x", "1", "")])})
        assert response.status_code == 403
    assert not project.lines.exists()


def test_import_template_downloads_current_lines(project, line1, officer, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    response = client_for(officer).get(reverse("performance:budget_import_template", args=[project.pk]))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    assert rows[1][:3] == ("L01", "企业跟踪服务项目", 10)
