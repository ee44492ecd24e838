"""Reads of budgets, lines, contracts and payments, and execution figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from bizreg.performance.models import Payment, Project

ZERO = Decimal("0")


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
