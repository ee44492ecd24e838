"""The answering conversation shared by the portal chat, WeChat and the signed webhook.

One question from a citizen goes to the answering engine. A confident answer goes straight back with its
citation; an answer the engine is not sure of hands the question over to a human: it opens a ticket in the
agents' queue, or adds the message to the conversation's ticket that is still open, and the citizen is told
an agent will answer.

Once a conversation has a ticket, every later question is written into it (so the agent sees everything)
and a confident engine answer is written into it too, as an automatic outbound message citing its article.
Before a ticket exists, the engine's answers are recorded by the engine itself (AnswerLog); the portal chat
keeps that part of the transcript for the visitor in the shared cache (`chat_transcript`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bizreg.consultation.models import (
    TICKET_OPEN_STATES,
    Contact,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketState,
)

# The engine's own limit is its business; a chat message longer than this is cut before it is stored.
MAX_QUESTION_CHARS = 5000
SUBJECT_CHARS = 60
EMPTY_QUESTION_TEXT = "请输入您要咨询的问题，例如：“个体工商户设立需要哪些材料？”"
HANDOVER_TEXT = "您的问题已转人工客服，工作人员会尽快在这里答复您，请不要关闭本页面。"
ENGINE_DOWN_TEXT = "智能客服暂时无法回答，您的问题已转人工客服，工作人员会尽快答复。"
# A conversation's ticket still takes new messages in these states (a resolved one is reopened by them).
CONVERSATION_STATES = (*TICKET_OPEN_STATES, TicketState.RESOLVED)
TRANSCRIPT_TURNS = 30
TRANSCRIPT_SECONDS = 12 * 3600


@dataclass
class Citation:
    code: str
    title: str
    url: str


@dataclass
class ChatTurn:
    """What became of one question: the text to show the citizen, its citation, and the ticket if any."""

    question: str
    text: str
    confident: bool
    handed_over: bool
    citation: Citation | None = None
    ticket: Ticket | None = None
    inbound: TicketMessage | None = None
    automatic_reply: TicketMessage | None = None
    version: object | None = None
    # False when the answer could not go back in the channel's response and is pushed instead.
    reply_in_response: bool = True
    asked_at: dt.datetime = field(default_factory=timezone.now)


def new_visitor_key() -> str:
    return secrets.token_urlsafe(18)


def portal_authority():
    """The authority whose portal this is: settings CONSULTATION_PORTAL_AUTHORITY (its code), else the
    first active authority (a district bureau runs one portal)."""
    from bizreg.core.models import Authority

    code = getattr(settings, "CONSULTATION_PORTAL_AUTHORITY", "")
    active = Authority.objects.filter(is_active=True)
    if code:
        return active.filter(code=code).first()
    return active.order_by("id").first()


def article_url(code: str) -> str:
    """The public knowledge-base page of an article ("" if that page does not exist)."""
    try:
        return reverse("consult_public:kb_article", kwargs={"code": code})
    except NoReverseMatch:
        try:
            return reverse("consult_public:kb_article", args=[code])
        except NoReverseMatch:
            return ""


def citation_for(version) -> Citation | None:
    if version is None:
        return None
    code = version.article.code
    return Citation(code=code, title=version.title, url=article_url(code))


def conversation_ticket(contact: Contact) -> Ticket | None:
    """The contact's newest ticket on its channel that still takes messages (not closed or merged)."""
    return (
        Ticket.objects.filter(contact=contact, channel=contact.channel, state__in=CONVERSATION_STATES)
        .order_by("-opened_at", "-id")
        .first()
    )


def ask_engine(*, authority_id: int, question: str, channel: str, ticket: Ticket | None, log: bool = True):
    """The engine's answer, or None when the engine failed (the caller hands over to a human)."""
    from bizreg.consultation import engine

    try:
        return engine.answer(
            authority_id=authority_id, question=question, channel=channel, ticket=ticket, log=log
        )
    except Exception:  # the citizen must get an answer even if the engine is broken: a human takes over
        import logging

        logging.getLogger(__name__).exception("answering engine failed; handing over to an agent")
        return None


def subject_from(question: str) -> str:
    line = " ".join(question.split())
    return line if len(line) <= SUBJECT_CHARS else line[: SUBJECT_CHARS - 1] + "…"


def record_automatic_answer(*, ticket: Ticket, text: str, version, already_delivered: bool) -> TicketMessage:
    """Write the engine's answer into the ticket as an automatic outbound message citing its article.
    `already_delivered`: the channel's synchronous reply carried it (WeChat's passive reply, the webhook's
    response), so the delivery task must not send it a second time."""
    from bizreg.consultation.services.tickets import ticket_reply

    with transaction.atomic():
        message = ticket_reply(ticket=ticket, actor=None, body=text, cited_version=version, is_automatic=True)
        if already_delivered and message.delivery:
            message.delivery = TicketMessage.Delivery.SENT
            message.save(update_fields=["delivery"])
    return message


def handle_question(
    *,
    authority,
    contact: Contact,
    question: str,
    channel_message_id: str = "",
    received_at=None,
    thread_key: str = "",
    attachments=(),
    ticket: Ticket | None = None,
    synchronous_reply: bool = True,
    reply_deadline: float | None = None,
) -> ChatTurn:
    """Answer one question of `contact` on its channel (see the module's docstring).

    `ticket`: the conversation's ticket when the caller found it itself (e-mail threads, webhook
    conversations); otherwise the contact's open ticket is used. `synchronous_reply`: the channel carries
    the answer back in its response (chat page, WeChat passive reply, webhook response).
    `reply_deadline` (time.monotonic()): past it the response can no longer carry the answer (WeChat's
    5 s): a confident answer is then stored in a ticket and delivered by the channel's push instead
    (`turn.reply_in_response` is False)."""
    from bizreg.consultation.services.tickets import ticket_open, ticket_receive

    channel = contact.channel
    question = (question or "").strip()[:MAX_QUESTION_CHARS]
    if not question and not attachments:
        return ChatTurn(question="", text=EMPTY_QUESTION_TEXT, confident=False, handed_over=False)
    ticket = ticket or conversation_ticket(contact)
    answer = (
        ask_engine(authority_id=authority.id, question=question, channel=channel, ticket=ticket)
        if question
        else None
    )
    confident = bool(answer is not None and answer.confident and not getattr(answer, "handover", False))
    if answer is not None and not confident and not answer.handover and not attachments:
        # Small talk the engine answers itself (a greeting, thanks): no human needed. Inside a conversation
        # with an agent it is still written down, but it does not reopen a resolved ticket.
        inbound = None
        if ticket is not None and ticket.state in TICKET_OPEN_STATES:
            inbound = ticket_receive(
                ticket=ticket, body=question, channel_message_id=channel_message_id, received_at=received_at
            )
        return ChatTurn(
            question=question,
            text=answer.text,
            confident=False,
            handed_over=False,
            ticket=ticket,
            inbound=inbound,
        )
    in_time = synchronous_reply and (reply_deadline is None or time.monotonic() <= reply_deadline)
    with transaction.atomic():
        inbound = None
        if ticket is None and confident and not in_time:
            # Too late to answer in the response: the answer needs a ticket to be pushed from.
            ticket = ticket_open(
                authority=authority,
                channel=channel,
                contact=contact,
                subject=subject_from(question),
                body=question,
                channel_message_id=channel_message_id,
                thread_key=thread_key,
                opened_at=received_at,
                attachments=attachments,
            )
            inbound = ticket.messages.filter(direction=TicketMessage.Direction.INBOUND).order_by("id").first()
        elif ticket is not None:
            inbound = ticket_receive(
                ticket=ticket,
                body=question or "（附件）",
                channel_message_id=channel_message_id,
                received_at=received_at,
                attachments=attachments,
            )
            if inbound is not None:
                ticket = inbound.ticket  # a message on a closed ticket opens a follow-on ticket
        elif not confident:
            ticket = ticket_open(
                authority=authority,
                channel=channel,
                contact=contact,
                subject=subject_from(question) if question else "（附件）",
                body=question or "（附件）",
                channel_message_id=channel_message_id,
                thread_key=thread_key,
                opened_at=received_at,
                attachments=attachments,
            )
            inbound = ticket.messages.filter(direction=TicketMessage.Direction.INBOUND).order_by("id").first()
        if confident:
            turn = ChatTurn(
                question=question,
                text=answer.text,
                confident=True,
                handed_over=False,
                citation=citation_for(answer.version),
                ticket=ticket,
                inbound=inbound,
                version=answer.version,
                reply_in_response=in_time,
            )
            if ticket is not None:
                turn.automatic_reply = record_automatic_answer(
                    ticket=ticket, text=answer.text, version=answer.version, already_delivered=in_time
                )
            return turn
    text = HANDOVER_TEXT if answer is not None else ENGINE_DOWN_TEXT
    return ChatTurn(
        question=question, text=text, confident=False, handed_over=True, ticket=ticket, inbound=inbound
    )


# --- the portal chat ------------------------------------------------------------------------------------


def chat_contact(*, authority, visitor_key: str) -> Contact:
    from bizreg.consultation.services.tickets import contact_for

    return contact_for(
        authority=authority,
        channel=TicketChannel.WEB_CHAT,
        external_id=visitor_key,
        display_name=f"网站访客 {visitor_key[:6]}",
    )


def existing_chat_contact(*, authority, visitor_key: str) -> Contact | None:
    return Contact.objects.filter(
        authority=authority, channel=TicketChannel.WEB_CHAT, external_id=visitor_key
    ).first()


def _transcript_key(authority_id: int, visitor_key: str) -> str:
    digest = hashlib.sha256(f"{authority_id}:{visitor_key}".encode()).hexdigest()[:32]
    return f"consultation:chat:{digest}"


def chat_transcript(*, authority, visitor_key: str) -> list[dict]:
    """The visitor's questions the engine answered before any ticket existed (shared cache, 12 h)."""
    return cache.get(_transcript_key(authority.id, visitor_key)) or []


def _remember(*, authority, visitor_key: str, turn: ChatTurn) -> None:
    key = _transcript_key(authority.id, visitor_key)
    turns = cache.get(key) or []
    citation = turn.citation
    turns.append(
        {
            "at": turn.asked_at.isoformat(),
            "question": turn.question,
            "answer": turn.text,
            "citation": None
            if citation is None
            else {"code": citation.code, "title": citation.title, "url": citation.url},
        }
    )
    cache.set(key, turns[-TRANSCRIPT_TURNS:], timeout=TRANSCRIPT_SECONDS)


def chat_ask(*, authority, visitor_key: str, question: str) -> ChatTurn:
    """One question typed in the portal chat."""
    question = (question or "").strip()
    if not question:
        return ChatTurn(question="", text=EMPTY_QUESTION_TEXT, confident=False, handed_over=False)
    contact = chat_contact(authority=authority, visitor_key=visitor_key)
    turn = handle_question(authority=authority, contact=contact, question=question)
    if turn.ticket is None:
        _remember(authority=authority, visitor_key=visitor_key, turn=turn)
    return turn


def chat_messages(*, authority, visitor_key: str, after_id: int = 0) -> QuerySet[TicketMessage]:
    """The visitor's conversation kept in tickets (never internal notes), oldest first."""
    contact = existing_chat_contact(authority=authority, visitor_key=visitor_key)
    if contact is None:
        return TicketMessage.objects.none()
    return (
        TicketMessage.objects.filter(
            authority=authority,
            ticket__contact=contact,
            channel=TicketChannel.WEB_CHAT,
            direction__in=[TicketMessage.Direction.INBOUND, TicketMessage.Direction.OUTBOUND],
            id__gt=after_id,
        )
        .select_related("cited_version__article", "ticket")
        .order_by("id")
    )


def chat_agent_replies(*, authority, visitor_key: str, after_id: int) -> list[TicketMessage]:
    """Outbound messages newer than `after_id` (what the chat page polls for)."""
    return list(
        chat_messages(authority=authority, visitor_key=visitor_key, after_id=after_id).filter(
            direction=TicketMessage.Direction.OUTBOUND
        )
    )


def chat_last_message_id(*, authority, visitor_key: str) -> int:
    last = chat_messages(authority=authority, visitor_key=visitor_key).order_by("-id").first()
    return last.id if last else 0
