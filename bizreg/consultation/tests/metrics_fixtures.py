"""Builders for the metrics and dashboard tests (test_metrics_*.py): hotlines, calls and tickets written
directly with known timings, so every expected figure can be worked out by hand."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from bizreg.consultation.models import (
    Agent,
    Call,
    CallOutcome,
    Contact,
    HotlineLine,
    HotlineNumber,
    Ticket,
    TicketChannel,
    TicketKind,
    TicketState,
)

_sequence = itertools.count(1)
TZ = timezone.get_default_timezone()


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=TZ)


def make_hotline(
    authority, *, number: str = "39914115", lines: int = 5, sl_seconds: int = 20
) -> HotlineNumber:
    hotline = HotlineNumber.objects.create(
        authority=authority, number=number, name="企业登记咨询热线", service_level_seconds=sl_seconds
    )
    for position in range(1, lines + 1):
        HotlineLine.objects.create(
            hotline=hotline,
            position=position,
            label=f"分线{position}",
            pbx_channel=f"SIP/{number}-{position}",
        )
    return hotline


def line(hotline: HotlineNumber, position: int) -> HotlineLine:
    return hotline.lines.get(position=position)


def make_agent(authority, user, code: str) -> Agent:
    return Agent.objects.create(authority=authority, user=user, pbx_code=code, extension=code[-4:])


def make_call(
    hotline: HotlineNumber,
    *,
    offered_at: dt.datetime,
    outcome: str = CallOutcome.ANSWERED,
    line_position: int | None = 1,
    agent: Agent | None = None,
    wait: int = 0,
    talk: int = 0,
    hold: int = 0,
    wrap: int = 0,
    resolved: bool = False,
    score: int | None = None,
    follow_up_ticket: Ticket | None = None,
) -> Call:
    answered = outcome == CallOutcome.ANSWERED
    answered_at = offered_at + dt.timedelta(seconds=wait) if answered else None
    return Call.objects.create(
        authority=hotline.authority,
        hotline=hotline,
        line=line(hotline, line_position) if (answered and line_position) else None,
        agent=agent,
        caller_number="13812345678",
        offered_at=offered_at,
        answered_at=answered_at,
        ended_at=(answered_at or offered_at) + dt.timedelta(seconds=talk + hold),
        wait_seconds=wait,
        talk_seconds=talk,
        hold_seconds=hold,
        wrap_up_seconds=wrap,
        outcome=outcome,
        resolved=resolved,
        needs_follow_up=follow_up_ticket is not None,
        follow_up_ticket=follow_up_ticket,
        satisfaction_score=score,
        satisfaction_at=offered_at + dt.timedelta(hours=1) if score else None,
    )


def make_ticket(
    authority,
    *,
    opened_at: dt.datetime,
    kind: str = TicketKind.CONSULTATION,
    state: str = TicketState.NEW,
    channel: str = TicketChannel.WEB_CHAT,
    due_at: dt.datetime | None = None,
    resolved_at: dt.datetime | None = None,
    csat: int | None = None,
    merged_into: Ticket | None = None,
) -> Ticket:
    n = next(_sequence)
    contact = Contact.objects.create(authority=authority, channel=channel, external_id=f"visitor-{n}")
    return Ticket.objects.create(
        authority=authority,
        number=f"ZXTEST{n:08d}",
        kind=kind,
        channel=channel,
        state=state,
        subject=f"测试工单 {n}",
        contact=contact,
        opened_at=opened_at,
        resolution_due_at=due_at,
        resolved_at=resolved_at,
        closed_at=resolved_at if state == TicketState.CLOSED else None,
        csat_token=f"token-{n}-{opened_at.timestamp():.0f}",
        csat_score=csat,
        merged_into=merged_into,
    )
