"""Shared data of the budget tests: a 2023 project with two lines and a contract, in `authority`."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from bizreg.performance.models import BudgetLine, Contract, Project, ProjectStatus


def make_project(authority, *, code="JJFWSP", year=2023, status=ProjectStatus.ACTIVE, **values) -> Project:
    defaults = {
        "name": "经济服务审批工作经费",
        "department": "广州市南沙区政务服务和数据管理局",
        "period_start": dt.date(year, 1, 1),
        "period_end": dt.date(year, 12, 31),
        "initial_budget": Decimal("200000.00"),
        "adjusted_budget": Decimal("200000.00"),
    }
    return Project.objects.create(
        authority=authority, code=code, fiscal_year=year, status=status, **(defaults | values)
    )


@pytest.fixture
def project(authority):
    return make_project(authority)


@pytest.fixture
def line1(project):
    return BudgetLine.objects.create(
        project=project, code="L01", name="企业跟踪服务项目", amount=Decimal("100000")
    )


@pytest.fixture
def line2(project):
    return BudgetLine.objects.create(
        project=project, code="L02", name="档案辅助整理项目", amount=Decimal("50000")
    )


@pytest.fixture
def contract(project, line1):
    return Contract.objects.create(
        project=project,
        line=line1,
        number="HT-2023-001",
        title="企业跟踪服务采购合同",
        vendor="广州某服务有限公司",
        amount=Decimal("60000"),
        signed_on=dt.date(2023, 1, 10),
        starts_on=dt.date(2023, 1, 15),
        ends_on=dt.date(2023, 12, 31),
    )


@pytest.fixture
def other_project(other_authority):
    return make_project(other_authority, code="OTHER")


def xlsx_upload(rows, *, name="预算表.xlsx") -> SimpleUploadedFile:
    """An uploaded .xlsx whose first sheet holds `rows` (the first row being the header)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        name,
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
