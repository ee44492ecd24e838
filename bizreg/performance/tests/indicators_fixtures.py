"""Shared data of the indicator tests: a 2023 project in `authority` with the seed's ten indicators built
from catalog.SEED_INDICATORS (budget weight 10 + indicator weights 90 = 100)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bizreg.performance.catalog import SEED_INDICATORS
from bizreg.performance.models import Indicator, Project, ProjectStatus


def make_project(authority, *, code="JJFWSP", status=ProjectStatus.ACTIVE, **values) -> Project:
    defaults = {
        "name": "经济服务审批工作经费",
        "department": "广州市南沙区政务服务和数据管理局",
        "fiscal_year": 2023,
        "period_start": dt.date(2023, 1, 1),
        "period_end": dt.date(2023, 12, 31),
        "initial_budget": Decimal("9431000.00"),
        "adjusted_budget": Decimal("9431000.00"),
        "reported_execution": Decimal("9430700.00"),
    }
    return Project.objects.create(authority=authority, code=code, status=status, **(defaults | values))


def add_seed_indicators(project: Project) -> dict[str, Indicator]:
    """The seed's ten indicators as first set (original_* = current), by code."""
    made = {}
    for order, c in enumerate(SEED_INDICATORS, start=1):
        made[c.code] = Indicator.objects.create(
            project=project,
            code=c.code,
            order=order,
            level1=c.level1,
            level2=c.level2,
            name=c.name,
            unit=c.unit,
            direction=c.direction,
            target_value=c.target_value,
            target_text=c.target_text,
            weight=c.weight,
            metric_key=c.metric_key,
            original_target_value=c.target_value,
            original_target_text=c.target_text,
            original_weight=c.weight,
        )
    return made


def indicator_data(**overrides) -> dict:
    data = {
        "code": "N1",
        "order": 1,
        "level1": "output",
        "level2": "quantity",
        "name": "完成企业信息录入份数",
        "unit": "份",
        "direction": "ge",
        "target_value": Decimal(1000),
        "target_text": "",
        "weight": Decimal(10),
        "metric_key": "registration.info_entries_and_guidance",
        "data_source": "",
        "manual_value": None,
        "manual_text": "",
        "evidence_note": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def project(authority):
    return make_project(authority)


@pytest.fixture
def seed_indicators(project):
    return add_seed_indicators(project)
