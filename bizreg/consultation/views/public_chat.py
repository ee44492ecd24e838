"""The portal chat (在线咨询): public, no login.

A visitor is known by a random key in a signed cookie (no personal data). Each question goes through
services.chat: a confident engine answer comes back at once with its citation; otherwise the question is
handed to an agent and the page polls (HTMX, every 1.5 s) for the agent's reply. Questions are
rate-limited per address in the shared cache. Without JavaScript the form still works (post, redirect,
the page shows the conversation).
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bizreg.consultation.services import chat
from bizreg.portal import ratelimit

COOKIE_NAME = "bizreg_consult_chat"
COOKIE_SALT = "consultation.chat.visitor"
COOKIE_MAX_AGE = 30 * 24 * 3600
ASK_SCOPE = "consultation.chat.ask"
POLL_SCOPE = "consultation.chat.poll"


def ask_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("CONSULTATION_CHAT_RATE_LIMIT", (20, 60))


def poll_rate() -> ratelimit.Rate:
    # A page polls 40 times a minute; a few open tabs stay under this, a scraper does not.
    return ratelimit.rate_from_settings("CONSULTATION_CHAT_POLL_RATE_LIMIT", (240, 60))


def _visitor_key(request) -> str | None:
    try:
        key = request.get_signed_cookie(COOKIE_NAME, default=None, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    return key if key and 10 <= len(key) <= 64 else None


def _set_visitor_cookie(response: HttpResponse, key: str) -> HttpResponse:
    response.set_signed_cookie(
        COOKIE_NAME, key, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax"
    )
    return response


def _authority():
    authority = chat.portal_authority()
    if authority is None:
        raise Http404("在线咨询暂未开通。")
    return authority


def _entries(authority, visitor_key: str | None) -> list[dict]:
    """The whole conversation for the page: engine-only turns from the cache and ticket messages."""
    if not visitor_key:
        return []
    entries: list[dict] = []
    for turn in chat.chat_transcript(authority=authority, visitor_key=visitor_key):
        entries.append({"at": turn["at"], "kind": "visitor", "text": turn["question"]})
        entries.append(
            {"at": turn["at"], "kind": "bot", "text": turn["answer"], "citation": turn["citation"]}
        )
    for message in chat.chat_messages(authority=authority, visitor_key=visitor_key):
        entries.append({"at": message.created_at.isoformat(), **_message_entry(message)})
    entries.sort(key=lambda entry: entry["at"])
    return entries


def _message_entry(message) -> dict:
    if message.direction == message.Direction.INBOUND:
        return {"kind": "visitor", "text": message.body, "id": message.id}
    citation = chat.citation_for(message.cited_version)
    return {
        "kind": "bot" if message.is_automatic else "agent",
        "text": message.body,
        "id": message.id,
        "citation": None if citation is None else citation.__dict__,
        "created_at": message.created_at,
    }


@never_cache
@require_GET
def chat_page(request):
    authority = _authority()
    key = _visitor_key(request)
    contact = chat.existing_chat_contact(authority=authority, visitor_key=key) if key else None
    waiting = contact is not None and chat.conversation_ticket(contact) is not None
    context = {
        "authority": authority,
        "entries": _entries(authority, key),
        "last_id": chat.chat_last_message_id(authority=authority, visitor_key=key) if key else 0,
        "waiting_for_agent": waiting,
        "max_chars": chat.MAX_QUESTION_CHARS,
    }
    response = render(request, "consultation/public/chat.html", context)
    return response if key else _set_visitor_cookie(response, chat.new_visitor_key())


@never_cache
@require_POST
def chat_ask(request):
    authority = _authority()
    key = _visitor_key(request) or chat.new_visitor_key()
    if not ratelimit.allow_request(request, scope=ASK_SCOPE, rate=ask_rate()):
        minutes = max(1, -(-ask_rate().window // 60))
        text = f"您提问过于频繁，请 {minutes} 分钟后再试。"
        if request.htmx:
            return render(request, "consultation/public/chat_notice.html", {"text": text})
        response = render(
            request,
            "consultation/public/chat.html",
            {"authority": authority, "entries": _entries(authority, key), "error": text, "last_id": 0},
            status=429,
        )
        response["Retry-After"] = str(ask_rate().window)
        return response
    try:
        after = max(0, int(request.POST.get("after") or 0))
    except ValueError:
        after = 0
    turn = chat.chat_ask(authority=authority, visitor_key=key, question=request.POST.get("question", ""))
    if not request.htmx:
        return _set_visitor_cookie(redirect("consult_public:chat"), key)
    replies = (
        [
            _message_entry(m)
            for m in chat.chat_agent_replies(authority=authority, visitor_key=key, after_id=after)
        ]
        if turn.ticket is not None
        else []
    )
    context = {
        "turn": turn,
        "citation": None if turn.citation is None else turn.citation.__dict__,
        "replies": replies,
        "last_id": chat.chat_last_message_id(authority=authority, visitor_key=key),
    }
    return _set_visitor_cookie(render(request, "consultation/public/chat_turn.html", context), key)


@never_cache
@require_GET
def chat_poll(request):
    """New agent (and automatic) replies after `after`; 204 when there is nothing new (HTMX swaps nothing)."""
    authority = _authority()
    key = _visitor_key(request)
    if not key or not ratelimit.allow_request(request, scope=POLL_SCOPE, rate=poll_rate()):
        return HttpResponse(status=204)
    try:
        after = max(0, int(request.GET.get("after") or 0))
    except ValueError:
        after = 0
    replies = chat.chat_agent_replies(authority=authority, visitor_key=key, after_id=after)
    if not replies:
        return HttpResponse(status=204)
    context = {"replies": [_message_entry(m) for m in replies], "last_id": replies[-1].id}
    return render(request, "consultation/public/chat_replies.html", context)


urlpatterns: list = [
    path("chat/", chat_page, name="chat"),
    path("chat/ask/", chat_ask, name="chat_ask"),
    path("chat/poll/", chat_poll, name="chat_poll"),
]
