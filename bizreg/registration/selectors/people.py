"""Reads of the natural persons on registration cases (applicant, agent), for other apps' link analysis.

Set-based: one query per kind of key, whatever the number of keys, so a caller walking a graph level by
level never queries per person. Unscoped: the caller (the investigations selectors) decides who may see
the result and masks identifiers. Each column has its own index, so the OR of the conditions is a bitmap
(PostgreSQL) or multi-index (SQLite) scan, never a scan of the case table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from bizreg.registration.models import RegistrationCase


@dataclass(frozen=True, slots=True)
class CasePeople:
    pk: int
    number: str
    case_type: str
    case_type_label: str
    enterprise_id: int | None
    enterprise_name: str
    applicant_name: str
    applicant_id_number: str
    applicant_phone: str
    agent_name: str
    agent_id_number: str
    agent_phone: str
    received_at: dt.datetime


_COLUMNS = (
    "pk",
    "number",
    "case_type",
    "enterprise_id",
    "enterprise_name",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "agent_name",
    "agent_id_number",
    "agent_phone",
    "received_at",
)


def cases_of_people(
    *, id_numbers: Iterable[str] = (), phones: Iterable[str] = (), limit: int = 1000
) -> list[CasePeople]:
    """Cases whose applicant or agent has one of the ID numbers, or whose agent/applicant phone is one of
    the phones (digits as stored); at most `limit` rows, unordered."""
    ids = sorted({i for i in id_numbers if i})
    digits = sorted({p for p in phones if p})
    if not ids and not digits:
        return []
    condition = Q(pk__in=[])
    if ids:
        condition |= Q(applicant_id_number__in=ids) | Q(agent_id_number__in=ids)
    if digits:
        condition |= Q(agent_phone__in=digits) | Q(applicant_phone__in=digits)
    labels = dict(RegistrationCase._meta.get_field("case_type").flatchoices)
    rows = RegistrationCase.objects.filter(condition).order_by().values_list(*_COLUMNS)[:limit]
    return [CasePeople(*row[:3], str(labels.get(row[2], row[2])), *row[3:]) for row in rows]


def enterprises_with_cases_after_establishment(enterprise_ids: Iterable[int]) -> set[int]:
    """Those of the enterprises that have any case other than their establishment (a change, filing,
    deregistration, move …): the investigations demo keeps its locks off enterprises the registration demo
    worked on later in the year."""
    ids = sorted({i for i in enterprise_ids if i})
    if not ids:
        return set()
    return set(
        RegistrationCase.objects.filter(enterprise_id__in=ids)
        .exclude(case_type="establishment")
        .values_list("enterprise_id", flat=True)
        .distinct()
    )
