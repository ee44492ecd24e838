"""Ticket services: intake and de-duplication, numbers, replies and delivery, the state machine, the SLA
pause, assignment, merge rules, notes, escalation and CSAT."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bizreg.consultation import sla
from bizreg.consultation.models import (
    SlaPolicy,
    Ticket,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketState,
    TicketTransitionLog,
)
from bizreg.consultation.services import tickets as svc
from bizreg.consultation.services.attachments import IncomingAttachment
from bizreg.consultation.tests.tickets_fixtures import open_ticket
from bizreg.core.statemachine import TransitionNotAllowed

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


# --- intake -----------------------------------------------------------------------------------------------


def test_open_creates_ticket_with_number_first_message_and_deadlines(authority):
    ticket = open_ticket(authority, opened_at=at(2025, 6, 10, 9, 0))
    assert ticket.number == "ZX44011520250610" + "0001"
    assert ticket.state == TicketState.NEW
    assert ticket.subject == "请问个体工商户设立需要哪些材料？"
    assert ticket.first_response_due_at == at(2025, 6, 10, 10, 0)
    assert ticket.resolution_due_at == at(2025, 6, 11, 17, 30)  # 2 business days
    assert len(ticket.csat_token) >= 40
    (message,) = ticket.messages.all()
    assert message.direction == TicketMessage.Direction.INBOUND and message.author is None
    assert TicketTransitionLog.objects.get(ticket=ticket).actor is None
    second = open_ticket(authority, external_id="visitor-2", opened_at=at(2025, 6, 10, 9, 5))
    assert second.number.endswith("0002")


def test_numbers_continue_after_tickets_written_without_counter(authority):
    first = open_ticket(authority, opened_at=at(2025, 6, 10, 9, 0))
    Ticket.objects.filter(pk=first.pk).update(number="ZX440115202506110007")
    assert open_ticket(authority, external_id="v2", opened_at=at(2025, 6, 11, 9)).number.endswith("0008")


def test_complaint_and_follow_up_defaults_and_policy(authority):
    complaint = open_ticket(authority, kind=TicketKind.COMPLAINT, opened_at=at(2025, 6, 9, 9, 0))
    assert complaint.first_response_due_at == at(2025, 6, 9, 9, 30)
    assert complaint.resolution_due_at == at(2025, 6, 13, 17, 30)  # 5 working days
    follow = open_ticket(authority, kind=TicketKind.FOLLOW_UP, external_id="x", opened_at=at(2025, 6, 9, 9))
    assert follow.resolution_due_at == at(2025, 6, 9, 17, 30)
    SlaPolicy.objects.create(
        authority=authority, kind="consultation", first_response_minutes=15, resolution_minutes=120
    )
    custom = open_ticket(authority, external_id="y", opened_at=at(2025, 6, 9, 9, 0))
    assert (custom.first_response_due_at, custom.resolution_due_at) == (
        at(2025, 6, 9, 9, 15),
        at(2025, 6, 9, 11),
    )


def test_same_channel_message_id_opens_one_ticket(authority):
    first = open_ticket(authority, channel=TicketChannel.WECHAT, channel_message_id="MSG1")
    again = open_ticket(authority, channel=TicketChannel.WECHAT, channel_message_id="MSG1")
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1
    assert svc.ticket_receive(ticket=first, body="再问一次", channel_message_id="MSG1") is None
    assert TicketMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"kind": "praise"}, "kind"),
        ({"priority": "urgent"}, "priority"),
        ({"body": "   "}, "body"),
        ({"topic": "weather"}, "topic"),
    ],
)
def test_open_refuses_bad_input(authority, kwargs, field):
    contact = svc.contact_for(authority=authority, channel="web_chat", external_id="v")
    data = {"authority": authority, "channel": "web_chat", "contact": contact, "subject": "", "body": "问"}
    data.update(kwargs)
    with pytest.raises(ValidationError) as exc:
        svc.ticket_open(**data)
    assert field in exc.value.message_dict
    assert not Ticket.objects.exists()


def test_contact_of_other_authority_is_refused(authority, other_authority):
    contact = svc.contact_for(authority=other_authority, channel="web_chat", external_id="v")
    with pytest.raises(ValidationError):
        svc.ticket_open(authority=authority, channel="web_chat", contact=contact, subject="", body="问")


def test_contact_for_reuses_and_updates(authority):
    first = svc.contact_for(
        authority=authority, channel="email", external_id="a@example.com", email="a@example.com"
    )
    again = svc.contact_for(
        authority=authority, channel="email", external_id="a@example.com", display_name="王五"
    )
    assert first.pk == again.pk and again.display_name == "王五" and again.email == "a@example.com"
    bad = svc.contact_for(authority=authority, channel="qq", external_id="10001", email="not an address")
    assert bad.email == ""
    with pytest.raises(ValidationError):
        svc.contact_for(authority=authority, channel="qq", external_id="  ")


def test_attachments_are_stored_and_quarantined(authority, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    ticket = open_ticket(
        authority,
        attachments=[
            IncomingAttachment("营业执照.png", "image/png", png),
            IncomingAttachment("photo.png", "image/png", b"MZ\x90\x00 this is a program"),
        ],
    )
    attachments = {a.file_name: a for a in ticket.messages.get().attachments.all()}
    assert not attachments["营业执照.png"].quarantined
    assert attachments["photo.png"].quarantined


def test_staff_opened_ticket_needs_permission(authority, role_users):
    contact = svc.contact_for(authority=authority, channel="phone", external_id="13812345678")
    with pytest.raises(PermissionDenied):
        svc.ticket_open(
            authority=authority,
            channel="phone",
            contact=contact,
            subject="回电",
            body="x",
            actor=role_users["archivist"],
        )
    ticket = svc.ticket_open(
        authority=authority,
        channel="phone",
        contact=contact,
        subject="回电",
        body="来电跟进",
        kind=TicketKind.FOLLOW_UP,
        actor=role_users["hotline_agent"],
    )
    assert ticket.messages.get().author == role_users["hotline_agent"]


# --- replies, notes, delivery ---------------------------------------------------------------------------


def test_agent_reply_takes_new_ticket_and_sets_first_response(authority, agent):
    ticket = open_ticket(authority)
    message = svc.ticket_reply(ticket=ticket, actor=agent, body="需要提交身份证明和经营场所证明。")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN and ticket.assignee == agent
    assert ticket.first_responded_at == message.created_at
    assert message.delivery == ""  # web chat polls
    assert list(ticket.transitions.values_list("action", flat=True)) == ["open", "assign"]


def test_push_channel_reply_is_queued_for_delivery_after_commit(
    authority, agent, django_capture_on_commit_callbacks
):
    ticket = open_ticket(authority, channel=TicketChannel.WECHAT, external_id="openid-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = svc.ticket_reply(ticket=ticket, actor=agent, body="您好")
    assert message.delivery == TicketMessage.Delivery.PENDING
    assert len(callbacks) == 1  # consultation.deliver_message, sent only once the reply is committed
    web = open_ticket(authority, external_id="web-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        svc.ticket_reply(ticket=web, actor=agent, body="您好")
    assert callbacks == []


def test_reply_rules(authority, agent, role_users):
    ticket = open_ticket(authority)
    with pytest.raises(ValidationError):
        svc.ticket_reply(ticket=ticket, actor=agent, body="  ")
    with pytest.raises(PermissionDenied):
        svc.ticket_reply(ticket=ticket, actor=None, body="x")
    with pytest.raises(PermissionDenied):
        svc.ticket_reply(ticket=ticket, actor=role_users["registration_clerk"], body="x")
    auto = svc.ticket_reply(ticket=ticket, actor=None, body="智能应答", is_automatic=True)
    ticket.refresh_from_db()
    assert auto.is_automatic and ticket.first_responded_at is None and ticket.state == TicketState.NEW


def test_note_is_internal(authority, agent, role_users):
    ticket = open_ticket(authority)
    note = svc.ticket_note(ticket=ticket, actor=agent, body="已电话联系")
    assert note.direction == TicketMessage.Direction.NOTE and note.delivery == ""
    with pytest.raises(PermissionDenied):
        svc.ticket_note(ticket=ticket, actor=role_users["finance_officer"], body="x")


# --- state machine and SLA pause --------------------------------------------------------------------------


def test_wrong_state_and_wrong_role(authority, agent, role_users):
    ticket = open_ticket(authority)
    with pytest.raises(TransitionNotAllowed, match="待分派"):
        svc.ticket_transition(ticket=ticket, action="close", actor=agent)
    with pytest.raises(PermissionDenied):
        svc.ticket_transition(ticket=ticket, action="resolve", actor=role_users["investigator"])
    with pytest.raises(TransitionNotAllowed):
        svc.ticket_transition(ticket=ticket, action="customer_replied", actor=agent)
    with pytest.raises(TransitionNotAllowed):
        svc.ticket_transition(ticket=ticket, action="fly", actor=agent)


def test_full_life_cycle_is_logged(authority, agent):
    ticket = open_ticket(authority)
    svc.ticket_transition(ticket=ticket, action="assign", actor=agent)
    ticket.refresh_from_db()
    svc.ticket_transition(ticket=ticket, action="wait_for_customer", actor=agent, reason="请补充企业名称")
    ticket.refresh_from_db()
    svc.ticket_receive(ticket=ticket, body="企业名称是南沙测试有限公司")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN
    ticket = svc.ticket_transition(ticket=ticket, action="resolve", actor=agent)
    ticket = svc.ticket_transition(ticket=ticket, action="close", actor=agent)
    assert ticket.closed_at and ticket.resolved_at
    logs = list(ticket.transitions.values_list("action", "from_state", "to_state", "actor"))
    assert logs == [
        ("open", "new", "new", None),
        ("assign", "new", "open", agent.pk),
        ("wait_for_customer", "open", "waiting", agent.pk),
        ("customer_replied", "waiting", "open", None),
        ("resolve", "open", "resolved", agent.pk),
        ("close", "resolved", "closed", agent.pk),
    ]
    invitation = ticket.messages.filter(is_automatic=True).get()
    assert ticket.csat_token in invitation.body
    with pytest.raises(ValidationError):
        svc.ticket_transition(ticket=ticket, action="reopen", actor=agent)
    ticket = svc.ticket_transition(ticket=ticket, action="reopen", actor=agent, reason="群众来电补充")
    assert ticket.state == TicketState.OPEN and ticket.closed_at is None


def test_waiting_pauses_the_clock(authority, agent):
    ticket = open_ticket(authority, opened_at=at(2025, 6, 9, 9, 0))
    svc.ticket_reply(ticket=ticket, actor=agent, body="请问您的企业名称？")
    ticket = svc.ticket_transition(
        ticket=Ticket.objects.get(pk=ticket.pk), action="wait_for_customer", actor=agent
    )
    due = ticket.resolution_due_at
    # The citizen answers 3 hours after the agent asked (the clock stood still for the business minutes
    # among them).
    now = timezone.now()
    asked = now - dt.timedelta(hours=3)
    Ticket.objects.filter(pk=ticket.pk).update(waiting_since=asked)
    ticket.refresh_from_db()
    svc.ticket_receive(ticket=ticket, body="南沙测试有限公司")
    ticket.refresh_from_db()
    # The service read the clock a moment after `now`: at most one more business minute.
    paused = ticket.paused_business_minutes
    assert paused - sla.business_minutes_between(asked, now) in (0, 1)
    assert ticket.resolution_due_at == sla.add_business_minutes(due, paused)
    assert ticket.waiting_since is None and ticket.state == TicketState.OPEN


def test_resolving_a_waiting_ticket_ends_the_pause(authority, agent):
    ticket = open_ticket(authority)
    svc.ticket_transition(ticket=ticket, action="assign", actor=agent)
    ticket = svc.ticket_transition(
        ticket=Ticket.objects.get(pk=ticket.pk), action="wait_for_customer", actor=agent
    )
    Ticket.objects.filter(pk=ticket.pk).update(waiting_since=at(2025, 6, 9, 9, 0))
    ticket = svc.ticket_transition(ticket=Ticket.objects.get(pk=ticket.pk), action="resolve", actor=agent)
    assert ticket.waiting_since is None and ticket.paused_business_minutes > 0


def test_message_on_resolved_ticket_reopens_it(authority, agent):
    ticket = open_ticket(authority)
    ticket = svc.ticket_transition(ticket=ticket, action="resolve", actor=agent)
    svc.ticket_receive(ticket=ticket, body="还有一个问题")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN and ticket.resolved_at is None


def test_message_on_closed_ticket_opens_a_new_one(authority, agent):
    ticket = open_ticket(authority, thread_key="<t1@example.com>", channel=TicketChannel.EMAIL)
    ticket = svc.ticket_transition(ticket=ticket, action="resolve", actor=agent)
    ticket = svc.ticket_transition(ticket=ticket, action="close", actor=agent)
    message = svc.ticket_receive(ticket=ticket, body="新问题", channel_message_id="<m2@example.com>")
    assert message.ticket_id != ticket.pk
    assert message.ticket.thread_key == "<t1@example.com>" and message.ticket.state == TicketState.NEW


# --- assignment -------------------------------------------------------------------------------------------


def test_take_and_assign_rules(authority, agent, second_agent, manager, other_authority, make_user):
    ticket = open_ticket(authority)
    ticket = svc.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    assert ticket.assignee == agent and ticket.state == TicketState.OPEN
    with pytest.raises(TransitionNotAllowed, match="已由"):
        svc.ticket_assign(ticket=Ticket.objects.get(pk=ticket.pk), actor=second_agent, assignee=second_agent)
    with pytest.raises(PermissionDenied):
        svc.ticket_assign(ticket=ticket, actor=agent, assignee=second_agent)
    ticket = svc.ticket_assign(ticket=ticket, actor=manager, assignee=second_agent)
    assert ticket.assignee == second_agent
    assert "原处理人" in ticket.transitions.last().reason
    outsider = make_user(role="hotline_agent", authorities=[other_authority])
    with pytest.raises(ValidationError):
        svc.ticket_assign(ticket=ticket, actor=manager, assignee=outsider)
    with pytest.raises(ValidationError):
        svc.ticket_assign(ticket=ticket, actor=manager, assignee=make_user(role="archivist"))


# --- merge ------------------------------------------------------------------------------------------------


def test_merge_rules(authority, other_authority, agent, manager):
    source = open_ticket(authority, external_id="a", body="执照怎么领？")
    target = open_ticket(authority, external_id="b", body="营业执照领取")
    with pytest.raises(PermissionDenied):
        svc.ticket_merge(ticket=source, into=target, actor=agent, reason="重复")
    with pytest.raises(ValidationError):
        svc.ticket_merge(ticket=source, into=source, actor=manager, reason="重复")
    with pytest.raises(ValidationError):
        svc.ticket_merge(ticket=source, into=target, actor=manager, reason=" ")
    foreign = open_ticket(other_authority, external_id="c")
    with pytest.raises(ValidationError):
        svc.ticket_merge(ticket=source, into=foreign, actor=manager, reason="重复")
    merged = svc.ticket_merge(ticket=source, into=target, actor=manager, reason="同一人重复提问")
    assert merged.state == TicketState.MERGED and merged.merged_into == target
    assert source.messages.count() == 1  # messages stay on the source
    assert target.messages.filter(direction="note").exists()
    third = open_ticket(authority, external_id="d")
    with pytest.raises(TransitionNotAllowed):
        svc.ticket_merge(ticket=third, into=merged, actor=manager, reason="重复")
    with pytest.raises(TransitionNotAllowed):
        svc.ticket_merge(ticket=merged, into=third, actor=manager, reason="重复")
    closed = svc.ticket_transition(
        ticket=open_ticket(authority, external_id="e"), action="resolve", actor=agent
    )
    closed = svc.ticket_transition(ticket=closed, action="close", actor=agent)
    with pytest.raises(TransitionNotAllowed):
        svc.ticket_merge(ticket=third, into=closed, actor=manager, reason="重复")
    # A message for the merged ticket lands on its target.
    message = svc.ticket_receive(ticket=merged, body="补充一句")
    assert message.ticket_id == target.pk
    # Merging the target on: earlier merges follow.
    svc.ticket_merge(ticket=target, into=third, actor=manager, reason="再次合并")
    assert Ticket.objects.get(pk=source.pk).merged_into_id == third.pk


# --- escalation -------------------------------------------------------------------------------------------


def test_complaint_escalates_at_threshold_then_overdue_once_each(authority):
    complaint = open_ticket(authority, kind=TicketKind.COMPLAINT, opened_at=at(2025, 6, 9, 9, 0))
    due = complaint.resolution_due_at  # 2025-06-13 17:30 (5 × 420 = 2100 minutes)
    assert svc.escalate_due_tickets(now=at(2025, 6, 12, 9, 0)) == 0  # 3 days = 60 %
    threshold = sla.add_business_minutes(complaint.opened_at, 1680)  # 80 %
    assert svc.escalate_due_tickets(now=threshold) == 1
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1 and complaint.escalated_at == threshold
    assert svc.escalate_due_tickets(now=threshold + dt.timedelta(minutes=5)) == 0  # idempotent
    assert svc.escalate_due_tickets(now=due) == 1
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2
    assert svc.escalate_due_tickets(now=due + dt.timedelta(days=1)) == 0
    assert complaint.messages.filter(direction="note").count() == 2


def test_consultation_escalates_only_when_overdue_and_waiting_stops_it(authority, agent):
    ticket = open_ticket(authority, opened_at=at(2025, 6, 9, 9, 0))
    assert svc.escalate_due_tickets(now=at(2025, 6, 10, 16, 0)) == 0
    waiting = open_ticket(authority, external_id="w", opened_at=at(2025, 6, 9, 9, 0))
    svc.ticket_transition(ticket=waiting, action="assign", actor=agent)
    svc.ticket_transition(ticket=Ticket.objects.get(pk=waiting.pk), action="wait_for_customer", actor=agent)
    Ticket.objects.filter(pk=waiting.pk).update(waiting_since=at(2025, 6, 9, 10, 0))
    assert svc.escalate_due_tickets(now=at(2025, 6, 12, 9, 0)) == 1
    assert Ticket.objects.get(pk=ticket.pk).escalation_level == 2
    assert Ticket.objects.get(pk=waiting.pk).escalation_level == 0


# --- CSAT -------------------------------------------------------------------------------------------------


def _closed(authority, agent, **kwargs):
    ticket = open_ticket(authority, **kwargs)
    ticket = svc.ticket_transition(ticket=ticket, action="resolve", actor=agent)
    return svc.ticket_transition(ticket=ticket, action="close", actor=agent)


def test_csat_once_in_range(authority, agent):
    ticket = _closed(authority, agent)
    with pytest.raises(ValidationError):
        svc.ticket_submit_csat(token=ticket.csat_token, score=6)
    with pytest.raises(ValidationError):
        svc.ticket_submit_csat(token=ticket.csat_token, score="很好")
    with pytest.raises(ValidationError):
        svc.ticket_submit_csat(token=ticket.csat_token, score=5, comment="好" * 501)
    rated = svc.ticket_submit_csat(token=ticket.csat_token, score=5, comment="解答清楚")
    assert (rated.csat_score, rated.csat_comment) == (5, "解答清楚") and rated.csat_at
    with pytest.raises(svc.CsatAlreadySubmitted):
        svc.ticket_submit_csat(token=ticket.csat_token, score=1)


def test_csat_token_must_be_valid_closed_and_fresh(authority, agent):
    open_one = open_ticket(authority)
    with pytest.raises(svc.CsatUnavailable):
        svc.ticket_submit_csat(token=open_one.csat_token, score=5)
    with pytest.raises(svc.CsatUnavailable):
        svc.ticket_submit_csat(token="nonsense", score=5)
    with pytest.raises(svc.CsatUnavailable):
        svc.ticket_submit_csat(token="", score=5)
    ticket = _closed(authority, agent, external_id="z")
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=31))
    with pytest.raises(svc.CsatUnavailable, match="过期"):
        svc.ticket_submit_csat(token=ticket.csat_token, score=5)
