"""Test data of the records area (service records, follow-ups, progress query, metrics, import).

Cases are written directly as rows in a given state: these tests are about what happens *around* a case
(records, follow-ups, figures), not about the workflow that produced the state, which the cases area
tests through its services.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from bizreg.core.identifiers import build_resident_id
from bizreg.registration.models import CaseState, Channel, RegistrationCase

TZ = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def make_case(authority, **overrides) -> RegistrationCase:
    n = next(_numbers)
    data = {
        "authority": authority,
        "number": f"{authority.code}20230301{n:04d}",
        "case_type": "establishment",
        "channel": Channel.WINDOW,
        "state": CaseState.RECEIVED,
        "enterprise_name": f"广州南沙测试{n}贸易有限公司",
        "applicant_name": "王小明",
        "applicant_id_number": build_resident_id("440115", dt.date(1985, 4, 12), n % 999 + 1),
        "applicant_phone": "13800138000",
        "received_at": at(dt.date(2023, 3, 1)),
    }
    data.update(overrides)
    return RegistrationCase.objects.create(**data)
