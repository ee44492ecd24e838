"""Fixtures and builders shared by the tickets tests (test_tickets_*.py)."""

from __future__ import annotations

import pytest

from bizreg.consultation.models import TicketChannel, TicketKind
from bizreg.consultation.services import tickets as ticket_services


def open_ticket(
    authority,
    *,
    channel: str = TicketChannel.WEB_CHAT,
    external_id: str = "visitor-1",
    body: str = "请问个体工商户设立需要哪些材料？",
    kind: str = TicketKind.CONSULTATION,
    **kwargs,
):
    """A ticket as a citizen's first message on a channel opens it."""
    contact = ticket_services.contact_for(
        authority=authority,
        channel=channel,
        external_id=external_id,
        display_name="张三",
        phone="13812345678",
    )
    return ticket_services.ticket_open(
        authority=authority,
        channel=channel,
        contact=contact,
        subject=kwargs.pop("subject", ""),
        body=body,
        kind=kind,
        **kwargs,
    )


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture
def second_agent(make_user):
    return make_user(role="hotline_agent", username="agent2", display_name="李四")
