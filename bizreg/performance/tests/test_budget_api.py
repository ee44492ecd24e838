"""/api/performance-*: read-only lists scoped to the user's authorities; POST payments through the service
(refusal → 400 with its message, nothing saved); per-role permissions."""

# ruff: noqa: F811 — the shared fixtures are imported from budget_fixtures and requested by name

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bizreg.performance.models import BudgetLine, Payment, PaymentMilestone
from bizreg.performance.services import budget as services
from bizreg.performance.tests.budget_fixtures import (  # noqa: F401
    contract,
    line1,
    line2,
    other_project,
    project,
)

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/performance-payments/"


def rows(response):
    data = response.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


def body(project, line, **extra):
    return {"project": project.pk, "line": line.pk, "paid_on": "2023-03-01", "amount": "1000.00", **extra}


def test_lists_are_scoped(project, line1, contract, other_project, manager, client_for):
    BudgetLine.objects.create(project=other_project, code="ZZ", name="其他机关明细", amount=1)
    client = client_for(manager)
    projects = rows(client.get("/api/performance-projects/"))
    assert [p["code"] for p in projects] == ["JJFWSP"]
    lines = rows(client.get("/api/performance-budget-lines/"))
    assert [line["code"] for line in lines] == ["L01"]
    contracts = rows(client.get("/api/performance-contracts/", {"project": project.pk}))
    assert [c["number"] for c in contracts] == ["HT-2023-001"]
    assert client.get(f"/api/performance-projects/{other_project.pk}/").status_code == 404


def test_project_detail_has_execution(project, line1, officer, manager, client_for):
    services.payment_create(
        project=project, actor=officer, paid_on=dt.date(2023, 2, 1), amount="50000", line=line1
    )
    data = client_for(manager).get(f"/api/performance-projects/{project.pk}/").json()
    assert data["execution"]["rate"] == "0.2500"
    assert data["execution"]["lines"][0] == {
        "line": line1.pk,
        "code": "L01",
        "budget": "100000.00",
        "executed": "50000.00",
        "rate": "0.5000",
    }


def test_officer_posts_payment(project, line1, contract, officer, client_for):
    response = client_for(officer).post(
        PAYMENTS,
        body(project, line1, contract=contract.pk, voucher_number="记-9"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1000.00") and payment.recorded_by == officer
    assert response.json()["id"] == payment.pk


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ({"amount": "abc"}, "amount", "必须是数字"),
        ({"amount": "-5"}, "amount", "不能为负数"),
        ({"amount": "100000.01"}, "amount", "超过其预算"),
        ({"paid_on": "2024-01-02"}, "paid_on", "不在项目年度"),
    ],
)
def test_refused_payment_is_400_with_message(project, line1, officer, client_for, extra, field, expected):
    response = client_for(officer).post(
        PAYMENTS, body(project, line1, **extra), content_type="application/json"
    )
    assert response.status_code == 400
    assert expected in " ".join(response.json()[field])
    assert not Payment.objects.exists()


def test_payment_over_contract_and_foreign_milestone_are_400(
    project, line1, line2, contract, officer, client_for
):
    client = client_for(officer)
    response = client.post(
        PAYMENTS,
        body(project, line1, contract=contract.pk, amount="60000.01"),
        content_type="application/json",
    )
    assert response.status_code == 400 and "超过合同金额" in response.json()["amount"][0]
    response = client.post(
        PAYMENTS, body(project, line2, contract=contract.pk), content_type="application/json"
    )
    assert response.status_code == 400 and "contract" in response.json()
    milestone = PaymentMilestone.objects.create(
        contract=contract, order=1, deliverable="d", due_on=dt.date(2023, 5, 1), amount=1
    )
    response = client.post(
        PAYMENTS, body(project, line1, milestone=milestone.pk), content_type="application/json"
    )
    assert response.status_code == 400 and "milestone" in response.json()
    assert not Payment.objects.exists()


def test_manager_and_clerk_cannot_post_and_other_authority_is_404(
    project, line1, other_project, manager, clerk, officer, client_for
):
    for user in (manager, clerk):
        response = client_for(user).post(PAYMENTS, body(project, line1), content_type="application/json")
        assert response.status_code == 403
    assert client_for(clerk).get(PAYMENTS).status_code == 403
    other_line = BudgetLine.objects.create(project=other_project, code="L", name="x", amount=10000)
    response = client_for(officer).post(
        PAYMENTS, body(other_project, other_line), content_type="application/json"
    )
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_payment_list_filter_by_project(project, line1, officer, client_for):
    services.payment_create(
        project=project, actor=officer, paid_on=dt.date(2023, 2, 1), amount="10", line=line1
    )
    client = client_for(officer)
    assert len(rows(client.get(PAYMENTS, {"project": project.pk}))) == 1
    assert len(rows(client.get(PAYMENTS, {"project": project.pk + 999}))) == 0
    assert client.get(PAYMENTS, {"project": "x"}).status_code == 400
