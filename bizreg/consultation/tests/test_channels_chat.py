"""The portal chat as a visitor uses it: cited answers, hand-over to an agent, polling for the reply,
bad questions, script shown as text, rate limit, one visitor never sees another's conversation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bizreg.consultation.models import AnswerLog, Ticket, TicketChannel, TicketMessage, TicketState
from bizreg.consultation.services.tickets import ticket_reply
from bizreg.consultation.tests.engine_kb import build_kb
from bizreg.consultation.views.public_chat import COOKIE_NAME

CHAT = reverse("consult_public:chat")
ASK = reverse("consult_public:chat_ask")
POLL = reverse("consult_public:chat_poll")
HX = {"HTTP_HX_REQUEST": "true"}
KNOWN = "个体工商户怎么办理营业执照？"
UNKNOWN = "我们公司想在南沙申请跨境电商试点的外汇备案，窗口在几楼？"


@pytest.fixture
def kb(authority, make_user):
    return build_kb(authority, make_user("manager"))


@pytest.fixture
def visitor(kb):
    client = Client()
    response = client.get(CHAT)
    assert response.status_code == 200
    assert COOKIE_NAME in response.cookies
    return client


def ask(client, question, after=0):
    return client.post(ASK, {"question": question, "after": after}, **HX)


def test_the_page_opens_without_login_and_gives_a_visitor_cookie(kb):
    response = Client().get(CHAT)
    assert response.status_code == 200
    body = response.content.decode()
    assert "商事登记在线咨询" in body and 'name="question"' in body
    assert response.cookies[COOKIE_NAME]["httponly"]


def test_a_known_question_gets_a_cited_answer_at_once_and_no_ticket(visitor, authority):
    response = ask(visitor, KNOWN)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="chat-bot"' in body
    assert "KB-0001" in body and "个体工商户怎么办理营业执照？" in body  # the citation
    assert "一网通办" in body  # the answer itself
    assert not Ticket.objects.exists()
    assert AnswerLog.objects.filter(channel=TicketChannel.WEB_CHAT, handed_over=False).count() == 1
    # the page shows the conversation again after a reload
    page = visitor.get(CHAT).content.decode()
    assert KNOWN in page and "KB-0001" in page


def test_an_unknown_question_is_handed_to_an_agent_and_the_reply_is_polled(visitor, authority, role_users):
    response = ask(visitor, UNKNOWN)
    body = response.content.decode()
    assert 'data-testid="chat-handover"' in body and "转人工客服" in body
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.WEB_CHAT and ticket.state == TicketState.NEW
    assert ticket.messages.get().body == UNKNOWN
    cursor = int(body.split('name="after" value="')[1].split('"')[0])
    assert visitor.get(POLL, {"after": cursor}).status_code == 204  # nothing new yet

    # a follow-up question goes into the same ticket
    ask(visitor, "另外，外汇备案需要带公章吗？", after=cursor)
    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(direction=TicketMessage.Direction.INBOUND).count() == 2

    ticket_reply(
        ticket=ticket, actor=role_users["hotline_agent"], body="您好，外汇备案请到政务中心三楼 12 号窗口。"
    )
    polled = visitor.get(POLL, {"after": cursor})
    assert polled.status_code == 200
    text = polled.content.decode()
    assert "三楼 12 号窗口" in text and 'data-testid="chat-agent"' in text
    new_cursor = int(text.split('name="after" value="')[1].split('"')[0])
    assert new_cursor > cursor
    assert visitor.get(POLL, {"after": new_cursor}).status_code == 204
    # the full page shows the whole conversation, agent reply included
    page = visitor.get(CHAT).content.decode()
    assert UNKNOWN in page and "三楼 12 号窗口" in page


def test_a_confident_answer_inside_a_handed_over_conversation_is_stored_in_the_ticket(visitor):
    ask(visitor, UNKNOWN)
    ticket = Ticket.objects.get()
    response = ask(visitor, KNOWN)
    assert "KB-0001" in response.content.decode()
    automatic = ticket.messages.get(is_automatic=True)
    assert automatic.direction == TicketMessage.Direction.OUTBOUND
    assert automatic.cited_version.article.code == "KB-0001"
    assert automatic.delivery == ""  # web chat is polled, nothing to push


def test_script_in_a_question_is_shown_as_text(visitor):
    question = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    body = ask(visitor, question).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    page = visitor.get(CHAT).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("question", ["", "   \n  "])
def test_an_empty_question_gets_a_clear_prompt(visitor, question):
    response = ask(visitor, question)
    assert response.status_code == 200
    assert "请输入您要咨询的问题" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_5000_character_question_gets_a_clear_answer(visitor):
    question = ("请问个体工商户怎么办理营业执照，需要哪些材料？" * 300)[:5000]
    response = ask(visitor, question)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="chat-bot"' in body or 'data-testid="chat-handover"' in body


def test_a_question_longer_than_the_limit_is_cut_not_refused(visitor):
    response = ask(visitor, "外汇" * 4000)  # 8,000 characters, nothing the engine knows
    assert response.status_code == 200
    assert len(Ticket.objects.get().messages.get().body) == 5000


def test_questions_are_rate_limited_per_address(visitor, settings):
    settings.CONSULTATION_CHAT_RATE_LIMIT = (2, 60)
    assert 'data-testid="chat-bot"' in ask(visitor, KNOWN).content.decode()
    assert 'data-testid="chat-bot"' in ask(visitor, KNOWN).content.decode()
    throttled = ask(visitor, KNOWN).content.decode()
    assert "提问过于频繁" in throttled
    plain = visitor.post(ASK, {"question": KNOWN})  # without HTMX: the page with the message, 429
    assert plain.status_code == 429 and "提问过于频繁" in plain.content.decode()


def test_a_visitor_never_sees_another_visitors_conversation(visitor, kb, role_users):
    ask(visitor, UNKNOWN)
    ticket = Ticket.objects.get()
    ticket_reply(ticket=ticket, actor=role_users["hotline_agent"], body="只给第一位访客的答复")
    stranger = Client()
    stranger.get(CHAT)
    assert stranger.get(POLL, {"after": 0}).status_code == 204
    assert "只给第一位访客的答复" not in stranger.get(CHAT).content.decode()


def test_a_forged_cookie_is_a_new_visitor(visitor, role_users):
    ask(visitor, UNKNOWN)
    ticket = Ticket.objects.get()
    ticket_reply(ticket=ticket, actor=role_users["hotline_agent"], body="机密答复")
    forger = Client()
    forger.cookies[COOKIE_NAME] = ticket.contact.external_id  # the raw key, unsigned
    assert forger.get(POLL, {"after": 0}).status_code == 204
    page = forger.get(CHAT)
    assert "机密答复" not in page.content.decode()


def test_internal_notes_never_reach_the_visitor(visitor, role_users):
    from bizreg.consultation.services.tickets import ticket_note

    ask(visitor, UNKNOWN)
    ticket = Ticket.objects.get()
    ticket_note(ticket=ticket, actor=role_users["hotline_agent"], body="内部备注：请科长确认")
    assert visitor.get(POLL, {"after": 0}).status_code == 204
    assert "内部备注" not in visitor.get(CHAT).content.decode()


def test_without_javascript_the_form_posts_and_redirects(visitor):
    response = visitor.post(ASK, {"question": KNOWN})
    assert response.status_code == 302 and response["Location"] == CHAT
    assert "KB-0001" in visitor.get(CHAT).content.decode()


def test_a_bad_cursor_is_ignored(visitor):
    assert visitor.get(POLL, {"after": "abc"}).status_code == 204
    assert ask(visitor, KNOWN, after="-5").status_code == 200


def test_only_get_and_post_where_meant(visitor):
    assert visitor.get(ASK).status_code == 405
    assert visitor.post(POLL).status_code == 405
