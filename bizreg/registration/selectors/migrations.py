"""The registration cases that move an enterprise in or out (迁入/迁出), read by enterprise tracking: the
enterprises applying to move out (a visit plan and a watch-list signal each) and the decided migrations (the
migration analysis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bizreg.registration.models import OPEN_STATES, CaseState, CaseTransitionLog, CaseType, RegistrationCase

# A move-out application counts from intake until it is refused or withdrawn.
_ABANDONED = (CaseState.REJECTED, CaseState.WITHDRAWN)
_DECIDED = (CaseState.APPROVED, CaseState.LICENSED, CaseState.ARCHIVED)


def _without_archived_abandoned(cases: QuerySet) -> QuerySet:
    """Leave out archived cases that had been refused or withdrawn: 已归档 ends every outcome, and only the
    transition log tells a refused case from an approved one."""
    abandoned = CaseTransitionLog.objects.filter(case=OuterRef("pk"), to_state__in=_ABANDONED)
    return cases.exclude(Q(state=CaseState.ARCHIVED) & Exists(abandoned))


@dataclass(frozen=True)
class MoveOutApplication:
    case_number: str
    enterprise_id: int
    received_on: dt.date
    state: str
    destination_authority: str
    destination_address: str


@dataclass(frozen=True)
class DecidedMigration:
    case_number: str
    direction: str  # "in" | "out"
    enterprise_id: int | None
    enterprise_name: str
    uscc: str
    decided_on: dt.date
    counterpart_authority: str  # origin (in) or destination (out) authority as written on the case
    destination_address: str


def move_out_applications(*, authority_id: int, received_since: dt.date) -> list[MoveOutApplication]:
    """迁出 cases of the authority received on or after `received_since` and not refused or withdrawn."""
    rows = (
        _without_archived_abandoned(
            RegistrationCase.objects.filter(
                authority_id=authority_id,
                case_type=CaseType.MIGRATION_OUT,
                received_at__date__gte=received_since,
                enterprise_id__isnull=False,
            ).exclude(state__in=_ABANDONED)
        )
        .order_by("received_at", "id")
        .values_list("number", "enterprise_id", "received_at", "state", "requested_changes")
    )
    return [
        MoveOutApplication(
            case_number=number,
            enterprise_id=enterprise_id,
            received_on=timezone.localdate(received_at),
            state=state,
            destination_authority=str((changes or {}).get("destination_authority", "")),
            destination_address=str((changes or {}).get("destination_address", "")),
        )
        for number, enterprise_id, received_at, state, changes in rows
    ]


def decided_migrations(
    *, authority_id: int, decided_since: dt.datetime | None = None, decided_until: dt.datetime | None = None
) -> Iterator[DecidedMigration]:
    """Approved 迁入/迁出 cases of the authority, oldest decision first, streamed (a year holds thousands)."""
    cases = RegistrationCase.objects.filter(
        authority_id=authority_id,
        case_type__in=(CaseType.MIGRATION_IN, CaseType.MIGRATION_OUT),
        state__in=_DECIDED,
        decided_at__isnull=False,
    )
    cases = _without_archived_abandoned(cases)
    if decided_since is not None:
        cases = cases.filter(decided_at__gte=decided_since)
    if decided_until is not None:
        cases = cases.filter(decided_at__lt=decided_until)
    rows = cases.order_by("decided_at", "id").values_list(
        "number", "case_type", "enterprise_id", "enterprise_name", "uscc", "decided_at", "requested_changes"
    )
    for number, case_type, enterprise_id, name, uscc, decided_at, changes in rows.iterator(chunk_size=2000):
        changes = changes or {}
        incoming = case_type == CaseType.MIGRATION_IN
        yield DecidedMigration(
            case_number=number,
            direction="in" if incoming else "out",
            enterprise_id=enterprise_id,
            enterprise_name=name,
            uscc=uscc,
            decided_on=timezone.localdate(decided_at),
            counterpart_authority=str(
                changes.get("origin_authority" if incoming else "destination_authority", "")
            ),
            destination_address="" if incoming else str(changes.get("destination_address", "")),
        )


# --- the watch list: change cases asking for a new street (appended by enterprise tracking) ---------------


@dataclass(frozen=True)
class StreetChangeRequest:
    case_number: str
    enterprise_id: int
    received_on: dt.date
    street_id: int
    street_name: str
    street_division_code: str
    address: str


def open_street_change_requests(*, authority_id: int) -> list[StreetChangeRequest]:
    """Open (not yet decided) 变更 cases of the authority whose requested changes name a street, with that
    street's name and division code."""
    from bizreg.enterprises.models import Street

    rows = (
        RegistrationCase.objects.filter(
            authority_id=authority_id,
            case_type=CaseType.CHANGE,
            state__in=OPEN_STATES,
            enterprise_id__isnull=False,
            requested_changes__has_key="street",
        )
        .order_by("received_at", "id")
        .values_list("number", "enterprise_id", "received_at", "requested_changes")
    )
    requested = []
    for number, enterprise_id, received_at, changes in rows:
        try:
            street_id = int((changes or {}).get("street"))
        except (TypeError, ValueError):
            continue  # not resolved to a street of the register (an import names it by text until then)
        requested.append((number, enterprise_id, received_at, street_id, (changes or {}).get("address", "")))
    streets = {
        pk: (name, division)
        for pk, name, division in Street.objects.filter(pk__in={r[3] for r in requested}).values_list(
            "pk", "name", "division_code"
        )
    }
    return [
        StreetChangeRequest(
            case_number=number,
            enterprise_id=enterprise_id,
            received_on=timezone.localdate(received_at),
            street_id=street_id,
            street_name=streets.get(street_id, ("", ""))[0],
            street_division_code=streets.get(street_id, ("", ""))[1],
            address=str(address),
        )
        for number, enterprise_id, received_at, street_id, address in requested
        if street_id in streets
    ]
