"""The 3-year list (条例 art. 40): those responsible for a false registration may not register again.

`banned_person_check` is registered with core.intake_checks from InvestigationsConfig.ready, so
registration intake refuses a listed person without importing this app.
"""

from __future__ import annotations

import datetime as dt

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


def banned_person_check(id_number: str, on_date: dt.date | None = None) -> str | None:
    """The refusal message for a person on the list on the date (naming the case and the end date)."""
    ban = active_ban(id_number, on_date)
    if ban is None:
        return None
    return (
        f"该人员因冒用他人身份虚假登记（{ban.authority.name} 案件 {ban.case.number}）被列入限制登记名单，"
        f"{ban.ends_on.isoformat()} 前不得申请登记。"
    )
