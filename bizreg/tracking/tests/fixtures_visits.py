"""Test data of the plans, questionnaire and visits area. Register entries are written with the factory
(their history rows dated with `_history_date`, so the growth rules see changes inside or outside their
window); move-out applications are registration cases written directly (only what the selector reads).

A test module takes the fixtures with `from bizreg.tracking.tests.fixtures_visits import *` (only the
fixtures are exported, see __all__) and imports the plain helpers by name.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bizreg.testing.factories import EnterpriseFactory, valid_resident_id
from bizreg.tracking.models import PlanReason, PlanState, VisitPlan

__all__ = [
    "officer",
    "other_officer",
    "manager",
    "department_member",
    "clerk",
    "foreign_officer",
    "today",
    "enterprise",
    "foreign_enterprise",
    "plan",
]

TZ = ZoneInfo("Asia/Shanghai")
_cases = itertools.count(1)
_keys = itertools.count(1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def make_enterprise(authority, *, recorded: dt.date | None = None, **fields):
    """A register entry whose creation is recorded on `recorded` (default: now)."""
    enterprise = EnterpriseFactory.build(authority=authority, **fields)
    if recorded is not None:
        enterprise._history_date = at(recorded)
    enterprise.save()
    enterprise.__dict__.pop("_history_date", None)
    return enterprise


def change_register(enterprise, *, on: dt.date, **fields) -> None:
    """Change the entry as a registration would, with its history row dated `on`."""
    for name, value in fields.items():
        setattr(enterprise, name, value)
    enterprise._history_date = at(on)
    enterprise.save()
    enterprise.__dict__.pop("_history_date", None)


def yuan(wan: str) -> Decimal:
    return Decimal(wan) * 10000


def move_out_case(
    enterprise, *, received: dt.date, state: str = "received", destination: str = "深圳市市场监督管理局"
):
    from bizreg.registration.models import RegistrationCase

    return RegistrationCase.objects.create(
        authority=enterprise.authority,
        number=f"QC{received:%Y%m%d}{next(_cases):05d}",
        case_type="migration_out",
        channel="window",
        state=state,
        enterprise=enterprise,
        enterprise_name=enterprise.name,
        uscc=enterprise.uscc,
        requested_changes={"destination_authority": destination, "destination_address": "深圳市南山区科技园"},
        applicant_name="王五",
        applicant_id_number=valid_resident_id(),
        applicant_phone="13800138000",
        received_at=at(received),
    )


def make_plan(
    enterprise, *, reason: str = PlanReason.NEW_ENTERPRISE, officer=None, due_in: int = 30, **fields
):
    today = timezone.localdate()
    return VisitPlan.objects.create(
        authority=enterprise.authority,
        enterprise=enterprise,
        reason=reason,
        trigger=fields.pop("trigger", "测试计划"),
        trigger_key=fields.pop("trigger_key", f"test:{next(_keys)}"),
        state=PlanState.ASSIGNED if officer else PlanState.OPEN,
        officer=officer,
        planned_on=today,
        due_on=today + dt.timedelta(days=due_in),
        **fields,
    )


# Answers that pass the default questionnaire's submit check.
COMPLETE_ANSWERS = {
    "employees": "35",
    "revenue_trend": "小幅增长",
    "difficulties": ["用工招工难", "场地租金成本高"],
    "expand_plan": "yes",
    "move_out_plan": "no",
    "satisfaction": "满意",
    "remarks": "希望加强人才政策宣传",
}


@pytest.fixture
def officer(role_users):
    return role_users["enterprise_officer"]


@pytest.fixture
def other_officer(make_user):
    return make_user("enterprise_officer", username="officer_two", display_name="李专员")


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def department_member(role_users):
    return role_users["department_viewer"]


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def foreign_officer(make_user, other_authority):
    return make_user("enterprise_officer", authorities=[other_authority], username="officer_th")


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def enterprise(authority, today):
    return make_enterprise(
        authority,
        name="广州南沙远航科技有限公司",
        established_on=today - dt.timedelta(days=400),
        recorded=today - dt.timedelta(days=400),
    )


@pytest.fixture
def foreign_enterprise(other_authority, today):
    return make_enterprise(
        other_authority, name="广州天河外区贸易有限公司", established_on=today - dt.timedelta(days=20)
    )


@pytest.fixture
def plan(enterprise, officer):
    return make_plan(enterprise, officer=officer)
