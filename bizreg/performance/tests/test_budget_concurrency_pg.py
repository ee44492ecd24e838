"""Real races on PostgreSQL: payments racing for the last of a line's budget or a contract's amount; the
row locks let exactly as many through as fit."""

# ruff: noqa: F811 — the shared fixtures are imported from budget_fixtures and requested by name

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from bizreg.performance.models import Payment
from bizreg.performance.selectors import budget as selectors
from bizreg.performance.services import budget as services
from bizreg.performance.tests.budget_fixtures import (  # noqa: F401
    contract,
    line1,
    project,
)
from bizreg.testing.concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # conftest ignores *_pg.py off PostgreSQL, but naming the file on the command line bypasses that.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row-lock races need PostgreSQL"),
]


@pytest.fixture
def slow_sum(monkeypatch):
    """Each writer pauses after reading the sum, so without the lock all of them would read the same total."""
    original = services._sum

    def sum_then_wait(queryset, field_name="amount"):
        total = original(queryset, field_name)
        time.sleep(0.05)
        return total

    monkeypatch.setattr(services, "_sum", sum_then_wait)


def pay(project, line, officer, amount, contract=None):
    return lambda: services.payment_create(
        project=project,
        actor=officer,
        paid_on=dt.date(2023, 6, 1),
        amount=amount,
        line=line,
        contract=contract,
    )


def test_ten_payments_racing_for_a_line_budget(project, line1, officer, slow_sum):
    # 100,000 budget, ten payments of 30,000: only three fit.
    outcomes = race(*[pay(project, line1, officer, "30000") for _ in range(10)])
    saved = [o for o in outcomes if isinstance(o, Payment)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(saved) == 3 and len(refused) == 7, outcomes
    assert all("超过其预算" in " ".join(e.messages) for e in refused)
    assert selectors.payments_total(project) == Decimal("90000")


def test_payments_racing_for_a_contract_amount(project, line1, contract, officer, slow_sum):
    # 60,000 contract, eight payments of 25,000: only two fit, the line (100,000) would allow four.
    outcomes = race(*[pay(project, line1, officer, "25000", contract) for _ in range(8)])
    saved = [o for o in outcomes if isinstance(o, Payment)]
    assert len(saved) == 2, outcomes
    assert selectors.contract_paid(contract) == Decimal("50000")


def test_lowering_a_line_while_paying_never_leaves_it_overspent(project, line1, officer, slow_sum):
    calls = [pay(project, line1, officer, "20000") for _ in range(4)]
    calls.append(
        lambda: services.line_update(line=line1, actor=officer, code="L01", name=line1.name, amount="40000")
    )
    race(*calls)
    line1.refresh_from_db()
    assert selectors.payments_total(project) <= line1.amount
