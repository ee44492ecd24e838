"""Test data of the investigations services. Cases are made through the services (as an investigator
would), register entries through enterprises.services, the clock frozen at a known working day.

A test module takes the fixtures with `from bizreg.investigations.tests.services_fixtures import *` (only
the fixtures are exported, see __all__) and imports the plain helpers by name.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from bizreg.core.identifiers import build_resident_id, build_uscc
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import Street
from bizreg.investigations.models import FieldCheckResult
from bizreg.investigations.services import cases as case_services
from bizreg.investigations.services import field_checks as field_check_services
from bizreg.investigations.services import intake as intake_services

__all__ = [
    "investigator",
    "second_investigator",
    "manager",
    "clerk",
    "clock",
    "enterprise",
    "receive",
    "accepted",
    "unreachable",
    "private_media",
]

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, a working day with working days all around it.
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
VICTIM_ID = build_resident_id("440115", dt.date(1988, 8, 8), 11)
OTHER_VICTIM_ID = build_resident_id("440106", dt.date(1992, 2, 2), 22)
CULPRIT_ID = build_resident_id("440106", dt.date(1979, 9, 9), 33)
_serial = itertools.count(52_000_001)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def next_uscc(division: str = "440115") -> str:
    return build_uscc(division, f"{next(_serial):08d}")


@pytest.fixture
def investigator(role_users):
    return role_users["investigator"]


@pytest.fixture
def second_investigator(make_user):
    return make_user("investigator", username="investigator_two")


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def clock(monkeypatch):
    """The clock frozen at START; clock(moment) moves it (timezone.now, so localdate and auto_now too)."""
    from django.utils import timezone

    def set_now(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    set_now(START)
    return set_now


@pytest.fixture
def enterprise(authority, clerk):
    """enterprise(**overrides) → a register entry made through enterprises.services (with its legal rep)."""

    def make(**overrides):
        data = {
            "uscc": next_uscc(),
            "name": f"广州南沙冒名测试{next(_serial)}有限公司",
            "entity_type": "llc",
            "legal_rep_name": "张冒名",
            "legal_rep_id_number": VICTIM_ID,
            "established_on": dt.date(2024, 5, 8),
            "industry": "I",
            "address": "广州市南沙区进港大道 8 号 1201",
            "street": Street.objects.get(code="440115003"),
        }
        data.update(overrides)
        return enterprise_services.enterprise_create(actor=clerk, authority=authority, **data)

    return make


@pytest.fixture
def receive(authority, investigator):
    """receive(*enterprises, **overrides) → the Report of a task-force referral naming the enterprises."""

    def make(*enterprises, **overrides):
        kwargs = {
            "authority": authority,
            "source": "task_force",
            "reporter": {"name": "张三", "id_number": VICTIM_ID, "phone": "13800138000"},
            "verification_method": "task_force",
            "verification_result": "passed",
            "narrative": "本人身份证遗失后被他人用于登记企业。",
            "enterprises": [{"name": e.name, "uscc": e.uscc} for e in enterprises]
            or [{"name": "不存在的某某有限公司", "uscc": ""}],
            "referral_reference": "专责转〔2026〕1号",
            "actor": investigator,
        }
        kwargs.update(overrides)
        return intake_services.report_receive(**kwargs)

    return make


@pytest.fixture
def accepted(receive, investigator, enterprise):
    """accepted(*enterprises) → a case accepted by the investigator (one new enterprise if none given)."""

    def make(*enterprises, **overrides):
        report = receive(*(enterprises or (enterprise(),)), **overrides)
        return case_services.case_accept(case=report.case, actor=investigator)

    return make


@pytest.fixture
def unreachable(investigator):
    """unreachable(case) → a submitted field check finding the enterprise gone (ground for the notice)."""
    from django.utils import timezone

    def make(case, result=FieldCheckResult.NOT_FOUND):
        check = field_check_services.field_check_assign(
            case=case,
            actor=investigator,
            address="广州市南沙区进港大道 8 号 1201",
            assigned_to=investigator,
            due_on=timezone.localdate() + dt.timedelta(days=5),
        )
        return field_check_services.field_check_submit(
            field_check=check,
            actor=investigator,
            visited_at=timezone.now() - dt.timedelta(hours=1),
            result=result,
            findings="登记住所为空置写字间，物业称从未有该企业入驻。",
        )

    return make


@pytest.fixture
def private_media(settings, tmp_path):
    """Evidence files go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
