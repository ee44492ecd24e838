"""Test data of the cases area. Cases are made through services.cases (as a clerk would make them), the
register entries they act on through enterprises.services, licence stock through services.licences.

A test module takes the fixtures with `from bizreg.registration.tests.cases_fixtures import *` (only the
fixtures are exported, see __all__) and imports the plain helpers by name.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from bizreg.core.identifiers import build_resident_id, build_uscc
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import Street
from bizreg.registration.models import MaterialRequirement
from bizreg.registration.services import cases as services

__all__ = [
    "clerk",
    "manager",
    "second_clerk",
    "street",
    "freeze",
    "enterprise",
    "intake_data",
    "intake",
    "step",
    "licence_stock",
    "private_media",
]

TZ = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(31_000_001)
_people = itertools.count(1)

APPLICANT_ID = build_resident_id("440115", dt.date(1985, 4, 12), 101)
AGENT_ID = build_resident_id("440106", dt.date(1990, 7, 3), 202)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def next_uscc(division: str = "440115") -> str:
    return build_uscc(division, f"{next(_serial):08d}")


def all_material_codes(case_type: str, *, mandatory_only: bool = False) -> list[str]:
    qs = MaterialRequirement.objects.filter(case_type=case_type, is_active=True)
    if mandatory_only:
        qs = qs.filter(mandatory=True)
    return list(qs.values_list("code", flat=True))


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def second_clerk(make_user):
    return make_user("registration_clerk", username="clerk_two")


@pytest.fixture
def street(authority) -> Street:
    return Street.objects.get(code="440115003")  # 南沙街道, loaded by the enterprises migration


@pytest.fixture
def freeze(monkeypatch):
    """freeze(aware datetime): timezone.now() (and so localdate, auto_now) returns that moment."""
    from django.utils import timezone

    def set_now(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_now


@pytest.fixture
def enterprise(authority, clerk, street):
    """enterprise(**overrides) → a register entry created through enterprises.services."""

    def make(**overrides):
        data = {
            "uscc": next_uscc(),
            "name": "广州南沙海港科技有限公司",
            "entity_type": "llc",
            "legal_rep_name": "李明",
            "legal_rep_id_number": build_resident_id("440115", dt.date(1980, 3, 15), 123),
            "established_on": dt.date(2020, 5, 8),
            "industry": "I",
            "address": "广州市南沙区环市大道 1 号",
            "street": street,
        }
        data.update(overrides)
        return enterprise_services.enterprise_create(actor=clerk, authority=authority, **data)

    return make


@pytest.fixture
def intake_data(street):
    """intake_data(case_type, **overrides) → a complete, valid `data` for services.case_intake."""

    def make(case_type: str = "establishment", **overrides):
        data = {
            "case_type": case_type,
            "channel": "window",
            "applicant_name": "王小明",
            "applicant_id_number": APPLICANT_ID,
            "applicant_phone": "13800138000",
            "materials": all_material_codes(case_type, mandatory_only=True),
        }
        if case_type == "establishment":
            data["enterprise_name"] = f"广州南沙测试{next(_people)}贸易有限公司"
            data["requested_changes"] = {
                "entity_type": "llc",
                "legal_rep_name": "陈大文",
                "legal_rep_id_number": build_resident_id("440115", dt.date(1979, 1, 2), 88),
                "registered_capital": "1000000",
                "industry": "F",
                "address": "广州市南沙区黄阁大道 8 号",
                "street": street.pk,
                "business_scope": "日用百货销售",
            }
        elif case_type == "migration_in":
            data["enterprise_name"] = f"广州迁入测试{next(_people)}有限公司"
            data["uscc"] = next_uscc("440106")
            data["requested_changes"] = {
                "entity_type": "llc",
                "legal_rep_name": "赵四",
                "legal_rep_id_number": build_resident_id("440106", dt.date(1975, 6, 6), 66),
                "industry": "L",
                "address": "广州市南沙区港前大道 2 号",
                "street": street.pk,
                "established_on": "2015-03-09",
                "origin_authority": "广州市天河区市场监督管理局",
            }
        elif case_type == "change":
            data["requested_changes"] = {"address": "广州市南沙区进港大道 99 号"}
        elif case_type == "filing":
            data["requested_changes"] = {"filing_items": "章程修正案、联络员"}
        elif case_type == "migration_out":
            data["requested_changes"] = {"destination_authority": "佛山市顺德区市场监督管理局"}
        data.update(overrides)
        return data

    return make


@pytest.fixture
def intake(authority, clerk, intake_data):
    """intake(case_type, actor=clerk, **overrides) → a case received through services.case_intake."""

    def make(case_type: str = "establishment", actor=None, **overrides):
        return services.case_intake(
            authority=authority, actor=actor or clerk, data=intake_data(case_type, **overrides)
        )

    return make


@pytest.fixture
def step(clerk):
    """step(case, action, actor=clerk, **kwargs) → the case after services.case_transition."""

    def make(case, action: str, actor=None, **kwargs):
        return services.case_transition(case=case, action=action, actor=actor or clerk, **kwargs)

    return make


@pytest.fixture
def licence_stock(authority, manager):
    """Blank licences (正本 and 副本) at the authority: stock(n) receives n of each kind."""
    from bizreg.registration.services import licences

    def receive(count: int = 10, start: int = 1):
        for kind, prefix in (("original", "Z"), ("duplicate", "F")):
            licences.licence_batch_receive(
                authority=authority,
                actor=manager,
                kind=kind,
                serial_start=start,
                serial_end=start + count - 1,
                unit_cost="1.50",
                received_on=dt.date(2025, 1, 2),
                prefix=prefix,
            )

    return receive


@pytest.fixture(autouse=False)
def private_media(settings, tmp_path):
    """Generated notice PDFs go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
