"""The 3-year list (条例 art. 40): those responsible for a false registration may not register again.

`banned_people_check` is registered with core.intake_checks from InvestigationsConfig.ready, so
registration intake refuses a listed person without importing this app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from bizreg.core.identifiers import normalize_resident_id
from bizreg.investigations.models import RegistrationBan


def active_ban(id_number: str, on_date: dt.date | None = None) -> RegistrationBan | None:
    """The ban in force for this person on the date (the one running longest), or None."""
    number = normalize_resident_id(id_number)
    if not number:
        return None
    day = on_date or timezone.localdate()
    return (
        RegistrationBan.objects.filter(id_number=number, starts_on__lte=day, ends_on__gte=day)
        .select_related("case", "authority")
        .order_by("-ends_on", "-id")
        .first()
    )


def banned_people_check(id_numbers: Iterable[str], on_date: dt.date | None = None) -> dict[str, str]:
    """{number: refusal message} for each person on the list on the date (naming the case and the end
    date of the ban running longest); one query for all the people of an intake."""
    numbers = {n for n in map(normalize_resident_id, id_numbers) if n}
    if not numbers:
        return {}
    day = on_date or timezone.localdate()
    rows = (
        RegistrationBan.objects.filter(id_number__in=numbers, starts_on__lte=day, ends_on__gte=day)
        .order_by("-ends_on", "-id")
        .values_list("id_number", "ends_on", "authority__name", "case__number")
    )
    messages: dict[str, str] = {}
    for number, ends_on, authority_name, case_number in rows:
        messages.setdefault(
            number,
            f"该人员因冒用他人身份虚假登记（{authority_name} 案件 {case_number}）被列入限制登记名单，"
            f"{ends_on.isoformat()} 前不得申请登记。",
        )
    return messages


def banned_person_check(id_number: str, on_date: dt.date | None = None) -> str | None:
    """The refusal message for one person on the list on the date, or None."""
    return banned_people_check([id_number], on_date).get(normalize_resident_id(id_number))
