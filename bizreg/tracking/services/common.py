"""What every tracking service shares: collected field errors, text cleaning, the authority guard and the
gap-free yearly numbers of visits (走{year}{seq:05d}) and appeals (诉{year}{seq:05d}).

Refusals: TransitionNotAllowed (HTTP 409) for a state that does not allow a step, PermissionDenied (403) for
a missing permission or a record of another authority, ValidationError({field: [message]}) for bad input.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Model

from bizreg.core.models import Authority
from bizreg.core.scoping import authority_ids_for
from bizreg.core.validation import Errors, clean_text, text  # noqa: F401 — re-exported
from bizreg.tracking.models import NumberCounter

NUMBER_PREFIX = {"visit": "走", "appeal": "诉"}


def assert_authority(obj: Model, actor, *, what: str = "该记录") -> None:
    """The actor works for the record's authority (the views scope by it too; a task or API call may not)."""
    if getattr(actor, "is_superuser", False):
        return
    if obj.authority_id not in authority_ids_for(actor):
        raise PermissionDenied(f"{what}不属于您所在的登记机关。")


def assert_perm(actor, permission: str, message: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(message)


def next_number(*, authority: Authority, kind: str, year: int) -> str:
    """The next number of `kind` ("visit" | "appeal") for the authority and year, from a counter row held
    under select_for_update until the caller's transaction commits, so numbers never repeat or skip."""
    counters = NumberCounter.objects.select_for_update()
    counter = counters.filter(authority=authority, kind=kind, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                NumberCounter.objects.create(authority=authority, kind=kind, year=year, last=0)
        except IntegrityError:  # another transaction opened the year's counter first
            pass
        counter = counters.get(authority=authority, kind=kind, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{NUMBER_PREFIX[kind]}{year}{counter.last:05d}"
