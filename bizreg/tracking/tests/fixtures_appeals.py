"""Test data of the appeals: the officer, the manager, two departments each with a member, an enterprise of
the register, and appeals made through the services with the clock frozen on a known working day.

A test module takes the fixtures with `from bizreg.tracking.tests.fixtures_appeals import *` (only the
fixtures are exported, see __all__) and imports the plain helpers by name.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.testing.factories import EnterpriseFactory
from bizreg.tracking.models import Department
from bizreg.tracking.services import appeals as services

__all__ = [
    "appeal_clock",
    "officer",
    "second_officer",
    "manager",
    "member",
    "other_member",
    "department",
    "other_department",
    "company",
    "raise_appeal",
    "routed_appeal",
    "answered_appeal",
]

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026 (working days all around it): 10 working days later is Monday 16 March.
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
PHONE = "13912345678"


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def add_role(user, code: str) -> None:
    user.groups.add(Group.objects.get(name=ROLE_BY_CODE[code].name))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


@pytest.fixture
def appeal_clock(monkeypatch):
    """The clock frozen at START; appeal_clock(moment) moves it (timezone.now, so localdate too)."""
    from django.utils import timezone

    def set_now(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    set_now(START)
    return set_now


@pytest.fixture
def officer(make_user):
    return make_user("enterprise_officer", username="officer_li", display_name="李专员")


@pytest.fixture
def second_officer(make_user):
    return make_user("enterprise_officer", username="officer_zhao", display_name="赵专员")


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="manager_wang", display_name="王科长")


@pytest.fixture
def member(make_user):
    return make_user("department_viewer", username="fgj_chen", display_name="陈发改")


@pytest.fixture
def other_member(make_user):
    return make_user("department_viewer", username="rsj_huang", display_name="黄人社")


@pytest.fixture
def department(authority, member):
    dep = Department.objects.create(authority=authority, name="区发展和改革局", default_days=10)
    dep.members.add(member)
    return dep


@pytest.fixture
def other_department(authority, other_member):
    dep = Department.objects.create(authority=authority, name="区人力资源和社会保障局", default_days=5)
    dep.members.add(other_member)
    return dep


@pytest.fixture
def company(authority):
    return EnterpriseFactory(authority=authority, name="广州南沙诉求测试科技有限公司")


@pytest.fixture
def raise_appeal(authority, officer, company, appeal_clock):
    """raise_appeal(**overrides) → an appeal registered through the service."""

    def make(**overrides):
        data = {
            "authority": authority,
            "enterprise_id": company.pk,
            "actor": officer,
            "category": "finance",
            "title": "申请科技型中小企业贷款贴息",
            "description": "企业扩产需流动资金，咨询区贷款贴息政策的申报条件与流程。",
            "contact_name": "刘财务",
            "contact_phone": PHONE,
        }
        data.update(overrides)
        return services.appeal_raise(**data)

    return make


@pytest.fixture
def routed_appeal(raise_appeal, department, officer):
    def make(**overrides):
        appeal = raise_appeal(**overrides)
        return services.appeal_route(appeal=appeal, department=department, actor=officer)

    return make


@pytest.fixture
def answered_appeal(routed_appeal, member):
    def make(feedback: str = "已对接区发改局，贴息申报材料清单已告知企业，3 月底前可提交。", **overrides):
        appeal = routed_appeal(**overrides)
        return services.appeal_answer(appeal=appeal, actor=member, feedback=feedback)

    return make
