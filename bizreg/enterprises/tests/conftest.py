"""Fixtures of the register tests: data is made through the services, as staff would make it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bizreg.core.identifiers import build_resident_id, build_uscc
from bizreg.enterprises import services
from bizreg.enterprises.models import FtzAddressRule, Street
from bizreg.testing import factories

_serial = itertools.count(20_000_001)

VALID_USCC = "91110000600037341L"


def next_uscc(division: str = "440115") -> str:
    return build_uscc(division, f"{next(_serial):08d}")


def wrong_check_digit(uscc: str) -> str:
    """The same code with a different (wrong) 18th character: the only check it fails is GB 32100's."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return uscc[:-1] + alphabet[(alphabet.index(uscc[-1]) + 1) % len(alphabet)]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded import files go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def investigator(role_users):
    return role_users["investigator"]


@pytest.fixture
def street(authority) -> Street:
    return Street.objects.get(code="440115003")  # 南沙街道, loaded by the migration


@pytest.fixture
def other_street(authority) -> Street:
    return Street.objects.get(code="440115102")  # 黄阁镇


@pytest.fixture
def entry(street):
    """entry(**overrides) → keyword arguments for services.enterprise_create of a valid new entry."""

    def make(**overrides):
        data = {
            "uscc": next_uscc(),
            "name": "广州南沙海港科技有限公司",
            "entity_type": "llc",
            "legal_rep_name": "李明",
            "legal_rep_id_number": build_resident_id("440115", dt.date(1980, 3, 15), 123),
            "registered_capital": None,
            "established_on": dt.date(2021, 5, 8),
            "business_scope": "软件开发",
            "industry": "I",
            "address": "广州市南沙区进港大道 88 号",
            "street": street,
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def create(authority, clerk, entry):
    """create(**overrides) → an enterprise registered by the clerk through the service."""

    def make(actor=None, **overrides):
        return services.enterprise_create(actor=actor or clerk, authority=authority, **entry(**overrides))

    return make


@pytest.fixture
def ftz_rule(authority):
    return FtzAddressRule.objects.create(
        authority=authority, area_name="南沙片区·龙穴岛", address_keyword="进港大道", priority=10
    )


@pytest.fixture
def other_enterprise(other_authority):
    return factories.EnterpriseFactory(authority=other_authority, name="天河机密贸易有限公司")


@pytest.fixture
def eager(celery_eager):
    return celery_eager
