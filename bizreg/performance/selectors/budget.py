"""Reads of budgets, lines, contracts and payments, and execution figures.

Every read that takes a user is scoped to the user's authorities (Project.authority): another authority's
project answers 404, the same as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.http import Http404

from bizreg.core.scoping import scope_to_user
from bizreg.performance.models import (
    BudgetLine,
    Contract,
    Payment,
    PaymentMilestone,
    Project,
    ProjectComponent,
)

ZERO = Decimal("0")
PAGE_SIZE = 30
RATE_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


def payments_total(project: Project, until: dt.date | None = None) -> Decimal:
    """Sum of the payments recorded for the project (paid before `until` when given)."""
    payments = Payment.objects.filter(project=project)
    if until is not None:
        payments = payments.filter(paid_on__lt=until)
    return payments.aggregate(total=Sum("amount"))["total"] or ZERO


def project_executed(project: Project, until: dt.date | None = None) -> Decimal:
    """执行数: the finance system's figure for the whole year when entered, else the recorded payments."""
    if until is None and project.reported_execution is not None:
        return project.reported_execution
    return payments_total(project, until)


def percent(rate: Decimal | None) -> str:
    """A fraction shown as a percentage with two decimals ('—' when there is none)."""
    if rate is None:
        return "—"
    return f"{rate * 100:.2f}%"


def execution_rate(executed: Decimal, budget: Decimal) -> Decimal | None:
    """执行数 ÷ 预算数 as a fraction (0.9999), None when there is no budget to divide by."""
    if not budget:
        return None
    return (Decimal(executed) / Decimal(budget)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


# --- scoped access -----------------------------------------------------------------------------------


def projects_for(user) -> QuerySet[Project]:
    """The projects the user may see (their authorities' projects)."""
    return scope_to_user(Project.objects.select_related("authority"), user)


def project_for(user, pk: int) -> Project:
    """One visible project; 404 for another authority's project as for a missing one."""
    try:
        return projects_for(user).get(pk=pk)
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该预算项目。") from None


def project_search(*, user, filters: Mapping[str, Any]) -> QuerySet[Project]:
    qs = projects_for(user)
    if filters.get("year"):
        qs = qs.filter(fiscal_year=filters["year"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    text = (filters.get("q") or "").strip()
    if text:
        qs = qs.filter(Q(code__icontains=text) | Q(name__icontains=text) | Q(department__icontains=text))
    return qs.annotate(paid_total=Sum("payments__amount")).order_by("-fiscal_year", "code")


def project_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(project_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def project_years(user) -> list[int]:
    return sorted(set(projects_for(user).values_list("fiscal_year", flat=True)), reverse=True)


def lines_visible_to(user) -> QuerySet[BudgetLine]:
    return scope_to_user(BudgetLine.objects.select_related("project"), user, field="project__authority")


def contracts_visible_to(user) -> QuerySet[Contract]:
    return scope_to_user(Contract.objects.select_related("project", "line"), user, field="project__authority")


def payments_visible_to(user) -> QuerySet[Payment]:
    return scope_to_user(
        Payment.objects.select_related("project", "line", "contract", "milestone", "recorded_by"),
        user,
        field="project__authority",
    )


def contract_for(user, pk: int) -> Contract:
    try:
        return (
            contracts_visible_to(user)
            .prefetch_related(
                Prefetch("milestones", queryset=PaymentMilestone.objects.order_by("order")),
            )
            .get(pk=pk)
        )
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该合同。") from None


def line_for(user, pk: int) -> BudgetLine:
    try:
        return lines_visible_to(user).get(pk=pk)
    except (BudgetLine.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该预算明细。") from None


def component_for(user, pk: int) -> ProjectComponent:
    try:
        return scope_to_user(
            ProjectComponent.objects.select_related("project"), user, field="project__authority"
        ).get(pk=pk)
    except (ProjectComponent.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该子项目。") from None


# --- execution -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineExecution:
    line: BudgetLine
    budget: Decimal
    executed: Decimal
    rate: Decimal | None  # fraction; None when the line has no budget

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.executed

    @property
    def rate_display(self) -> str:
        return percent(self.rate)


def line_execution(project: Project) -> list[LineExecution]:
    """Budget, executed (sum of payments) and execution rate of each line, in the lines' order."""
    lines = list(BudgetLine.objects.filter(project=project).annotate(paid=Sum("payments__amount")))
    # Quantized: SQLite sums come back as Decimal("50000"), PostgreSQL's as Decimal("50000.00").
    return [
        LineExecution(
            line=line,
            budget=line.amount,
            executed=(line.paid or ZERO).quantize(CENT),
            rate=execution_rate(line.paid or ZERO, line.amount),
        )
        for line in lines
    ]


@dataclass(frozen=True)
class ProjectExecution:
    lines: list[LineExecution]
    lines_budget: Decimal
    lines_executed: Decimal
    adjusted_budget: Decimal
    executed: Decimal  # project_executed: the finance figure when entered
    payments: Decimal
    rate: Decimal | None  # 执行数 ÷ 调整后预算数

    @property
    def rate_display(self) -> str:
        return percent(self.rate)

    @property
    def lines_rate_display(self) -> str:
        return percent(execution_rate(self.lines_executed, self.lines_budget))


def project_execution(project: Project) -> ProjectExecution:
    lines = line_execution(project)
    executed = project_executed(project)
    return ProjectExecution(
        lines=lines,
        lines_budget=sum((e.budget for e in lines), ZERO),
        lines_executed=sum((e.executed for e in lines), ZERO),
        adjusted_budget=project.adjusted_budget,
        executed=executed,
        payments=payments_total(project),
        rate=execution_rate(executed, project.adjusted_budget),
    )


def monthly_execution(project: Project) -> dict[int, list[Decimal]]:
    """{line_id: 12 cumulative yuan Decimals}, month m holding the payments of the fiscal year up to the
    end of month m. Every line of the project has an entry (zeros when nothing was paid)."""
    series = {line_id: [ZERO] * 12 for line_id in project.lines.values_list("id", flat=True)}
    rows = (
        Payment.objects.filter(project=project, paid_on__year=project.fiscal_year)
        .annotate(month=ExtractMonth("paid_on"))
        .values("line_id", "month")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    monthly: dict[int, list[Decimal]] = {line_id: [ZERO] * 12 for line_id in series}
    for row in rows:
        monthly.setdefault(row["line_id"], [ZERO] * 12)[row["month"] - 1] += row["total"]
    for line_id, months in monthly.items():
        running = ZERO
        cumulative = []
        for amount in months:
            running += amount
            cumulative.append(running)
        series[line_id] = cumulative
    return series


# --- detail reads ---------------------------------------------------------------------------------------


def project_contracts(project: Project) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(project=project)
        .select_related("line")
        .annotate(paid=Sum("payments__amount"))
        .order_by("number")
    )


def project_components(project: Project) -> QuerySet[ProjectComponent]:
    return ProjectComponent.objects.filter(project=project).prefetch_related("lines")


def project_payments(project: Project, filters: Mapping[str, Any] | None = None) -> QuerySet[Payment]:
    qs = Payment.objects.filter(project=project).select_related(
        "line", "contract", "milestone", "recorded_by"
    )
    filters = filters or {}
    if filters.get("line"):
        qs = qs.filter(line=filters["line"])
    if filters.get("contract"):
        qs = qs.filter(contract=filters["contract"])
    if filters.get("date_from"):
        qs = qs.filter(paid_on__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(paid_on__lte=filters["date_to"])
    text = (filters.get("q") or "").strip()
    if text:
        qs = qs.filter(Q(voucher_number__icontains=text) | Q(description__icontains=text))
    return qs.order_by("-paid_on", "-id")


def payment_page(project: Project, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(project_payments(project, filters), PAGE_SIZE).get_page(page)


def contract_milestones(contract: Contract) -> QuerySet[PaymentMilestone]:
    return contract.milestones.annotate(paid=Sum("payments__amount")).order_by("order")


def contract_paid(contract: Contract) -> Decimal:
    return contract.payments.aggregate(total=Sum("amount"))["total"] or ZERO


def amount_sum(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or ZERO
