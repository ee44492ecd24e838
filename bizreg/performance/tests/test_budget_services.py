"""services.budget: every refusal sends the bad input and checks that nothing changed; execution figures."""

# ruff: noqa: F811 — the shared fixtures are imported from budget_fixtures and requested by name

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.performance.models import (
    BudgetLine,
    Contract,
    Indicator,
    Payment,
    PaymentMilestone,
    PerformanceTransitionLog,
    Project,
    ProjectComponent,
    ProjectStatus,
)
from bizreg.performance.selectors import budget as selectors
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

D = Decimal


def pay(project, line, amount, *, officer, paid_on=dt.date(2023, 3, 15), **extra):
    return services.payment_create(
        project=project, actor=officer, paid_on=paid_on, amount=amount, line=line, **extra
    )


def refused(call, field: str | None = None) -> str:
    with pytest.raises(ValidationError) as info:
        call()
    exc = info.value
    if field is not None:
        assert field in exc.message_dict, exc
        return " ".join(exc.message_dict[field])
    return " ".join(exc.messages)


# --- payments -------------------------------------------------------------------------------------------


def test_payment_within_limits_is_saved_with_actor(project, line1, contract, officer):
    payment = pay(project, line1, "12345.60", officer=officer, contract=contract, voucher_number="记-001")
    payment.refresh_from_db()
    assert payment.amount == D("12345.60")
    assert payment.recorded_by == officer
    assert payment.contract == contract
    assert selectors.payments_total(project) == D("12345.60")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "必须大于 0"),
        ("-100", "不能为负数"),
        ("abc", "必须是数字"),
        ("", "请填写"),
        ("1.234", "两位小数"),
    ],
)
def test_payment_with_bad_amount_is_refused(project, line1, officer, amount, expected):
    message = refused(lambda: pay(project, line1, amount, officer=officer), "amount")
    assert expected in message
    assert Payment.objects.count() == 0


def test_payment_beyond_line_budget_is_refused(project, line1, officer):
    pay(project, line1, "90000", officer=officer)
    message = refused(lambda: pay(project, line1, "10000.01", officer=officer), "amount")
    assert "超过其预算" in message and "10,000.00" in message  # tells what is still available
    assert selectors.payments_total(project) == D("90000")
    pay(project, line1, "10000", officer=officer)  # exactly up to the budget is allowed
    assert selectors.payments_total(project) == D("100000")


def test_payment_beyond_contract_amount_is_refused(project, line1, contract, officer):
    pay(project, line1, "50000", officer=officer, contract=contract)
    message = refused(lambda: pay(project, line1, "10000.01", officer=officer, contract=contract), "amount")
    assert "超过合同金额" in message
    assert Payment.objects.count() == 1


def test_contract_of_another_line_is_refused(project, line2, contract, officer):
    message = refused(lambda: pay(project, line2, "100", officer=officer, contract=contract), "contract")
    assert "不属于预算明细" in message
    assert Payment.objects.count() == 0


def test_contract_of_another_project_is_refused(authority, project, line1, contract, officer):
    second = make_project(authority, code="P2")
    line = BudgetLine.objects.create(project=second, code="L01", name="x", amount=D("1000"))
    refused(lambda: pay(second, line, "100", officer=officer, contract=contract), "contract")
    # and a line of another project
    refused(lambda: pay(project, line, "100", officer=officer), "line")
    assert Payment.objects.count() == 0


def test_milestone_of_another_contract_is_refused(project, line1, contract, officer):
    other = Contract.objects.create(
        project=project,
        line=line1,
        number="HT-2",
        title="t",
        vendor="v",
        amount=D("100"),
        signed_on=dt.date(2023, 1, 1),
        starts_on=dt.date(2023, 1, 1),
        ends_on=dt.date(2023, 2, 1),
    )
    milestone = PaymentMilestone.objects.create(
        contract=other, order=1, deliverable="d", due_on=dt.date(2023, 2, 1), amount=D("100")
    )
    message = refused(
        lambda: pay(project, line1, "100", officer=officer, contract=contract, milestone=milestone),
        "milestone",
    )
    assert "不属于所选合同" in message
    refused(lambda: pay(project, line1, "100", officer=officer, milestone=milestone), "milestone")
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("paid_on", [dt.date(2022, 12, 31), dt.date(2024, 1, 1)])
def test_payment_outside_project_year_is_refused(project, line1, officer, paid_on):
    message = refused(lambda: pay(project, line1, "100", officer=officer, paid_on=paid_on), "paid_on")
    assert "2023" in message
    assert Payment.objects.count() == 0


def test_payment_on_closed_project_is_refused(authority, officer):
    closed = make_project(authority, code="CLOSED", status=ProjectStatus.CLOSED)
    line = BudgetLine.objects.create(project=closed, code="L01", name="x", amount=D("1000"))
    message = refused(lambda: pay(closed, line, "100", officer=officer))
    assert "已结项" in message
    assert Payment.objects.count() == 0


def test_payment_evidence_checked_and_hashed(project, line1, officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bad = SimpleUploadedFile("voucher.exe", b"MZ...")
    message = refused(lambda: pay(project, line1, "100", officer=officer, evidence=bad), "evidence")
    assert "不支持的文件类型" in message
    assert Payment.objects.count() == 0
    good = SimpleUploadedFile("voucher.pdf", b"%PDF-1.4 test")
    payment = pay(project, line1, "100", officer=officer, evidence=good)
    import hashlib

    assert payment.evidence_sha256 == hashlib.sha256(b"%PDF-1.4 test").hexdigest()
    assert payment.evidence.name.endswith(".pdf")


# --- lines, contracts, milestones, projects -------------------------------------------------------------


def test_line_budget_cannot_drop_below_its_payments(project, line1, officer):
    pay(project, line1, "40000", officer=officer)
    message = refused(
        lambda: services.line_update(
            line=line1, actor=officer, code="L01", name=line1.name, amount="39999.99"
        ),
        "amount",
    )
    assert "已支付" in message
    line1.refresh_from_db()
    assert line1.amount == D("100000")
    services.line_update(line=line1, actor=officer, code="L01", name=line1.name, amount="40000")
    line1.refresh_from_db()
    assert line1.amount == D("40000")


def test_negative_line_amount_and_duplicate_code_are_refused(project, line1, officer):
    refused(
        lambda: services.line_create(project=project, actor=officer, code="L09", name="x", amount="-1"),
        "amount",
    )
    message = refused(
        lambda: services.line_create(project=project, actor=officer, code="L01", name="x", amount="1"), "code"
    )
    assert "L01" in message
    assert BudgetLine.objects.filter(project=project).count() == 1


def test_negative_project_budget_is_refused(authority, officer):
    values = {
        "code": "NEG",
        "name": "n",
        "fiscal_year": 2023,
        "department": "d",
        "period_start": dt.date(2023, 1, 1),
        "period_end": dt.date(2023, 12, 31),
        "initial_budget": D("-1"),
        "adjusted_budget": D("100"),
        "reported_execution": D("-5"),
    }
    with pytest.raises(ValidationError) as info:
        services.project_create(authority=authority, actor=officer, **values)
    assert set(info.value.message_dict) >= {"initial_budget", "reported_execution"}
    assert not Project.objects.filter(code="NEG").exists()


def test_project_duplicate_code_in_year_is_refused(authority, project, officer):
    values = {
        "code": project.code,
        "name": "n",
        "fiscal_year": 2023,
        "department": "d",
        "period_start": dt.date(2023, 1, 1),
        "period_end": dt.date(2023, 12, 31),
        "initial_budget": D("1"),
        "adjusted_budget": D("1"),
    }
    refused(lambda: services.project_create(authority=authority, actor=officer, **values), "code")
    assert Project.objects.filter(code=project.code).count() == 1


def test_contract_with_negative_amount_or_foreign_line_is_refused(authority, project, line1, officer):
    other_line = BudgetLine.objects.create(
        project=make_project(authority, code="P2"), code="X", name="x", amount=1
    )
    base = {
        "number": "HT-9",
        "title": "t",
        "vendor": "v",
        "signed_on": dt.date(2023, 1, 1),
        "starts_on": dt.date(2023, 1, 1),
        "ends_on": dt.date(2023, 12, 31),
    }
    refused(
        lambda: services.contract_create(project=project, actor=officer, line=line1, amount="-5", **base),
        "amount",
    )
    refused(
        lambda: services.contract_create(project=project, actor=officer, line=other_line, amount="5", **base),
        "line",
    )
    assert not Contract.objects.filter(number="HT-9").exists()


def test_milestones_may_not_total_more_than_contract(contract, officer):
    services.milestone_save(
        contract=contract,
        actor=officer,
        order=1,
        deliverable="首期",
        due_on=dt.date(2023, 3, 1),
        amount="30000",
    )
    message = refused(
        lambda: services.milestone_save(
            contract=contract,
            actor=officer,
            order=2,
            deliverable="二期",
            due_on=dt.date(2023, 6, 1),
            amount="30000.01",
        ),
        "amount",
    )
    assert "超过合同金额" in message
    assert contract.milestones.count() == 1
    refused(
        lambda: services.milestone_save(
            contract=contract,
            actor=officer,
            order=2,
            deliverable="二期",
            due_on=dt.date(2023, 6, 1),
            amount="-1",
        ),
        "amount",
    )
    services.milestone_save(
        contract=contract,
        actor=officer,
        order=2,
        deliverable="二期",
        due_on=dt.date(2023, 6, 1),
        amount="30000",
    )
    assert sum(m.amount for m in contract.milestones.all()) == D("60000")


def test_contract_amount_cannot_drop_below_schedule(contract, officer):
    services.milestone_save(
        contract=contract,
        actor=officer,
        order=1,
        deliverable="首期",
        due_on=dt.date(2023, 3, 1),
        amount="50000",
    )
    refused(lambda: services.contract_update(contract=contract, actor=officer, amount="49999"), "amount")
    contract.refresh_from_db()
    assert contract.amount == D("60000")


def test_component_lines_must_belong_to_project(authority, project, line1, officer):
    foreign = BudgetLine.objects.create(
        project=make_project(authority, code="P2"), code="X", name="x", amount=1
    )
    refused(
        lambda: services.component_create(
            project=project, actor=officer, name="子项目", lines=[line1, foreign]
        ),
        "lines",
    )
    assert not ProjectComponent.objects.exists()
    component = services.component_create(project=project, actor=officer, name="子项目", lines=[line1])
    assert list(component.lines.all()) == [line1]


# --- transitions ----------------------------------------------------------------------------------------


def test_transitions_follow_workflow_and_are_logged(authority, officer, manager):
    draft = make_project(authority, code="D1", status=ProjectStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        services.project_transition(draft, "activate", manager, "")  # manager lacks manage_project
    # Weights total 10 (budget execution only): the year cannot be set going.
    with pytest.raises(ValidationError, match="权重合计应为 100"):
        services.project_transition(draft, "activate", officer, "预算已批复")
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
    services.project_transition(draft, "activate", officer, "预算已批复")
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.ACTIVE
    with pytest.raises(PermissionDenied):
        services.project_transition(draft, "close", officer, "")  # officer lacks close_project
    with pytest.raises(TransitionNotAllowed):
        services.project_transition(draft, "reopen", manager, "x")
    services.project_transition(draft, "close", manager, "年度结束")
    refused(lambda: services.project_transition(draft, "reopen", manager, "  "), "reason")
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.CLOSED
    log = list(PerformanceTransitionLog.objects.filter(object_type="project", object_id=draft.pk))
    assert [(e.action, e.from_state, e.to_state, e.actor, e.reason) for e in log] == [
        ("activate", "draft", "active", officer, "预算已批复"),
        ("close", "active", "closed", manager, "年度结束"),
    ]


def test_closed_project_refuses_edits(authority, officer):
    closed = make_project(authority, code="C1", status=ProjectStatus.CLOSED)
    refused(lambda: services.project_update(project=closed, actor=officer, name="改名"))
    refused(lambda: services.line_create(project=closed, actor=officer, code="L1", name="x", amount="1"))
    closed.refresh_from_db()
    assert closed.name == "经济服务审批工作经费"
    assert not closed.lines.exists()


# --- execution figures ----------------------------------------------------------------------------------


def test_line_execution_and_project_rate(project, line1, line2, officer):
    pay(project, line1, "25000", officer=officer)
    pay(project, line1, "25000", officer=officer, paid_on=dt.date(2023, 5, 2))
    pay(project, line2, "12500", officer=officer)
    rows = {e.line.code: e for e in selectors.line_execution(project)}
    assert rows["L01"].executed == D("50000") and rows["L01"].rate == D("0.5000")
    assert rows["L02"].executed == D("12500") and rows["L02"].rate == D("0.2500")
    assert rows["L01"].rate_display == "50.00%"
    execution = selectors.project_execution(project)
    assert execution.executed == D("62500")
    assert execution.rate == D("0.3125")  # 62,500 ÷ 200,000 (调整后预算数), not ÷ the lines' 150,000
    # The finance system's figure, when entered, is the year's execution.
    project.reported_execution = D("199980")
    project.save()
    assert selectors.project_execution(project).rate == D("0.9999")
    assert selectors.project_executed(project, until=dt.date(2023, 4, 1)) == D("37500")


def test_line_without_budget_has_no_rate(project, officer):
    line = BudgetLine.objects.create(project=project, code="L0", name="零预算", amount=D("0"))
    assert selectors.line_execution(project)[0].line == line
    assert selectors.line_execution(project)[0].rate is None
    assert selectors.line_execution(project)[0].rate_display == "—"


def test_monthly_execution_is_cumulative_by_month(project, line1, line2, officer):
    pay(project, line1, "1000", officer=officer, paid_on=dt.date(2023, 1, 31))
    pay(project, line1, "2000", officer=officer, paid_on=dt.date(2023, 3, 1))
    pay(project, line1, "500", officer=officer, paid_on=dt.date(2023, 3, 20))
    series = selectors.monthly_execution(project)
    assert set(series) == {line1.pk, line2.pk}
    assert series[line1.pk] == [D(1000), D(1000), D(3500)] + [D(3500)] * 9
    assert series[line2.pk] == [D(0)] * 12
    assert all(isinstance(v, Decimal) for v in series[line1.pk])


def test_scoped_reads(project, other_project, officer):
    from django.http import Http404

    assert list(selectors.projects_for(officer)) == [project]
    with pytest.raises(Http404):
        selectors.project_for(officer, other_project.pk)
    assert selectors.project_for(officer, project.pk) == project
