"""Acceptance test in a real browser (issue 5): a citizen asks in the portal chat and gets a cited
answer; asks something the knowledge base does not cover; an agent picks the ticket up from the queue and
replies; the citizen sees the reply in the chat without reloading. Screenshots go to artifacts/browser/.

Playwright drives Debian's Chromium (/usr/bin/chromium) against pytest-django's live server.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bizreg.consultation.answering.index import warm_indexes
from bizreg.consultation.models import Ticket, TicketChannel
from bizreg.consultation.tests.engine_kb import build_kb
from bizreg.testing.browser import ARTIFACTS, new_page, sign_in
from bizreg.testing.factories import UserFactory

UNKNOWN = "跨境电商试点企业的外汇备案在政务中心哪个窗口办理？"
AGENT_REPLY = "您好，外汇备案请到南沙政务服务中心三楼 12 号窗口办理。"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(180),
]


def test_citizen_gets_a_cited_answer_then_an_agents_reply(live_server, browser, authority):
    agent = UserFactory(
        username="chat_agent", display_name="李坐席", role="hotline_agent", authorities=[authority]
    )
    build_kb(authority, UserFactory(role="manager", authorities=[authority]))
    # As a web worker does when it starts (config/gunicorn.py): the first build loads jieba's dictionary.
    warm_indexes()
    base = live_server.url

    citizen = new_page(browser)
    citizen.goto(base + reverse("consult_public:chat"))
    expect(citizen.get_by_role("heading", name="商事登记在线咨询")).to_be_visible()
    citizen.get_by_test_id("chat-question").fill("开个体户要什么材料，怎么办营业执照？")
    citizen.get_by_test_id("chat-send").click()
    answer = citizen.get_by_test_id("chat-bot").last
    expect(answer).to_contain_text("一网通办")
    expect(answer.get_by_test_id("chat-citation")).to_contain_text("KB-0001")
    citizen.screenshot(path=str(ARTIFACTS / "chat_cited_answer.png"), full_page=True)

    citizen.get_by_test_id("chat-question").fill(UNKNOWN)
    citizen.get_by_test_id("chat-question").press("Enter")
    expect(citizen.get_by_test_id("chat-handover")).to_contain_text("转人工客服")
    citizen.screenshot(path=str(ARTIFACTS / "chat_handed_over.png"), full_page=True)
    ticket = Ticket.objects.get(channel=TicketChannel.WEB_CHAT)
    queue_path = reverse("consultation:ticket_queue")

    staff = new_page(browser)
    sign_in(staff, base, agent, queue_path)
    expect(staff.get_by_text(ticket.number)).to_be_visible()
    staff.screenshot(path=str(ARTIFACTS / "chat_agent_queue.png"), full_page=True)
    staff.get_by_text(ticket.number).first.click()
    expect(staff.get_by_text(UNKNOWN).first).to_be_visible()
    staff.locator("textarea[name=body]").first.fill(AGENT_REPLY)
    staff.locator("form:has(textarea[name=body]) [type=submit]").filter(
        has_text=re.compile("答复|发送|回复")
    ).first.click()
    expect(staff.get_by_text(AGENT_REPLY).first).to_be_visible()
    staff.screenshot(path=str(ARTIFACTS / "chat_agent_replied.png"), full_page=True)

    # the citizen's open page receives the reply by polling, no reload
    expect(citizen.get_by_test_id("chat-agent").last).to_contain_text("三楼 12 号窗口", timeout=10_000)
    shot = ARTIFACTS / "chat_citizen_sees_reply.png"
    citizen.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_the_open_chat_page_receives_a_reply_by_polling(live_server, browser, authority):
    """The chat half alone (independent of the agents' pages): a reply written to the ticket appears on
    the citizen's open page within a few seconds, once, without a reload."""
    from bizreg.consultation.services.tickets import ticket_reply

    agent = UserFactory(role="hotline_agent", authorities=[authority])
    build_kb(authority, UserFactory(role="manager", authorities=[authority]))
    citizen = new_page(browser)
    citizen.goto(live_server.url + reverse("consult_public:chat"))
    citizen.get_by_test_id("chat-question").fill(UNKNOWN)
    citizen.get_by_test_id("chat-send").click()
    expect(citizen.get_by_test_id("chat-handover")).to_be_visible()
    ticket = Ticket.objects.get(channel=TicketChannel.WEB_CHAT)
    ticket_reply(ticket=ticket, actor=agent, body=AGENT_REPLY)
    expect(citizen.get_by_test_id("chat-agent")).to_have_count(1, timeout=5_000)
    expect(citizen.get_by_test_id("chat-agent")).to_contain_text("三楼 12 号窗口")
    citizen.wait_for_timeout(3_500)  # two more polls: the reply must not be appended again
    expect(citizen.get_by_test_id("chat-agent")).to_have_count(1)
    citizen.screenshot(path=str(ARTIFACTS / "chat_polled_reply.png"), full_page=True)
