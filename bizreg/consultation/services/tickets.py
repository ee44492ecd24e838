"""Online tickets (issue 5, Deliver 4): one queue for every channel, SLA with business hours, assignment,
replies and internal notes, merge of duplicates, complaints with escalation, CSAT after closing.

Every write is here, keyword-only, in one transaction. State changes go through TICKET_WORKFLOW (models.py)
and leave a TicketTransitionLog row (actor None = the citizen or the system). A transition locks the ticket
row and checks the state again inside the transaction, so two agents acting at once: one wins, the other is
told who was faster.

Refusals: TransitionNotAllowed (HTTP 409) for a state that does not allow the step, PermissionDenied (403)
for a role that may not take it, ValidationError (400) for bad input, CsatUnavailable (404) for a CSAT
token that is unknown, expired or not yet valid. Messages are Chinese and name the reason.

SLA: deadlines are business minutes (bizreg.consultation.sla) from the authority's SlaPolicy of the
ticket's kind, or DEFAULT_SLA. While a ticket waits for the citizen the clock stops: the business minutes
spent waiting are added to `paused_business_minutes` and both deadlines move by them when the citizen
answers (or the ticket is resolved or taken up again).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from bizreg.consultation import sla
from bizreg.consultation.models import (
    TICKET_OPEN_STATES,
    TICKET_WORKFLOW,
    Contact,
    SlaPolicy,
    Ticket,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketNumberCounter,
    TicketPriority,
    TicketState,
    TicketTransitionLog,
)
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.workdays import CalendarDataMissing

if TYPE_CHECKING:
    from bizreg.consultation.services.attachments import IncomingAttachment

logger = logging.getLogger(__name__)

# Channels whose replies are pushed to the citizen by the delivery task; web chat polls, phone is a call.
PUSH_CHANNELS = frozenset(
    {TicketChannel.EMAIL, TicketChannel.WECHAT, TicketChannel.QQ, TicketChannel.WEBHOOK}
)

# The CSAT link stays valid this long after closing.
CSAT_VALID_DAYS = 30


@dataclass(frozen=True)
class SlaTerms:
    first_response_minutes: int
    resolution_minutes: int
    escalate_at_percent: int = 80


def _default_sla(kind: str) -> SlaTerms:
    """Deadlines when the authority has set no SlaPolicy for the kind (in business minutes)."""
    day = sla.business_minutes_per_day()
    if kind == TicketKind.COMPLAINT:
        return SlaTerms(first_response_minutes=30, resolution_minutes=5 * day, escalate_at_percent=80)
    if kind == TicketKind.FOLLOW_UP:
        return SlaTerms(first_response_minutes=day, resolution_minutes=day)
    return SlaTerms(first_response_minutes=60, resolution_minutes=2 * day)


def sla_terms(*, authority_id: int, kind: str) -> SlaTerms:
    """The deadlines of a ticket kind at an authority: its SlaPolicy, else the defaults."""
    policy = SlaPolicy.objects.filter(authority_id=authority_id, kind=kind).first()
    if policy is None:
        return _default_sla(kind)
    return SlaTerms(
        first_response_minutes=policy.first_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        escalate_at_percent=policy.escalate_at_percent,
    )


class CsatUnavailable(Exception):
    """The CSAT token is unknown, expired, or the ticket is not closed (HTTP 404)."""


class CsatAlreadySubmitted(Exception):
    """The citizen has already rated this ticket (each ticket is rated once)."""


# --- helpers ----------------------------------------------------------------------------------------------


def _text(value, limit: int | None = None) -> str:
    text = "" if value is None else str(value).replace("\x00", "").strip()
    return text[:limit] if limit else text


def _log(
    ticket: Ticket, *, action: str, from_state: str, to_state: str, actor, now, reason: str = ""
) -> None:
    TicketTransitionLog.objects.create(
        ticket=ticket,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        occurred_at=now,
        reason=reason,
    )


def _require(actor, permission: str, message: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(message)


def _next_number(*, authority, day: dt.date) -> str:
    """`ZX{机关代码}{yyyymmdd}{序号:04d}`. Called inside the opening transaction: the UPDATE holds the day's
    counter row lock until commit, so two tickets opened at once get different numbers."""
    prefix = f"ZX{authority.code}{day:%Y%m%d}"
    counter = TicketNumberCounter.objects.filter(authority=authority, day=day)
    if not counter.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                TicketNumberCounter.objects.create(
                    authority=authority, day=day, last=_counter_start(prefix) + 1
                )
        except IntegrityError:  # another ticket opened the day's counter first
            counter.update(last=F("last") + 1)
    return f"{prefix}{counter.values_list('last', flat=True).get():04d}"


def _counter_start(prefix: str) -> int:
    """The highest sequence already used under `prefix` (tickets written by the demo data or imports)."""
    numbers = Ticket.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    tails = [int(number[len(prefix) :]) for number in numbers if number[len(prefix) :].isdigit()]
    return max(tails, default=0)


def _deadlines(*, authority_id: int, kind: str, opened_at: dt.datetime):
    """(first_response_due_at, resolution_due_at); (None, None) when the calendar has no data for the year
    — the ticket is still taken in (a citizen's message is never lost), only without deadlines."""
    terms = sla_terms(authority_id=authority_id, kind=kind)
    try:
        return (
            sla.add_business_minutes(opened_at, terms.first_response_minutes),
            sla.add_business_minutes(opened_at, terms.resolution_minutes),
        )
    except CalendarDataMissing:
        logger.warning("ticket opened at %s without deadlines: no working calendar", opened_at)
        return None, None


def _end_pause(ticket: Ticket, now: dt.datetime) -> None:
    """Stop the SLA pause: add the business minutes spent waiting and move the open deadlines by them."""
    if ticket.waiting_since is None:
        return
    try:
        paused = max(0, sla.business_minutes_between(ticket.waiting_since, now))
        if paused:
            ticket.paused_business_minutes += paused
            if ticket.resolution_due_at:
                ticket.resolution_due_at = sla.add_business_minutes(ticket.resolution_due_at, paused)
            if ticket.first_response_due_at and ticket.first_responded_at is None:
                ticket.first_response_due_at = sla.add_business_minutes(ticket.first_response_due_at, paused)
    except CalendarDataMissing:
        logger.warning("ticket %s: pause not counted, no working calendar", ticket.pk)
    ticket.waiting_since = None


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("authority").get(pk=ticket.pk)


def _store_attachments(message: TicketMessage, attachments: Sequence[IncomingAttachment]) -> None:
    if not attachments:
        return
    from bizreg.consultation.services.attachments import store_attachments

    store_attachments(message, attachments)


def _add_message(
    ticket: Ticket,
    *,
    direction: str,
    body: str,
    now: dt.datetime,
    author=None,
    channel_message_id: str = "",
    body_html: str = "",
    cited_version=None,
    is_automatic: bool = False,
    delivery: str = "",
) -> TicketMessage:
    return TicketMessage.objects.create(
        authority_id=ticket.authority_id,
        ticket=ticket,
        direction=direction,
        channel=ticket.channel,
        channel_message_id=channel_message_id,
        author=author,
        body=body,
        body_html=body_html,
        created_at=now,
        cited_version=cited_version,
        is_automatic=is_automatic,
        delivery=delivery,
    )


def _enqueue_delivery(message: TicketMessage) -> None:
    from bizreg.consultation.tasks import deliver_message

    pk = message.pk
    transaction.on_commit(lambda: deliver_message.delay(pk))


def _existing_message(*, authority_id: int, channel: str, channel_message_id: str) -> TicketMessage | None:
    if not channel_message_id:
        return None
    return (
        TicketMessage.objects.select_related("ticket")
        .filter(authority_id=authority_id, channel=channel, channel_message_id=channel_message_id)
        .first()
    )


def _subject_from(body: str) -> str:
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    if not first_line:
        return "（无主题）"
    return first_line if len(first_line) <= 40 else first_line[:40] + "…"


def csat_url(ticket: Ticket) -> str:
    """The public CSAT page of the ticket (absolute, for messages sent outside the site)."""
    base = str(getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
    return base + reverse("consult_public:csat", kwargs={"token": ticket.csat_token})


# --- contacts and intake ---------------------------------------------------------------------------------


def contact_for(
    *,
    authority,
    channel: str,
    external_id: str,
    display_name: str = "",
    email: str = "",
    phone: str = "",
) -> Contact:
    """The contact of (authority, channel, external_id), created on first contact; a non-empty name,
    e-mail or phone given now replaces the stored one. An invalid e-mail address is not stored."""
    if channel not in TicketChannel.values:
        raise ValidationError({"channel": f"未知的渠道：{_text(channel, 30)}"})
    external_id = _text(external_id, 200)
    if not external_id:
        raise ValidationError({"external_id": "缺少渠道标识（如 openid、邮箱地址、访客标识）。"})
    email = _text(email, 254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            email = ""
    updates = {
        "display_name": _text(display_name, 100),
        "email": email,
        "phone": _text(phone, 32),
    }
    updates = {field: value for field, value in updates.items() if value}
    lookup = {"authority": authority, "channel": channel, "external_id": external_id}
    contact = Contact.objects.filter(**lookup).first()
    if contact is None:
        try:
            with transaction.atomic():
                return Contact.objects.create(**lookup, **updates)
        except IntegrityError:  # the same sender's second message arrived at the same moment
            contact = Contact.objects.get(**lookup)
    changed = [field for field, value in updates.items() if getattr(contact, field) != value]
    if changed:
        for field in changed:
            setattr(contact, field, updates[field])
        contact.save(update_fields=[*changed, "updated_at"])
    return contact


def ticket_open(
    *,
    authority,
    channel: str,
    contact: Contact,
    subject: str,
    body: str,
    kind: str = TicketKind.CONSULTATION,
    actor=None,
    body_html: str = "",
    channel_message_id: str = "",
    thread_key: str = "",
    topic: str = "",
    related_case_number: str = "",
    priority: str = TicketPriority.NORMAL,
    opened_at: dt.datetime | None = None,
    attachments: Sequence[IncomingAttachment] = (),
) -> Ticket:
    """Open a ticket with its first inbound message (the citizen's words, or what staff noted of them).

    actor None: the citizen's own message on a channel. With an actor: staff opened it (a call follow-up, a
    complaint taken at the window) and needs consultation.add_ticket. A channel_message_id already seen
    returns that message's ticket (a channel's retry never opens a second ticket).
    """
    if actor is not None:
        _require(actor, "consultation.add_ticket", "您的角色无权新建咨询工单。")
    errors: dict[str, list[str]] = {}
    if channel not in TicketChannel.values:
        errors.setdefault("channel", []).append(f"未知的渠道：{_text(channel, 30)}")
    if kind not in TicketKind.values:
        errors.setdefault("kind", []).append(f"未知的工单类型：{_text(kind, 30)}")
    if priority not in TicketPriority.values:
        errors.setdefault("priority", []).append(f"未知的优先级：{_text(priority, 30)}")
    if topic and topic not in dict(Ticket._meta.get_field("topic").choices):
        errors.setdefault("topic", []).append(f"未知的咨询主题：{_text(topic, 30)}")
    if contact.authority_id != authority.pk:
        errors.setdefault("contact", []).append("咨询人不属于该登记机关。")
    body = _text(body)
    if not body and not attachments:
        errors.setdefault("body", []).append("咨询内容不能为空。")
    if errors:
        raise ValidationError(errors)
    channel_message_id = _text(channel_message_id, 300)
    existing = _existing_message(
        authority_id=authority.pk, channel=channel, channel_message_id=channel_message_id
    )
    if existing is not None:
        return existing.ticket

    now = timezone.now()
    opened_at = opened_at or now
    first_due, resolution_due = _deadlines(authority_id=authority.pk, kind=kind, opened_at=opened_at)
    try:
        with transaction.atomic():
            ticket = Ticket(
                authority=authority,
                number=_next_number(authority=authority, day=timezone.localdate(opened_at)),
                kind=kind,
                channel=channel,
                state=TicketState.NEW,
                priority=priority,
                subject=_text(subject, 200) or _subject_from(body),
                contact=contact,
                topic=topic,
                related_case_number=_text(related_case_number, 30),
                thread_key=_text(thread_key, 300),
                opened_at=opened_at,
                first_response_due_at=first_due,
                resolution_due_at=resolution_due,
                csat_token=secrets.token_urlsafe(32),
            )
            ticket._history_user = actor
            ticket.save()
            message = _add_message(
                ticket,
                direction=TicketMessage.Direction.INBOUND,
                body=body,
                body_html=body_html,
                now=opened_at,
                author=actor,
                channel_message_id=channel_message_id,
            )
            _store_attachments(message, attachments)
            _log(
                ticket,
                action="open",
                from_state=TicketState.NEW,
                to_state=TicketState.NEW,
                actor=actor,
                now=now,
                reason=f"{ticket.get_channel_display()}来件",
            )
    except IntegrityError:
        # The same channel message arrived twice at once: the other delivery opened the ticket.
        existing = _existing_message(
            authority_id=authority.pk, channel=channel, channel_message_id=channel_message_id
        )
        if existing is None:
            raise
        return existing.ticket
    return ticket


def ticket_receive(
    *,
    ticket: Ticket,
    body: str,
    channel_message_id: str = "",
    body_html: str = "",
    received_at: dt.datetime | None = None,
    attachments: Sequence[IncomingAttachment] = (),
) -> TicketMessage | None:
    """Add the citizen's next message to a ticket. Returns None when channel_message_id was seen already.

    A waiting or resolved ticket is reopened (customer_replied, actor None) and the SLA pause ends. A message
    for a merged ticket goes to the ticket it was merged into. A message for a closed ticket opens a new
    ticket (same contact, channel, kind and thread) — the returned message's `.ticket` is that new ticket.
    """
    body = _text(body)
    if not body and not attachments:
        raise ValidationError({"body": "消息内容不能为空。"})
    channel_message_id = _text(channel_message_id, 300)
    if _existing_message(
        authority_id=ticket.authority_id, channel=ticket.channel, channel_message_id=channel_message_id
    ):
        return None
    now = timezone.now()
    received_at = received_at or now
    try:
        with transaction.atomic():
            locked = _lock(ticket)
            seen = set()
            while locked.state == TicketState.MERGED and locked.merged_into_id and locked.pk not in seen:
                seen.add(locked.pk)
                locked = Ticket.objects.select_for_update(of=("self",)).get(pk=locked.merged_into_id)
            # A message on a closed ticket starts a new one (the closed one keeps its CSAT and figures).
            closed = locked.state == TicketState.CLOSED
            message = _add_message(
                _open_follow_on(locked, body=body, now=now) if closed else locked,
                direction=TicketMessage.Direction.INBOUND,
                body=body,
                body_html=body_html,
                now=received_at,
                channel_message_id=channel_message_id,
            )
            _store_attachments(message, attachments)
            if closed:
                return message
            if locked.state in (TicketState.WAITING, TicketState.RESOLVED):
                from_state = locked.state
                TICKET_WORKFLOW.check(state=from_state, action="customer_replied", user=None)
                _end_pause(locked, now)
                locked.state = TicketState.OPEN
                locked.resolved_at = None
                locked._change_reason = "群众回复"
                locked.save()
                _log(
                    locked,
                    action="customer_replied",
                    from_state=from_state,
                    to_state=locked.state,
                    actor=None,
                    now=now,
                )
            else:
                # Touch the ticket so the queue's "changed since" check sees the new message.
                locked.save(update_fields=["updated_at"])
    except IntegrityError:
        if _existing_message(
            authority_id=ticket.authority_id, channel=ticket.channel, channel_message_id=channel_message_id
        ):
            return None
        raise
    return message


def _open_follow_on(closed: Ticket, *, body: str, now: dt.datetime) -> Ticket:
    """A new ticket for a message that arrived on a closed one (inside the caller's transaction)."""
    first_due, resolution_due = _deadlines(authority_id=closed.authority_id, kind=closed.kind, opened_at=now)
    ticket = Ticket.objects.create(
        authority_id=closed.authority_id,
        number=_next_number(authority=closed.authority, day=timezone.localdate(now)),
        kind=closed.kind,
        channel=closed.channel,
        priority=closed.priority,
        subject=closed.subject,
        contact_id=closed.contact_id,
        topic=closed.topic,
        related_case_number=closed.related_case_number,
        thread_key=closed.thread_key,
        opened_at=now,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        csat_token=secrets.token_urlsafe(32),
    )
    _log(
        ticket,
        action="open",
        from_state=TicketState.NEW,
        to_state=TicketState.NEW,
        actor=None,
        now=now,
        reason=f"已关闭工单 {closed.number} 收到新消息",
    )
    return ticket


# --- work on a ticket -----------------------------------------------------------------------------------


def ticket_reply(
    *, ticket: Ticket, actor, body: str, cited_version=None, is_automatic: bool = False
) -> TicketMessage:
    """Answer the citizen. An agent's reply to a new ticket takes it (assign to the agent) and counts as the
    first response; a reply on a push channel is sent by the `consultation.deliver_message` task after
    commit. actor may be None only for an automatic answer of the answering engine (which does not count as
    the human first response)."""
    if actor is None and not is_automatic:
        raise PermissionDenied("答复必须有答复人。")
    if actor is not None:
        _require(actor, "consultation.change_ticket", "您的角色无权答复工单。")
    body = _text(body)
    if not body:
        raise ValidationError({"body": "答复内容不能为空。"})
    if cited_version is not None and cited_version.article.authority_id != ticket.authority_id:
        raise ValidationError({"cited_version": "引用的知识条目不属于该登记机关。"})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(ticket)
        if locked.state not in TICKET_OPEN_STATES and locked.state != TicketState.RESOLVED:
            raise TransitionNotAllowed(f"工单{locked.get_state_display()}，不能再答复。")
        if actor is not None and locked.state == TicketState.NEW:
            TICKET_WORKFLOW.check(state=locked.state, action="assign", user=actor)
            locked.assignee = locked.assignee or actor
            locked.state = TicketState.OPEN
            _log(
                locked,
                action="assign",
                from_state=TicketState.NEW,
                to_state=TicketState.OPEN,
                actor=actor,
                now=now,
                reason="答复时领取",
            )
        if actor is not None and locked.first_responded_at is None:
            locked.first_responded_at = now
        delivery = TicketMessage.Delivery.PENDING if locked.channel in PUSH_CHANNELS else ""
        message = _add_message(
            locked,
            direction=TicketMessage.Direction.OUTBOUND,
            body=body,
            now=now,
            author=actor,
            cited_version=cited_version,
            is_automatic=is_automatic,
            delivery=delivery,
        )
        locked._history_user = actor
        locked._change_reason = "答复"
        locked.save()
        if delivery:
            _enqueue_delivery(message)
        if cited_version is not None and not is_automatic:
            from bizreg.consultation.services.knowledge import article_record_usage

            article_record_usage(version=cited_version, kind="canned_reply", channel=locked.channel)
    return message


def ticket_note(*, ticket: Ticket, actor, body: str) -> TicketMessage:
    """An internal note: shown to staff only, never on the portal, never sent."""
    _require(actor, "consultation.change_ticket", "您的角色无权添加内部备注。")
    body = _text(body)
    if not body:
        raise ValidationError({"body": "备注内容不能为空。"})
    with transaction.atomic():
        locked = _lock(ticket)
        message = _add_message(
            locked, direction=TicketMessage.Direction.NOTE, body=body, now=timezone.now(), author=actor
        )
        locked.save(update_fields=["updated_at"])
    return message


def ticket_transition(*, ticket: Ticket, action: str, actor, reason: str = "") -> Ticket:
    """Take one step of TICKET_WORKFLOW: assign (= take it yourself), wait_for_customer, resolve, close,
    reopen. Merging goes through ticket_merge, a manager's assignment to someone else through ticket_assign;
    customer_replied is the system's (ticket_receive)."""
    if action == "merge":
        raise TransitionNotAllowed("合并请使用“合并到其他工单”并选择目标工单。")
    if action == "customer_replied":
        raise TransitionNotAllowed("“群众回复”由群众的新消息触发，不能手工执行。")
    if action == "assign":
        return ticket_assign(ticket=ticket, actor=actor, assignee=actor)
    if actor is None:
        raise PermissionDenied("缺少操作人。")
    transition_ = TICKET_WORKFLOW.transition(action)
    if transition_.permission and not actor.has_perm(transition_.permission):
        raise PermissionDenied(f"您的角色无权执行“{transition_.label}”。")
    seen_state = ticket.state
    TICKET_WORKFLOW.check(state=seen_state, action=action, user=actor)
    reason = _text(reason)
    if action == "reopen" and not reason:
        raise ValidationError({"reason": "请填写重新打开的理由。"})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(ticket)
        if locked.state != seen_state:
            raise TransitionNotAllowed(
                f"该工单已被他人处理，当前状态为“{locked.get_state_display()}”，请刷新后再操作。"
            )
        from_state = locked.state
        if action == "wait_for_customer":
            locked.waiting_since = now
        elif action == "resolve":
            _end_pause(locked, now)
            locked.resolved_at = now
            locked.assignee = locked.assignee or actor
        elif action == "close":
            locked.closed_at = now
        elif action == "reopen":
            locked.resolved_at = None
            locked.closed_at = None
        locked.state = transition_.target
        locked._history_user = actor
        locked._change_reason = transition_.label
        locked.save()
        _log(
            locked,
            action=action,
            from_state=from_state,
            to_state=locked.state,
            actor=actor,
            now=now,
            reason=reason,
        )
        if action == "close" and locked.csat_score is None:
            _send_csat_invitation(locked, now)
    return locked


def _send_csat_invitation(ticket: Ticket, now: dt.datetime) -> None:
    """The closing message with the CSAT link (web chat shows it; push channels send it)."""
    delivery = TicketMessage.Delivery.PENDING if ticket.channel in PUSH_CHANNELS else ""
    if ticket.channel == TicketChannel.PHONE and not ticket.contact.email:
        delivery = ""
    message = _add_message(
        ticket,
        direction=TicketMessage.Direction.OUTBOUND,
        body=f"您的咨询（工单号 {ticket.number}）已办结。欢迎对本次服务进行评价：{csat_url(ticket)}",
        now=now,
        is_automatic=True,
        delivery=delivery,
    )
    if delivery:
        _enqueue_delivery(message)


def _eligible_assignee(ticket: Ticket, assignee) -> bool:
    if assignee is None or not assignee.is_active or not assignee.has_perm("consultation.change_ticket"):
        return False
    return assignee.is_superuser or assignee.authorities.filter(pk=ticket.authority_id).exists()


def ticket_assign(*, ticket: Ticket, actor, assignee) -> Ticket:
    """Give the ticket to `assignee`. An agent takes a ticket for themselves (领取: change_ticket; only an
    unassigned one, or their own); giving it to someone else, or taking another agent's, needs assign_ticket.
    Two agents taking the same ticket at once: the row lock lets one win, the other is told who has it."""
    if actor is None:
        raise PermissionDenied("缺少操作人。")
    taking = assignee is not None and assignee.pk == actor.pk
    if taking:
        _require(actor, "consultation.change_ticket", "您的角色无权领取工单。")
    else:
        _require(actor, "consultation.assign_ticket", "您的角色无权分派工单。")
    if not _eligible_assignee(ticket, assignee):
        raise ValidationError({"assignee": "该人员不是本机关的在岗坐席，不能分派。"})
    TICKET_WORKFLOW.check(state=ticket.state, action="assign", user=actor)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(ticket)
        TICKET_WORKFLOW.check(state=locked.state, action="assign", user=actor)
        if locked.assignee_id == assignee.pk and locked.state == TicketState.OPEN:
            return locked
        if (
            taking
            and locked.assignee_id
            and locked.assignee_id != actor.pk
            and not actor.has_perm("consultation.assign_ticket")
        ):
            holder = locked.assignee
            raise TransitionNotAllowed(f"该工单已由{holder}领取，请刷新队列后选择其他工单。")
        from_state = locked.state
        previous = locked.assignee
        _end_pause(locked, now)
        locked.assignee = assignee
        locked.state = TicketState.OPEN
        locked._history_user = actor
        locked._change_reason = "领取" if taking else "分派"
        locked.save()
        if taking and previous is None:
            reason = "领取"
        else:
            name = assignee
            reason = f"分派给 {name}" + (f"（原处理人 {previous}）" if previous else "")
        _log(
            locked,
            action="assign",
            from_state=from_state,
            to_state=locked.state,
            actor=actor,
            now=now,
            reason=reason,
        )
    return locked


def ticket_merge(*, ticket: Ticket, into: Ticket, actor, reason: str) -> Ticket:
    """Merge a duplicate into another ticket of the same authority. The duplicate's messages stay where they
    are; it becomes MERGED with merged_into set, and the target shows the merged conversation. Tickets
    merged into the duplicate before now point to the target. No self-merge, no merge into a merged or
    closed ticket. Returns the duplicate."""
    _require(actor, "consultation.merge_ticket", "您的角色无权合并工单。")
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": "请填写合并理由。"})
    if into is None:
        raise ValidationError({"into": "请选择要合并到的工单。"})
    if into.pk == ticket.pk:
        raise ValidationError({"into": "不能将工单合并到它自身。"})
    if into.authority_id != ticket.authority_id:
        raise ValidationError({"into": "只能合并同一登记机关的工单。"})
    TICKET_WORKFLOW.check(state=ticket.state, action="merge", user=actor)
    now = timezone.now()
    with transaction.atomic():
        # Lock both rows in id order so two opposite merges cannot deadlock.
        locked = {
            row.pk: row
            for row in Ticket.objects.select_for_update(of=("self",))
            .filter(pk__in=[ticket.pk, into.pk])
            .order_by("pk")
        }
        source, target = locked[ticket.pk], locked[into.pk]
        TICKET_WORKFLOW.check(state=source.state, action="merge", user=actor)
        if target.state in (TicketState.MERGED, TicketState.CLOSED):
            raise TransitionNotAllowed(
                f"目标工单{target.number}{target.get_state_display()}，不能合并到该工单。"
            )
        from_state = source.state
        source.state = TicketState.MERGED
        source.merged_into = target
        source.waiting_since = None
        source._history_user = actor
        source._change_reason = f"合并到 {target.number}"
        source.save()
        Ticket.objects.filter(merged_into=source).update(merged_into=target)
        _log(
            source,
            action="merge",
            from_state=from_state,
            to_state=TicketState.MERGED,
            actor=actor,
            now=now,
            reason=f"合并到 {target.number}：{reason}",
        )
        _add_message(
            target,
            direction=TicketMessage.Direction.NOTE,
            body=f"已将重复工单 {source.number} 合并到本工单：{reason}",
            now=now,
            author=actor,
        )
        target.save(update_fields=["updated_at"])
    return source


# --- CSAT -----------------------------------------------------------------------------------------------


def csat_ticket(token: str) -> Ticket:
    """The closed ticket a CSAT token belongs to, or CsatUnavailable (unknown, not closed, expired)."""
    token = _text(token, 64)
    ticket = Ticket.objects.filter(csat_token=token).first() if token else None
    if ticket is None or ticket.state != TicketState.CLOSED or ticket.closed_at is None:
        raise CsatUnavailable("评价链接无效。")
    if timezone.now() - ticket.closed_at > dt.timedelta(days=CSAT_VALID_DAYS):
        raise CsatUnavailable("评价链接已过期。")
    return ticket


def ticket_submit_csat(*, token: str, score: int, comment: str = "") -> Ticket:
    """The citizen's rating (1–5, with an optional comment), once per ticket."""
    ticket = csat_ticket(token)
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ValidationError({"score": "请选择 1 至 5 分的评分。"}) from None
    if not 1 <= score <= 5:
        raise ValidationError({"score": "评分须在 1 至 5 分之间。"})
    comment = _text(comment)
    if len(comment) > 500:
        raise ValidationError({"comment": "评价意见不能超过 500 字。"})
    with transaction.atomic():
        locked = _lock(ticket)
        if locked.csat_score is not None:
            raise CsatAlreadySubmitted("您已评价过本次服务，感谢您的反馈。")
        locked.csat_score = score
        locked.csat_comment = comment
        locked.csat_at = timezone.now()
        locked._change_reason = "群众评价"
        locked.save()
    return locked


# --- escalation -----------------------------------------------------------------------------------------

ESCALATION_THRESHOLD = 1  # escalate_at_percent of the resolution time used
ESCALATION_OVERDUE = 2  # resolution deadline passed


def escalation_due_level(ticket: Ticket, *, now: dt.datetime, terms: SlaTerms) -> int:
    """The escalation level the ticket's SLA calls for now: complaints reach 1 at escalate_at_percent of
    their resolution time and 2 when overdue; other kinds only 2 when overdue. A waiting ticket's clock is
    stopped, so it is judged at the moment it started waiting."""
    if ticket.state not in TICKET_OPEN_STATES or ticket.resolution_due_at is None:
        return 0
    moment = ticket.waiting_since or now
    if moment >= ticket.resolution_due_at:
        return ESCALATION_OVERDUE
    if ticket.kind != TicketKind.COMPLAINT:
        return 0
    used = sla.business_minutes_between(ticket.opened_at, moment) - ticket.paused_business_minutes
    if used >= math.ceil(terms.resolution_minutes * terms.escalate_at_percent / 100):
        return ESCALATION_THRESHOLD
    return 0


def escalate_due_tickets(now: dt.datetime | None = None) -> int:
    """Raise the escalation level of open tickets whose SLA calls for it (Celery beat, every 5 minutes):
    set escalated_at, add a note saying why. Idempotent: a level is raised once. Returns how many tickets
    were escalated this run."""
    now = now or timezone.now()
    candidates = Ticket.objects.filter(state__in=TICKET_OPEN_STATES, resolution_due_at__isnull=False).filter(
        escalation_level__lt=ESCALATION_OVERDUE
    )
    # Non-complaints only ever escalate when overdue: let the database skip the rest.
    candidates = candidates.exclude(
        kind__in=[k for k in TicketKind.values if k != TicketKind.COMPLAINT], resolution_due_at__gt=now
    )
    terms_cache: dict[tuple[int, str], SlaTerms] = {}
    escalated = 0
    for ticket in candidates.only(
        "pk",
        "authority_id",
        "kind",
        "state",
        "opened_at",
        "resolution_due_at",
        "waiting_since",
        "paused_business_minutes",
        "escalation_level",
    ).iterator():
        key = (ticket.authority_id, ticket.kind)
        if key not in terms_cache:
            terms_cache[key] = sla_terms(authority_id=ticket.authority_id, kind=ticket.kind)
        try:
            level = escalation_due_level(ticket, now=now, terms=terms_cache[key])
        except CalendarDataMissing:
            continue
        if level <= ticket.escalation_level:
            continue
        with transaction.atomic():
            locked = _lock(ticket)
            if level <= locked.escalation_level or locked.state not in TICKET_OPEN_STATES:
                continue
            locked.escalation_level = level
            locked.escalated_at = now
            locked._change_reason = "超时升级"
            locked.save()
            if level == ESCALATION_OVERDUE:
                due = timezone.localtime(locked.resolution_due_at)
                text = f"工单已超过解决期限（{due:%Y-%m-%d %H:%M}），已升级至科室负责人。"
            else:
                text = (
                    f"投诉处理已用时 {terms_cache[key].escalate_at_percent}% 以上，已升级至科室负责人督办。"
                )
            _add_message(locked, direction=TicketMessage.Direction.NOTE, body=text, now=now)
            escalated += 1
    return escalated
