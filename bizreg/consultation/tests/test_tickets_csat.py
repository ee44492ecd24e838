"""The public CSAT page (no login): one rating 1–5 with an optional comment per closed ticket; bad scores,
an overlong comment, unknown, expired, not-yet-closed and reused links each get a clear Chinese page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from bizreg.consultation.models import Ticket, TicketMessage
from bizreg.consultation.services import tickets as svc
from bizreg.consultation.tests.tickets_fixtures import open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def closed(authority, agent):
    ticket = open_ticket(authority)
    ticket = svc.ticket_transition(ticket=ticket, action="resolve", actor=agent)
    return svc.ticket_transition(ticket=ticket, action="close", actor=agent)


def url(ticket_or_token) -> str:
    token = getattr(ticket_or_token, "csat_token", ticket_or_token)
    return f"/portal/consult/csat/{token}/"


def test_closing_sends_the_link_and_the_form_shows_no_personal_data(client, closed):
    invitation = closed.messages.filter(direction=TicketMessage.Direction.OUTBOUND).last()
    assert url(closed) in invitation.body
    page = client.get(url(closed))
    assert page.status_code == 200
    html = page.content.decode()
    assert closed.number in html and 'data-testid="csat-form"' in html
    assert "张三" not in html and "13812345678" not in html
    for score in range(1, 6):
        assert f'data-testid="csat-score-{score}"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": "0"}, "评分须在 1 至 5 分之间"),
        ({"score": "6"}, "评分须在 1 至 5 分之间"),
        ({"score": "abc"}, "评分须在 1 至 5 分之间"),
        ({}, "请选择满意度评分"),
        ({"score": "5", "comment": "很" * 501}, "意见建议不能超过 500 字"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(client, closed, data, message):
    response = client.post(url(closed), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Ticket.objects.get(pk=closed.pk).csat_score is None


def test_one_rating_per_ticket(client, closed):
    done = client.post(url(closed), {"score": "4", "comment": "<b>答复及时</b>"})
    assert done.status_code == 200 and 'data-testid="csat-thanks"' in done.content.decode()
    closed.refresh_from_db()
    assert (closed.csat_score, closed.csat_comment) == (4, "<b>答复及时</b>")
    assert closed.csat_at is not None
    reused = client.post(url(closed), {"score": "1"})
    assert reused.status_code == 410 and "您已评价过本次服务" in reused.content.decode()
    assert client.get(url(closed)).status_code == 410
    closed.refresh_from_db()
    assert closed.csat_score == 4


def test_unknown_open_and_expired_links(client, authority, closed):
    unknown = client.get(url("no-such-token"))
    assert unknown.status_code == 404 and "评价链接无效" in unknown.content.decode()
    assert client.post(url("no-such-token"), {"score": "5"}).status_code == 404
    still_open = open_ticket(authority, external_id="open-one")
    assert client.get(url(still_open)).status_code == 404
    Ticket.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - dt.timedelta(days=31))
    expired = client.post(url(closed), {"score": "5"})
    assert expired.status_code == 404 and "评价链接已过期" in expired.content.decode()
    assert Ticket.objects.get(pk=closed.pk).csat_score is None


def test_the_score_shows_on_the_staff_ticket_page(client, client_for, agent, closed):
    client.post(url(closed), {"score": "2", "comment": "等待太久"})
    html = client_for(agent).get(f"/consultation/tickets/{closed.pk}/").content.decode()
    assert 'data-testid="csat"' in html and "2 / 5" in html and "等待太久" in html


def test_too_many_submissions_from_one_address_are_slowed(client, closed, settings):
    settings.CONSULTATION_CSAT_RATE_LIMIT = (2, 60)
    assert client.post(url(closed), {"score": "9"}).status_code == 400
    assert client.post(url(closed), {"score": "9"}).status_code == 400
    limited = client.post(url(closed), {"score": "5"})
    assert limited.status_code == 429 and "提交过于频繁" in limited.content.decode()
    assert Ticket.objects.get(pk=closed.pk).csat_score is None
