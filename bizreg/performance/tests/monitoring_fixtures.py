"""Test data of the monitoring area: a project written as rows, and real registration records (信息录入/
指引记录) spread over months so the registered metric `registration.info_entries_and_guidance` has a
seasonality to learn from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from bizreg.performance.models import (
    BudgetLine,
    Direction,
    Indicator,
    Level1,
    Level2,
    Payment,
    Project,
    ProjectStatus,
)
from bizreg.registration.models import ServiceRecord

TZ = ZoneInfo("Asia/Shanghai")
ENTRIES = "registration.info_entries_and_guidance"

# Ten records a month from January to November and ninety in December: a year-end rush, as in the seed's
# business lines. By 30 June earlier years had reached 60 of 200, i.e. 30 % of the year.
BUSY_DECEMBER = [10] * 11 + [90]


def make_project(authority, *, year: int = 2023, budget: str = "1000000", **overrides) -> Project:
    data = {
        "authority": authority,
        "code": f"P{year}",
        "name": "经济服务审批工作经费",
        "fiscal_year": year,
        "department": "广州市南沙区政务服务和数据管理局",
        "period_start": dt.date(year, 1, 1),
        "period_end": dt.date(year, 12, 31),
        "initial_budget": Decimal(budget),
        "adjusted_budget": Decimal(budget),
        "status": ProjectStatus.ACTIVE,
    }
    data.update(overrides)
    return Project.objects.create(**data)


def make_indicator(project, code: str = "3", **overrides) -> Indicator:
    data = {
        "project": project,
        "code": code,
        "order": int(code) if code.isdigit() else 0,
        "level1": Level1.OUTPUT,
        "level2": Level2.QUANTITY,
        "name": "完成商事登记企业信息录入及一网通办指引份数",
        "unit": "份",
        "direction": Direction.AT_LEAST,
        "target_value": Decimal(200),
        "weight": Decimal(10),
        "metric_key": ENTRIES,
    }
    data.update(overrides)
    return Indicator.objects.create(**data)


def make_line(project, code: str, amount: str, name: str | None = None, order: int = 0) -> BudgetLine:
    return BudgetLine.objects.create(
        project=project, code=code, name=name or f"明细{code}", amount=Decimal(amount), order=order
    )


def pay(project, line, day: dt.date, amount: str) -> Payment:
    return Payment.objects.create(project=project, line=line, paid_on=day, amount=Decimal(amount))


def service_records(
    authority, staff, year: int, per_month: list[int], *, until: dt.date | None = None
) -> int:
    """Records on days 1..n of each month (n = that month's count, wrapping past the 28th), up to `until`
    (exclusive). Returns how many were written."""
    rows = []
    for month, count in enumerate(per_month, start=1):
        for i in range(count):
            day = dt.date(year, month, i % 28 + 1)
            if until is not None and day >= until:
                continue
            rows.append(
                ServiceRecord(
                    authority=authority,
                    kind=ServiceRecord.Kind.INFO_ENTRY,
                    staff=staff,
                    enterprise_name=f"广州南沙测试{year}{month:02d}{i:03d}有限公司",
                    occurred_at=dt.datetime.combine(day, dt.time(10, i % 50), tzinfo=TZ),
                    minutes=5,
                )
            )
    ServiceRecord.objects.bulk_create(rows)
    return len(rows)
