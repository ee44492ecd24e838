"""Reminders before each deadline of an open case (the daily beat task investigations.deadline_reminders).

Once per (case, deadline kind, due date): a deadline that moves (extension, resumption after a suspension)
is reminded again for its new date. The reminder goes to the investigator in charge (the field-check
reminder to the one doing the check) as a DeadlineReminder row — the to-do list of selectors.reminders_for
— and by e-mail when the user has an address. The same run records the end of every public notice that ran
out (the clock event "公示期满").
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.core.workdays import CalendarDataMissing, add_working_days
from bizreg.investigations.models import (
    OPEN_STATES,
    CaseState,
    DeadlineKind,
    DeadlineReminder,
    FieldCheck,
    FieldCheckState,
    InvestigationCase,
)
from bizreg.investigations.services.cases import record_notice_end

logger = logging.getLogger(__name__)

ACCEPTANCE_WORKING_DAYS_AHEAD = 1
INVESTIGATION_WORKING_DAYS_AHEAD = 10
NOTICE_DAYS_AHEAD = 3
FIELD_CHECK_DAYS_AHEAD = 1


def _horizon(today: dt.date, working_days: int) -> dt.date:
    try:
        return add_working_days(today, working_days)
    except CalendarDataMissing:
        # A year without a calendar yet: remind on calendar days rather than not at all.
        return today + dt.timedelta(days=working_days + working_days // 5 * 2)


def _due(today: dt.date) -> list[tuple[InvestigationCase, str, dt.date, object]]:
    """(case, kind, due date, recipient) of every deadline inside its reminder window."""
    found: list[tuple[InvestigationCase, str, dt.date, object]] = []
    cases = InvestigationCase.objects.select_related("assigned_to").order_by("pk")
    for case in cases.filter(
        state=CaseState.RECEIVED,
        acceptance_due_on__gte=today,
        acceptance_due_on__lte=_horizon(today, ACCEPTANCE_WORKING_DAYS_AHEAD),
    ):
        found.append((case, DeadlineKind.ACCEPTANCE, case.acceptance_due_on, case.assigned_to))
    for case in cases.filter(
        state=CaseState.INVESTIGATING,
        investigation_due_on__gte=today,
        investigation_due_on__lte=_horizon(today, INVESTIGATION_WORKING_DAYS_AHEAD),
    ):
        found.append((case, DeadlineKind.INVESTIGATION, case.investigation_due_on, case.assigned_to))
    for case in cases.filter(
        state=CaseState.PUBLIC_NOTICE,
        notice_ends_on__gte=today,
        notice_ends_on__lte=today + dt.timedelta(days=NOTICE_DAYS_AHEAD),
    ):
        found.append((case, DeadlineKind.NOTICE, case.notice_ends_on, case.assigned_to))
    checks = (
        FieldCheck.objects.filter(
            state=FieldCheckState.ASSIGNED,
            case__state__in=OPEN_STATES,
            due_on__gte=today,
            due_on__lte=today + dt.timedelta(days=FIELD_CHECK_DAYS_AHEAD),
        )
        .select_related("case", "case__assigned_to", "assigned_to")
        .order_by("pk")
    )
    for check in checks:
        found.append((check.case, DeadlineKind.FIELD_CHECK, check.due_on, check.assigned_to))
    return found


def _mail(reminder: DeadlineReminder, case: InvestigationCase, today: dt.date) -> None:
    address = (getattr(reminder.recipient, "email", "") or "").strip()
    if not address:
        return
    kind = DeadlineKind(reminder.kind).label
    days = (reminder.due_on - today).days
    when = "今天" if days == 0 else f"{days} 天后"
    subject = f"【期限提醒】冒用身份案件 {case.number} {kind}将于{when}（{reminder.due_on.isoformat()}）届满"
    body = (
        f"案件 {case.number}（{case.summary}）的{kind}为 {reminder.due_on.isoformat()}，请及时办理。\n"
        "本邮件由系统自动发送。"
    )
    send_mail(subject, body, None, [address])


def deadline_reminders_send(today: dt.date | None = None) -> int:
    """Send the reminders due today (each once); returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    for case, kind, due_on, recipient in _due(today):
        if DeadlineReminder.objects.filter(case=case, kind=kind, due_on=due_on).exists():
            continue
        try:
            with transaction.atomic():
                reminder = DeadlineReminder.objects.create(
                    case=case, kind=kind, due_on=due_on, sent_at=timezone.now(), recipient=recipient
                )
                # Last step of the transaction: a mail that fails leaves no row, so the next run tries again.
                _mail(reminder, case, today)
        except IntegrityError:  # another run sent it first
            continue
        except Exception:
            logger.exception("deadline reminder for case %s (%s) not sent", case.pk, kind)
            continue
        sent += 1
    for case in InvestigationCase.objects.filter(state=CaseState.PUBLIC_NOTICE, notice_ends_on__lt=today):
        with transaction.atomic():
            record_notice_end(case, today=today)
    return sent
