"""The demo year of the consultation module: a hotline year whose figures land where the seed's indicators
say (answer rate ≈ 99.x %, completion 99–100 %, satisfaction ≥ 90 %), tickets whose deadlines are the ones
the services compute, and a knowledge base the engine answers from — written once, deterministically."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from bizreg.accounts.demo import seed_demo_users
from bizreg.consultation import demo, engine, metrics, sla
from bizreg.consultation.demo_content import SYNONYMS, all_articles
from bizreg.consultation.models import (
    Agent,
    AnswerLog,
    Article,
    ArticleUsage,
    ArticleVersion,
    ArticleVersionState,
    Call,
    CallOutcome,
    CallTopic,
    HotlineLine,
    HotlineNumber,
    KnowledgeBaseRevision,
    KnowledgeGap,
    Shift,
    Synonym,
    Ticket,
    TicketKind,
    TicketMessage,
    TicketNumberCounter,
    TicketState,
    TicketTransitionLog,
    Visibility,
)
from bizreg.consultation.services.knowledge import stale_condition
from bizreg.consultation.services.tickets import sla_terms
from bizreg.core.demo import DemoContext, ordered_seeders
from bizreg.core.management.commands.seed_demo import autodiscover_seeders, demo_authority
from bizreg.core.workdays import WorkingCalendar
from bizreg.registration.models import CaseType

SCALE = 0.02
YEAR = 2023
START, END = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)


def _context(authority, *, year: int = YEAR, scale: float = SCALE) -> DemoContext:
    return DemoContext(authority=authority, year=year, scale=scale, stdout=io.StringIO())


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo users and this module's year (the other seeders are not needed here), rolled back at the
    end. Returns (authority id, rows, log)."""
    with django_db_blocker.unblock(), transaction.atomic():
        authority = demo_authority("440115")
        ctx = _context(authority)
        seed_demo_users(ctx)
        rows = demo.seed_consultation_year(ctx)
        yield authority.pk, rows, ctx.stdout.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def authority_id(seeded):
    return seeded[0]


pytestmark = pytest.mark.django_db


# --- the demo articles (no database) ---------------------------------------------------------------------


def test_the_demo_knowledge_base_has_over_310_articles_with_unique_codes():
    articles = all_articles()
    codes = [a.code for a in articles]
    assert len(articles) >= 310
    assert len(set(codes)) == len(codes), [c for c, n in Counter(codes).items() if n > 1]
    assert all(re.fullmatch(r"KB-\d{4}", code) for code in codes)
    assert all(a.topic in CallTopic.values for a in articles)
    assert all(set(a.case_types) <= set(CaseType.values) for a in articles)
    assert all(a.title and a.answer and len(a.variants) >= 2 for a in articles)
    internal = [a for a in articles if a.visibility == Visibility.INTERNAL]
    assert len(internal) >= 5 and all(a.code.startswith("KB-20") for a in internal)


def test_the_materials_and_service_part_fills_its_blocks():
    codes = {a.code[:5] for a in all_articles()}
    assert {"KB-17", "KB-18", "KB-20", "KB-21"} <= codes
    by_code = {a.code: a for a in all_articles()}
    # Registration is free of charge, and on the spot or within 3 working days (REFERENCE.md).
    assert "不收费" in by_code["KB-1801"].answer
    assert "三个工作日" in by_code["KB-1803"].answer and "当场" in by_code["KB-1803"].answer


# --- ordering and refusals -------------------------------------------------------------------------------


def test_the_seeder_runs_after_the_users_and_the_registration_year():
    autodiscover_seeders()
    names = [entry.name for entry in ordered_seeders()]
    assert names.index("accounts.demo_users") < names.index("consultation.year")
    assert names.index("registration.year") < names.index("consultation.year")


def test_a_year_without_calendar_data_is_refused_and_writes_nothing():
    authority = demo_authority("440115")
    _agent_user(authority)
    with pytest.raises(ValueError, match="工作日历尚无数据"), transaction.atomic():
        demo.seed_consultation_year(_context(authority, year=2099))
    assert not HotlineNumber.objects.filter(authority=authority).exists()


def _agent_user(authority):
    """A hotline agent without the demo users' password hashing (slow on purpose)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from bizreg.accounts.roles import ROLE_BY_CODE

    user = get_user_model().objects.create(username="agent_for_test")
    user.authorities.add(authority)
    user.groups.add(Group.objects.get(name=ROLE_BY_CODE["hotline_agent"].name))
    return user


def test_without_hotline_agents_nothing_is_written():
    authority = demo_authority("440115")  # no demo users: nobody holds the hotline_agent role
    ctx = _context(authority)
    assert demo.seed_consultation_year(ctx) == 0
    assert "没有本登记机关的咨询坐席账号" in ctx.stdout.getvalue()
    assert not Call.objects.exists()


# --- the hotline -------------------------------------------------------------------------------------------


def test_the_hotline_has_five_lines_in_hunt_order_and_agents_on_shift(authority_id):
    hotline = HotlineNumber.objects.get(authority_id=authority_id, number="39914115")
    lines = list(HotlineLine.objects.filter(hotline=hotline).order_by("position"))
    assert [(line.position, line.pbx_channel) for line in lines] == [(i, f"SIP/line{i}") for i in range(1, 6)]
    agents = list(Agent.objects.filter(authority_id=authority_id).select_related("user"))
    assert sorted(a.user.username for a in agents) == ["agent", "agent2", "agent3", "agent4", "agent5"]
    assert hotline.history.count() == 1 and Call.history.filter(authority_id=authority_id).exists()
    shifts = Shift.objects.filter(authority_id=authority_id)
    working = set(WorkingCalendar(START, END - dt.timedelta(days=1)).working_days())
    tz = timezone.get_default_timezone()
    windows = {(s.starts_at.astimezone(tz).time(), s.ends_at.astimezone(tz).time()) for s in shifts}
    assert windows == {(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))}
    assert {s.starts_at.astimezone(tz).date() for s in shifts} == working


def test_calls_fall_on_working_days_in_shift_hours_with_the_peaks(authority_id):
    tz = timezone.get_default_timezone()
    offered = [t.astimezone(tz) for t in Call.objects.values_list("offered_at", flat=True)]
    assert len(offered) == round(demo.CALLS_AT_SCALE_1 * SCALE)
    working = set(WorkingCalendar(START, END - dt.timedelta(days=1)).working_days())
    assert {t.date() for t in offered} <= working
    hours = Counter(t.hour for t in offered)
    assert set(hours) <= {9, 10, 11, 13, 14, 15, 16, 17}
    assert hours[10] > hours[13] and hours[15] > hours[17]
    # Mondays carry more than Fridays.
    weekdays = Counter(t.weekday() for t in offered)
    assert weekdays[0] > weekdays[4]


def test_the_linear_hunt_puts_most_calls_on_line_one(authority_id):
    per_line = dict(
        Call.objects.filter(authority_id=authority_id, line__isnull=False)
        .values_list("line__position")
        .annotate(n=Count("pk"))
    )
    counts = [per_line.get(position, 0) for position in range(1, 6)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[1]
    # A blocked call found every line taken: it has no line; every answered call has a line and an agent.
    assert not Call.objects.filter(outcome=CallOutcome.BUSY, line__isnull=False).exists()
    assert not Call.objects.filter(outcome=CallOutcome.ANSWERED, agent__isnull=True).exists()


def test_the_years_indicator_figures_land_in_their_ranges(authority_id):
    figures = metrics.call_figures([authority_id], START, END)
    assert 99 <= metrics.hotline_answer_rate([authority_id], START, END) <= 100  # indicator 2
    assert 99 <= metrics.hotline_completion_rate([authority_id], START, END) <= 100  # indicator 7
    assert metrics.satisfaction_rate([authority_id], START, END) >= 90  # indicator 10 "满意"
    assert 0.25 <= figures.surveyed / figures.answered <= 0.35
    assert 180 <= figures.aht_seconds <= 240  # AHT 3–4 minutes
    assert figures.service_level >= 90
    tickets = metrics.ticket_figures([authority_id], START, END)
    assert tickets.resolved_within_sla_rate >= 90
    assert tickets.csat_surveyed > 0
    volume = metrics.business_volume([authority_id], START, END)
    assert volume == figures.answered + tickets.opened


def test_follow_up_calls_have_closed_tickets(authority_id):
    calls = Call.objects.filter(authority_id=authority_id, needs_follow_up=True).select_related(
        "follow_up_ticket"
    )
    assert calls.exists()
    for call in calls:
        ticket = call.follow_up_ticket
        assert ticket.kind == TicketKind.FOLLOW_UP and ticket.state == TicketState.CLOSED
        assert not call.resolved and ticket.opened_at >= call.ended_at
    assert not Call.objects.filter(resolved=True).exclude(outcome=CallOutcome.ANSWERED).exists()


# --- tickets -----------------------------------------------------------------------------------------------


def test_ticket_deadlines_are_the_services_own(authority_id):
    """Deadlines: opened + the kind's sla_terms in business minutes (consultation.sla), plus the pause."""
    sample = Ticket.objects.filter(authority_id=authority_id).order_by("pk")[::7][:40]
    for ticket in sample:
        terms = sla_terms(authority_id=authority_id, kind=ticket.kind)
        assert ticket.first_response_due_at == sla.add_business_minutes(
            ticket.opened_at, terms.first_response_minutes
        )
        due = sla.add_business_minutes(ticket.opened_at, terms.resolution_minutes)
        assert ticket.resolution_due_at == sla.add_business_minutes(due, ticket.paused_business_minutes)


def test_tickets_tell_a_consistent_story(authority_id):
    tickets = Ticket.objects.filter(authority_id=authority_id)
    channels = set(tickets.values_list("channel", flat=True))
    assert {"web_chat", "wechat", "email", "qq", "phone"} <= channels
    done = tickets.exclude(state=TicketState.MERGED)
    assert not done.exclude(state=TicketState.CLOSED).exists()
    assert not done.filter(resolved_at__lt=F("first_responded_at")).exists()
    assert not done.filter(closed_at__lt=F("resolved_at")).exists()
    # Numbers: ZX + authority code + day + sequence; the day counters continue after the demo's numbers.
    for number, opened in tickets.values_list("number", "opened_at")[:50]:
        day = timezone.localtime(opened).date()
        assert re.fullmatch(rf"ZX440115{day:%Y%m%d}\d{{4}}", number)
    top = Counter()
    for number in tickets.values_list("number", flat=True):
        top[number[8:16]] = max(top[number[8:16]], int(number[16:]))
    counters = {c.day.strftime("%Y%m%d"): c.last for c in TicketNumberCounter.objects.all()}
    assert counters == dict(top)
    # Every ticket opened with an inbound message and an "open" log entry.
    assert not tickets.exclude(messages__direction=TicketMessage.Direction.INBOUND).exists()
    assert TicketTransitionLog.objects.filter(action="open").count() == tickets.count()
    # A channel message id is never used twice.
    ids = TicketMessage.objects.exclude(channel_message_id="").values("channel", "channel_message_id")
    assert ids.annotate(n=Count("pk")).filter(n__gt=1).count() == 0


def test_each_record_was_made_by_whoever_made_it_not_all_by_the_manager(authority_id):
    """The "created" history rows say who made the record: the public's tickets no user, a phoned-in
    ticket its agent, a logged call its agent, an article its owner. The manager's "我的最近操作" on the
    home page lists the manager's own work, not the year's tickets."""
    tickets = Ticket.objects.filter(authority_id=authority_id)
    opened_by = dict(TicketTransitionLog.objects.filter(action="open").values_list("ticket_id", "actor_id"))
    created = Ticket.history.filter(history_type="+", authority_id=authority_id)
    created_by = dict(created.values_list("id", "history_user_id"))
    assert created_by == opened_by and len(created_by) == tickets.count()
    assert None in created_by.values() and any(created_by.values())
    calls = dict(Call.objects.filter(authority_id=authority_id).values_list("pk", "logged_by_id"))
    assert dict(Call.history.filter(history_type="+").values_list("id", "history_user_id")) == calls
    owners = dict(Article.objects.filter(authority_id=authority_id).values_list("pk", "owner_id"))
    assert dict(Article.history.filter(history_type="+").values_list("id", "history_user_id")) == owners
    manager = Article.objects.filter(authority_id=authority_id).values_list("published_version__reviewer_id")
    manager_id = manager.first()[0]
    by_manager = Ticket.history.filter(history_user_id=manager_id).count()
    assert by_manager < tickets.count() / 10


def test_complaints_have_their_own_deadline_and_some_escalate(authority_id):
    complaints = Ticket.objects.filter(authority_id=authority_id, kind=TicketKind.COMPLAINT)
    assert complaints.count() == round(demo.COMPLAINTS_AT_SCALE_1 * SCALE)
    terms = sla_terms(authority_id=authority_id, kind=TicketKind.COMPLAINT)
    for complaint in complaints:
        assert complaint.priority == "high"
        due = sla.add_business_minutes(complaint.opened_at, terms.resolution_minutes)
        assert complaint.resolution_due_at == sla.add_business_minutes(due, complaint.paused_business_minutes)
    escalated = complaints.filter(escalation_level__gte=1)
    assert escalated.exists()
    for complaint in escalated:
        assert complaint.resolved_at >= complaint.escalated_at
        assert complaint.messages.filter(direction=TicketMessage.Direction.NOTE).exists()


def test_merged_duplicates_point_at_the_same_contacts_ticket(authority_id):
    merged = Ticket.objects.filter(authority_id=authority_id, state=TicketState.MERGED).select_related(
        "merged_into"
    )
    assert merged.exists()
    for ticket in merged:
        assert ticket.merged_into.contact_id == ticket.contact_id
        assert ticket.merged_into.opened_at <= ticket.opened_at


# --- the knowledge base ------------------------------------------------------------------------------------


def test_every_demo_article_is_published_and_the_engine_answers_from_it(authority_id):
    articles = all_articles()
    stored = Article.objects.filter(authority_id=authority_id).select_related("published_version")
    assert stored.count() == len(articles)
    by_code = {a.code: a for a in articles}
    for article in stored:
        version = article.published_version
        assert version.state == ArticleVersionState.PUBLISHED
        assert version.title == by_code[article.code].title
        assert version.visibility == by_code[article.code].visibility
    assert ArticleVersion.objects.filter(state=ArticleVersionState.SUPERSEDED).exists()
    assert KnowledgeBaseRevision.objects.get(authority_id=authority_id).revision >= 1
    hits = engine.search(authority_id=authority_id, query="个体户注册要带什么材料", audience="public")
    assert hits and hits[0].code.startswith("KB-01")
    hits = engine.search(authority_id=authority_id, query="办理企业登记要交钱吗", audience="public")
    assert "KB-1801" in [hit.code for hit in hits]
    # Internal articles never reach the public.
    public_codes = {
        h.code for h in engine.search(authority_id=authority_id, query="内部口径 加急", audience="public")
    }
    assert not {c for c in public_codes if c.startswith("KB-20")}


def test_freshness_usage_synonyms_and_gaps(authority_id):
    today = timezone.localdate()
    articles = Article.objects.filter(authority_id=authority_id)
    stale = articles.filter(stale_condition(today))
    assert 0.03 <= stale.count() / articles.count() <= 0.07
    assert not stale.filter(stale_notified_at__isnull=True).exists()
    owners = set(articles.values_list("owner__username", flat=True))
    agents = {"agent", "agent2", "agent3", "agent4", "agent5"}
    assert owners <= agents | {"manager"} and "manager" in owners and owners & agents
    usage = dict(ArticleUsage.objects.values_list("article").annotate(n=Count("pk")))
    assert usage and all(a.usage_count == usage.get(a.pk, 0) for a in articles)
    assert set(Synonym.objects.values_list("term", "canonical")) == set(SYNONYMS)
    assert KnowledgeGap.objects.filter(authority_id=authority_id, status="open").count() == demo.OPEN_GAPS
    handed = AnswerLog.objects.filter(authority_id=authority_id, handed_over=True)
    assert handed.exists() and not handed.filter(ticket__isnull=True).exists()
    assert AnswerLog.objects.filter(handed_over=False, version__isnull=False).exists()
    assert AnswerLog.objects.aggregate(top=Max("score"))["top"] < 1


def test_running_it_again_adds_nothing(seeded):
    assert seeded[1] > 1_000
    before = Call.objects.count(), Ticket.objects.count(), Article.objects.count()
    ctx = _context(demo_authority("440115"))
    assert demo.seed_consultation_year(ctx) == 0
    assert "已存在" in ctx.stdout.getvalue()
    assert (Call.objects.count(), Ticket.objects.count(), Article.objects.count()) == before
