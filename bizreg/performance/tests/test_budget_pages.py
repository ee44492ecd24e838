"""Budget pages: per-role permissions, other authority → 404, forms refusing bad input with the service's
message, the detail page's execution figures, transitions, the Excel export."""

# ruff: noqa: F811 — the shared fixtures are imported from budget_fixtures and requested by name

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.performance.models import (
    BudgetLine,
    Contract,
    Indicator,
    Payment,
    PaymentMilestone,
    PerformanceTransitionLog,
    Project,
    ProjectStatus,
)
from bizreg.performance.services import budget as services
from bizreg.performance.tests.budget_fixtures import (  # noqa: F401
    contract,
    line1,
    line2,
    make_project,
    other_project,
    project,
)

pytestmark = pytest.mark.django_db


def payment_data(line, **extra):
    return {"paid_on": "2023-04-01", "amount": "1000.00", "line": line.pk, **extra}


def test_project_list_filters_and_scoping(authority, project, other_project, officer, client_for):
    make_project(authority, code="Y2024", year=2024, name="二〇二四年经费")
    client = client_for(officer)
    url = reverse("performance:project_list")
    text = client.get(url).content.decode()
    assert project.name in text and "二〇二四年经费" in text
    assert other_project.code not in text
    text = client.get(url, {"year": 2024}).content.decode()
    assert "二〇二四年经费" in text and "JJFWSP" not in text
    text = client.get(url, {"q": "JJFW", "status": "active"}).content.decode()
    assert "JJFWSP" in text and "Y2024" not in text


def test_detail_shows_execution_in_wan(project, line1, line2, contract, officer, client_for):
    services.payment_create(
        project=project, actor=officer, paid_on=dt.date(2023, 5, 1), amount="25000", line=line1
    )
    response = client_for(officer).get(reverse("performance:project_detail", args=[project.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="execution-rate">12.50%' in text  # 25,000 ÷ 200,000
    assert "25.00%" in text  # line L01: 25,000 ÷ 100,000
    assert 'data-testid="adjusted-budget">20.00' in text  # 万元
    assert contract.number in text
    assert "预算明细合计 15.00 万元与调整后预算数 20.00 万元不一致" in text


@pytest.mark.parametrize(
    "name",
    ["project_detail", "project_edit", "payment_list", "payment_create", "budget_import", "budget_export"],
)
def test_other_authority_project_is_404(other_project, officer, client_for, name):
    key = "pk" if name.startswith("project_") else "project_pk"
    response = client_for(officer).get(reverse(f"performance:{name}", kwargs={key: other_project.pk}))
    assert response.status_code == 404


def test_other_authority_contract_is_404(other_authority, officer, client_for):
    other = make_project(other_authority, code="O")
    line = BudgetLine.objects.create(project=other, code="L", name="x", amount=10)
    foreign = Contract.objects.create(
        project=other,
        line=line,
        number="N",
        title="t",
        vendor="v",
        amount=1,
        signed_on=dt.date(2023, 1, 1),
        starts_on=dt.date(2023, 1, 1),
        ends_on=dt.date(2023, 1, 2),
    )
    assert (
        client_for(officer).get(reverse("performance:contract_detail", args=[foreign.pk])).status_code == 404
    )


def test_registration_clerk_gets_403_everywhere(project, line1, contract, clerk, client_for):
    client = client_for(clerk)
    for url in (
        reverse("performance:project_list"),
        reverse("performance:project_detail", args=[project.pk]),
        reverse("performance:project_create"),
        reverse("performance:payment_list", args=[project.pk]),
        reverse("performance:contract_detail", args=[contract.pk]),
        reverse("performance:budget_export", args=[project.pk]),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("performance:payment_create", args=[project.pk]), payment_data(line1))
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_manager_reads_but_cannot_add_payment(project, line1, contract, manager, client_for):
    client = client_for(manager)
    assert client.get(reverse("performance:project_detail", args=[project.pk])).status_code == 200
    assert client.get(reverse("performance:payment_list", args=[project.pk])).status_code == 200
    assert client.get(reverse("performance:contract_detail", args=[contract.pk])).status_code == 200
    response = client.post(reverse("performance:payment_create", args=[project.pk]), payment_data(line1))
    assert response.status_code == 403
    assert client.post(reverse("performance:project_create"), {}).status_code == 403
    assert not Payment.objects.exists()


def test_officer_creates_and_edits_project(officer, client_for):
    client = client_for(officer)
    data = {
        "code": "NEW1",
        "name": "新项目",
        "fiscal_year": 2024,
        "department": "政务服务和数据管理局",
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "initial_budget": "9431000.00",
        "adjusted_budget": "9431000",
        "reported_execution": "",
        "budget_weight": "10",
        "reverse_rule": "ratio",
        "overachievement_threshold": "1.5",
    }
    response = client.post(reverse("performance:project_create"), data)
    assert response.status_code == 302
    project = Project.objects.get(code="NEW1")
    assert project.adjusted_budget == Decimal("9431000.00") and project.status == ProjectStatus.DRAFT
    edit = reverse("performance:project_edit", args=[project.pk])
    response = client.post(edit, data | {"initial_budget": "abc"})
    assert response.status_code == 400
    assert "年初预算数（元）必须是数字。" in response.content.decode()
    response = client.post(edit, data | {"adjusted_budget": "-1"})
    assert response.status_code == 400
    assert "调整后预算数（元）不能为负数。" in response.content.decode()
    project.refresh_from_db()
    assert project.adjusted_budget == Decimal("9431000.00")


def test_payment_page_records_and_refuses_with_message(project, line1, contract, officer, client_for):
    client = client_for(officer)
    url = reverse("performance:payment_create", args=[project.pk])
    assert "金额单位：元" in client.get(url).content.decode()
    response = client.post(url, payment_data(line1, amount="60000.01", contract=contract.pk))
    assert response.status_code == 400
    assert "超过合同金额" in response.content.decode()
    response = client.post(url, payment_data(line1, amount="abc"))
    assert response.status_code == 400 and "支付金额（元）必须是数字。" in response.content.decode()
    response = client.post(url, payment_data(line1, paid_on="2022-12-31"))
    assert response.status_code == 400 and "不在项目年度 2023 年内" in response.content.decode()
    assert not Payment.objects.exists()
    response = client.post(url, payment_data(line1, amount="60000", contract=contract.pk))
    assert response.status_code == 302
    assert Payment.objects.get().amount == Decimal("60000")
    text = client.get(reverse("performance:payment_list", args=[project.pk])).content.decode()
    assert "共 1 笔，合计 6.00 万元" in text


def test_payment_list_filters(project, line1, line2, officer, client_for):
    services.payment_create(
        project=project,
        actor=officer,
        paid_on=dt.date(2023, 2, 1),
        amount="100",
        line=line1,
        voucher_number="记-AAA",
    )
    services.payment_create(
        project=project,
        actor=officer,
        paid_on=dt.date(2023, 6, 1),
        amount="200",
        line=line2,
        voucher_number="记-BBB",
    )
    client = client_for(officer)
    url = reverse("performance:payment_list", args=[project.pk])
    text = client.get(url, {"line": line2.pk}).content.decode()
    assert "记-BBB" in text and "记-AAA" not in text
    text = client.get(url, {"date_to": "2023-03-01"}).content.decode()
    assert "记-AAA" in text and "记-BBB" not in text
    text = client.get(url, {"date_from": "2023-05-01", "date_to": "2023-01-01"}).content.decode()
    assert "起始日期不能晚于截止日期" in text


def test_transitions_by_page(authority, officer, manager, client_for):
    draft = make_project(authority, code="D", status=ProjectStatus.DRAFT)
    url = reverse("performance:project_transition", args=[draft.pk])
    assert client_for(manager).post(url, {"action": "activate"}).status_code == 403
    # The weights do not total 100 yet (budget execution 10, no indicators): activation is refused.
    refused = client_for(officer).post(url, {"action": "activate", "reason": "批复"})
    assert refused.status_code == 400 and "100" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.DRAFT
    Indicator.objects.create(
        project=draft,
        code="1",
        level1="output",
        level2="quantity",
        name="业务服务量",
        direction="ge",
        target_value=Decimal(100),
        weight=Decimal(90),
    )
    assert client_for(officer).post(url, {"action": "activate", "reason": "批复"}).status_code == 302
    assert client_for(officer).post(url, {"action": "activate"}).status_code == 409
    assert client_for(officer).post(url, {"action": "close"}).status_code == 403
    assert client_for(manager).post(url, {"action": "close", "reason": "年终"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.CLOSED
    assert PerformanceTransitionLog.objects.filter(object_id=draft.pk, object_type="project").count() == 2
    # Closed: the payment page refuses with the closed-year message.
    line = BudgetLine.objects.create(project=draft, code="L", name="x", amount=100)
    response = client_for(officer).post(
        reverse("performance:payment_create", args=[draft.pk]), payment_data(line)
    )
    assert response.status_code == 400 and "已结项" in response.content.decode()


def test_contract_and_milestone_pages(project, line1, contract, officer, client_for):
    client = client_for(officer)
    url = reverse("performance:milestone_create", args=[contract.pk])
    data = {"order": 1, "deliverable": "首期服务报告", "due_on": "2023-03-31", "amount": "70000"}
    response = client.post(url, data)
    assert response.status_code == 400 and "超过合同金额" in response.content.decode()
    assert client.post(url, data | {"amount": "40000"}).status_code == 302
    milestone = PaymentMilestone.objects.get()
    text = client.get(reverse("performance:contract_detail", args=[contract.pk])).content.decode()
    assert "首期服务报告" in text and "6.00" in text
    response = client.post(
        reverse("performance:milestone_edit", args=[milestone.pk]), data | {"amount": "60000.01"}
    )
    assert response.status_code == 400
    response = client.post(
        reverse("performance:contract_create", args=[project.pk]),
        {
            "line": line1.pk,
            "number": "HT-2",
            "title": "t",
            "vendor": "v",
            "amount": "-1",
            "signed_on": "2023-01-01",
            "starts_on": "2023-01-01",
            "ends_on": "2023-12-31",
        },
    )
    assert response.status_code == 400 and "合同金额（元）不能为负数。" in response.content.decode()
    assert not Contract.objects.filter(number="HT-2").exists()


def test_line_page_refuses_lowering_below_payments(project, line1, officer, client_for):
    services.payment_create(
        project=project, actor=officer, paid_on=dt.date(2023, 2, 1), amount="5000", line=line1
    )
    response = client_for(officer).post(
        reverse("performance:line_edit", args=[line1.pk]),
        {"code": "L01", "name": line1.name, "amount": "4999"},
    )
    assert response.status_code == 400 and "已支付" in response.content.decode()
    line1.refresh_from_db()
    assert line1.amount == Decimal("100000")


def test_export_has_lines_contracts_payments(project, line1, contract, manager, officer, client_for):
    services.payment_create(
        project=project,
        actor=officer,
        paid_on=dt.date(2023, 2, 1),
        amount="30000",
        line=line1,
        contract=contract,
        description="=cmd|' /C calc'!A0",
    )
    response = client_for(manager).get(reverse("performance:budget_export", args=[project.pk]))
    assert response.status_code == 200
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["预算执行", "合同", "支付"]
    rows = list(workbook["预算执行"].iter_rows(values_only=True))
    assert rows[2][:5] == ("L01", "企业跟踪服务项目", 10, 3, 30)
    assert rows[-1][4] == 15  # 30,000 ÷ 200,000
    assert list(workbook["合同"].iter_rows(values_only=True))[1][0] == "HT-2023-001"
    payment_row = list(workbook["支付"].iter_rows(values_only=True))[1]
    assert payment_row[1] == 30000 and payment_row[6].startswith("'=")  # formula neutralized
