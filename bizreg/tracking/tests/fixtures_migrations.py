"""Fixtures and record builders of the migration and watch-list tests.

A test module takes them with `from bizreg.tracking.tests.fixtures_migrations import *  # noqa: F403`
(the fixtures are requested by name). Registration cases, visits and appeals are written directly (fast
test data): the registration, visit and appeal services have their own tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from bizreg.enterprises.models import Street
from bizreg.registration.models import OPEN_STATES, CaseState, CaseType, Channel, RegistrationCase
from bizreg.testing.factories import EnterpriseFactory, valid_resident_id
from bizreg.tracking.models import (
    AnswerType,
    Appeal,
    AppealCategory,
    Question,
    Questionnaire,
    Visit,
    VisitMethod,
    VisitState,
)

__all__ = [
    "TODAY",
    "officer",
    "manager",
    "clerk",
    "department_member",
    "other_officer",
    "enterprise",
    "questionnaire",
    "outside_street",
    "make_enterprise",
    "make_case",
    "make_visit",
    "make_appeal",
    "aware",
]

TODAY = dt.date(2024, 6, 28)
_numbers = itertools.count(1)


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def officer(make_user):
    return make_user("enterprise_officer", display_name="陈专员")


@pytest.fixture
def manager(make_user):
    return make_user("manager", display_name="王科长")


@pytest.fixture
def clerk(make_user):
    return make_user("registration_clerk")


@pytest.fixture
def department_member(make_user):
    return make_user("department_viewer")


@pytest.fixture
def other_officer(make_user, other_authority):
    return make_user("enterprise_officer", authorities=[other_authority])


@pytest.fixture
def make_enterprise(authority):
    def make(**kwargs):
        kwargs.setdefault("authority", authority)
        return EnterpriseFactory(**kwargs)

    return make


@pytest.fixture
def enterprise(make_enterprise):
    return make_enterprise(name="广州南沙迁移测试科技有限公司")


@pytest.fixture
def outside_street(db):
    """A street of 天河区 (440106): outside 南沙区 (440115), the authority of the tests."""
    return Street.objects.create(code="440106001", name="五山街道", division_code="440106")


@pytest.fixture
def questionnaire(authority):
    q = Questionnaire.objects.create(authority=authority, title="企业走访问卷", version=1, is_active=True)
    Question.objects.create(
        questionnaire=q, code="employees", order=1, text="职工人数", answer_type=AnswerType.INTEGER
    )
    Question.objects.create(
        questionnaire=q,
        code="move_out",
        order=2,
        text="是否有迁出打算",
        answer_type=AnswerType.YES_NO,
        signals_move_out=True,
    )
    return q


@pytest.fixture
def make_case(authority):
    """make_case(direction, enterprise=…, decided_on=…, counterpart=…, state=…) → a 迁入/迁出 case."""

    def make(
        direction: str,
        *,
        enterprise=None,
        decided_on: dt.date | None = dt.date(2024, 3, 15),
        counterpart: str = "深圳市市场监督管理局",
        state: str = CaseState.APPROVED,
        case_type: str | None = None,
        requested_changes: dict | None = None,
        received_on: dt.date | None = None,
        case_authority=None,
    ) -> RegistrationCase:
        n = next(_numbers)
        incoming = direction == "in"
        if requested_changes is None:
            requested_changes = (
                {"origin_authority": counterpart}
                if incoming
                else {"destination_authority": counterpart, "destination_address": "深圳市南山区科技园1号"}
            )
        received = received_on or (decided_on - dt.timedelta(days=5) if decided_on else TODAY)
        return RegistrationCase.objects.create(
            authority=case_authority or authority,
            number=f"T{received:%Y%m%d}{n:05d}",
            case_type=case_type or (CaseType.MIGRATION_IN if incoming else CaseType.MIGRATION_OUT),
            channel=Channel.WINDOW,
            state=state,
            enterprise=enterprise,
            enterprise_name=enterprise.name if enterprise else f"迁入企业{n}有限公司",
            uscc=enterprise.uscc if enterprise else "",
            requested_changes=requested_changes,
            applicant_name="李申请",
            applicant_id_number=valid_resident_id(),
            applicant_phone="13800138000",
            received_at=aware(received),
            decided_at=aware(decided_on, 15) if decided_on and state not in OPEN_STATES else None,
        )

    return make


@pytest.fixture
def make_visit(authority, officer, questionnaire):
    def make(
        enterprise, *, visited_on=dt.date(2024, 5, 10), answers=None, reason="", state=VisitState.SUBMITTED
    ):
        n = next(_numbers)
        return Visit.objects.create(
            authority=authority,
            number=f"走{visited_on.year}{n:05d}",
            enterprise=enterprise,
            officer=officer,
            method=VisitMethod.ON_SITE,
            visited_on=visited_on,
            questionnaire=questionnaire,
            answers=answers if answers is not None else {"employees": 20, "move_out": False},
            findings="经营正常。",
            move_out_reason=reason,
            state=state,
            submitted_at=aware(visited_on) if state == VisitState.SUBMITTED else None,
        )

    return make


@pytest.fixture
def make_appeal(authority, officer):
    def make(enterprise, *, raised_on=dt.date(2024, 5, 10), category=AppealCategory.POLICY, title="咨询政策"):
        n = next(_numbers)
        return Appeal.objects.create(
            authority=authority,
            number=f"诉{raised_on.year}{n:05d}",
            enterprise=enterprise,
            category=category,
            title=title,
            description="企业反映的问题。",
            contact_name="刘经理",
            contact_phone="13900139000",
            raised_on=raised_on,
            raised_by=officer,
        )

    return make


def capital(yuan: str) -> Decimal:
    return Decimal(yuan)
