"""Test data of the docs area (notices, licence stock, mail), imported by its test modules.

Cases are written as rows in the state a test needs: these tests are about the documents, licences and
mail around a case, not the workflow that led there (the cases area tests that through its services).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bizreg.core.identifiers import build_resident_id, build_uscc
from bizreg.registration.models import CaseState, Channel, LicenceKind, RegistrationCase
from bizreg.registration.services import licences

TZ = ZoneInfo("Asia/Shanghai")
APPLICANT_ID = build_resident_id("440115", dt.date(1986, 7, 21), 318)
APPLICANT_PHONE = "13912345678"
APPLICANT_NAME = "欧阳明轩"
CASE_USCC = build_uscc("440115", "MA5CXK8T")
_numbers = itertools.count(1)
_serial_base = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def make_case(authority, **overrides) -> RegistrationCase:
    n = next(_numbers)
    data = {
        "authority": authority,
        "number": f"D{authority.code}{n:06d}",
        "case_type": "establishment",
        "channel": Channel.WINDOW,
        "state": CaseState.APPROVED,
        "enterprise_name": f"广州南沙文书测试{n}科技有限公司",
        "applicant_name": APPLICANT_NAME,
        "applicant_id_number": APPLICANT_ID,
        "applicant_phone": APPLICANT_PHONE,
        "received_at": at(dt.date(2023, 3, 1), 9),
        "accepted_at": at(dt.date(2023, 3, 1), 11),
        "due_on": dt.date(2023, 3, 6),
        "decided_at": at(dt.date(2023, 3, 2), 15),
    }
    data.update(overrides)
    return RegistrationCase.objects.create(**data)


def receive(authority, actor, *, kind=LicenceKind.ORIGINAL, count=10, start=None, prefix="NS", **extra):
    """A batch of `count` blanks; serial ranges of successive calls never overlap unless `start` is given."""
    if start is None:
        start = next(_serial_base) * 1_000_000
    return licences.licence_batch_receive(
        authority=authority,
        actor=actor,
        kind=kind,
        prefix=prefix,
        serial_start=start,
        serial_end=start + count - 1,
        unit_cost=extra.pop("unit_cost", Decimal("3.50")),
        received_on=extra.pop("received_on", dt.date(2023, 1, 5)),
        supplier=extra.pop("supplier", "广东省印刷厂"),
        **extra,
    )


def post_licence(case: RegistrationCase, actor, *, address: str = "广州市南沙区海滨路 171 号"):
    """The case's printed licence mailed to the applicant by SF Express (services.mail.mail_send_licence)."""
    from bizreg.registration.services import mail

    return mail.mail_send_licence(
        case=case, actor=actor, courier="sf", tracking_number="SF1234567890123", address=address
    )


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Stored notice PDFs go to a per-test folder, not the shared var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = "https://zwfw.example.gov.cn"


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def case(authority):
    return make_case(authority, enterprise_name="广州南沙海洋科技有限公司", uscc=CASE_USCC)


def queries_for(client, url: str, params: dict | None = None) -> int:
    """How many SQL queries one page load costs (to pin list pages against N+1 regressions)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured.captured_queries)
