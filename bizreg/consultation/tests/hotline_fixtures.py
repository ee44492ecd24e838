"""Builders for the hotline and call tests: a hotline with its lines, agents, calls."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bizreg.consultation.models import Agent, Call, CallOutcome, HotlineLine, HotlineNumber


def make_hotline(
    authority, *, lines: int = 5, active: bool = True, number: str = "020-39914115"
) -> HotlineNumber:
    """A hotline with `lines` active lines (SIP/line1 …) on positions 1…n."""
    hotline = HotlineNumber.objects.create(
        authority=authority, number=number, name="企业登记咨询热线", is_active=False
    )
    for position in range(1, lines + 1):
        HotlineLine.objects.create(
            hotline=hotline, position=position, label=f"{position} 号线", pbx_channel=f"SIP/line{position}"
        )
    if active:
        hotline.is_active = True
        hotline.save()
    return hotline


def make_agent(user, authority, code: str | None = None) -> Agent:
    return Agent.objects.create(
        authority=authority,
        user=user,
        pbx_code=code or f"Agent/{1000 + user.pk}",
        extension=str(8000 + user.pk),
    )


def make_call(
    hotline, *, agent=None, number: str = "13812345678", minutes_ago: int = 10, **overrides
) -> Call:
    offered = timezone.now() - dt.timedelta(minutes=minutes_ago)
    data = {
        "authority": hotline.authority,
        "hotline": hotline,
        "line": hotline.lines.order_by("position").first(),
        "agent": agent,
        "caller_number": number,
        "offered_at": offered,
        "answered_at": offered + dt.timedelta(seconds=8),
        "ended_at": offered + dt.timedelta(seconds=188),
        "wait_seconds": 8,
        "talk_seconds": 180,
        "outcome": CallOutcome.ANSWERED,
        "topic": "establishment",
        "summary": "咨询设立有限公司需要的材料",
        "resolved": True,
    }
    data.update(overrides)
    return Call.objects.create(**data)
