"""The registered consultation figures computed from known calls and tickets, worked out by hand:
answer rate (with and without short abandons), completion with follow-up tickets, satisfaction, service
level, ASA, AHT, business volume, ticket SLA and complaint punctuality — and one query per figure set."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from bizreg.consultation import metrics
from bizreg.consultation.models import CallOutcome, TicketKind, TicketState
from bizreg.consultation.tests.metrics_fixtures import local, make_agent, make_call, make_hotline, make_ticket
from bizreg.core.metrics_registry import get_metric, shared_computation

START, END = dt.date(2025, 3, 3), dt.date(2025, 3, 5)
FAR = local(2099, 1, 1)


@pytest.fixture
def scenario(authority, other_authority, make_user):
    hotline = make_hotline(authority, sl_seconds=20)
    a1 = make_agent(authority, make_user(role="hotline_agent", username="agent_a"), "Agent/1001")
    a2 = make_agent(authority, make_user(role="hotline_agent", username="agent_b"), "Agent/1002")
    day = dict(year=2025, month=3, day=3)

    resolved_follow_up = make_ticket(
        authority,
        opened_at=local(**day, hour=9),
        kind=TicketKind.FOLLOW_UP,
        state=TicketState.RESOLVED,
        due_at=local(2025, 3, 6),
        resolved_at=local(**day, hour=16),
    )
    open_follow_up = make_ticket(
        authority,
        opened_at=local(**day, hour=9),
        kind=TicketKind.FOLLOW_UP,
        state=TicketState.OPEN,
        due_at=FAR,
    )
    survivor = make_ticket(
        authority,
        opened_at=local(**day, hour=8),
        state=TicketState.CLOSED,
        due_at=local(2025, 3, 5),
        resolved_at=local(2025, 3, 4, 11),
        csat=5,
    )
    merged_follow_up = make_ticket(
        authority,
        opened_at=local(**day, hour=9),
        kind=TicketKind.FOLLOW_UP,
        state=TicketState.MERGED,
        due_at=local(2025, 3, 4),
        merged_into=survivor,
    )
    calls = {
        1: make_call(hotline, offered_at=local(**day, hour=9), line_position=1, agent=a1, wait=10, talk=100,
                     hold=20, wrap=30, resolved=True, score=5),
        2: make_call(hotline, offered_at=local(**day, hour=9, minute=5), line_position=1, agent=a1, wait=30,
                     talk=200, wrap=10, follow_up_ticket=resolved_follow_up, score=3),
        3: make_call(hotline, offered_at=local(**day, hour=9, minute=6), line_position=2, agent=a2, wait=20,
                     talk=60, follow_up_ticket=open_follow_up, score=4),
        4: make_call(hotline, offered_at=local(**day, hour=14), line_position=3, agent=a2, wait=5, talk=40,
                     follow_up_ticket=merged_follow_up),
        5: make_call(hotline, offered_at=local(**day, hour=14, minute=1), outcome=CallOutcome.ABANDONED,
                     wait=3),
        6: make_call(hotline, offered_at=local(**day, hour=14, minute=2), outcome=CallOutcome.ABANDONED,
                     wait=40),
        7: make_call(hotline, offered_at=local(**day, hour=9, minute=7), outcome=CallOutcome.BUSY),
        8: make_call(hotline, offered_at=local(**day, hour=15), outcome=CallOutcome.MISSED, wait=60),
        9: make_call(hotline, offered_at=local(2025, 3, 4, 10), line_position=1, agent=a1, talk=100,
                     resolved=True),
    }  # fmt: skip
    # Just outside the period, on both sides, and another authority's call inside it.
    make_call(hotline, offered_at=local(2025, 3, 5, 0, 0, 0), talk=999, score=1)
    make_call(hotline, offered_at=local(2025, 3, 2, 23, 59, 59), talk=999, score=1)
    other = make_hotline(other_authority, number="88888888")
    make_call(other, offered_at=local(**day, hour=10), outcome=CallOutcome.BUSY)
    make_ticket(
        other_authority, opened_at=local(**day, hour=10), kind=TicketKind.COMPLAINT, due_at=local(**day)
    )

    # Tickets: complaints on time, late, overdue and open; not yet due; no deadline.
    noon = local(2025, 3, 4, 12)
    make_ticket(
        authority,
        opened_at=local(**day, hour=10),
        kind=TicketKind.COMPLAINT,
        state=TicketState.RESOLVED,
        due_at=noon,
        resolved_at=local(2025, 3, 4, 10),
    )
    make_ticket(
        authority,
        opened_at=local(**day, hour=10),
        kind=TicketKind.COMPLAINT,
        state=TicketState.CLOSED,
        due_at=noon,
        resolved_at=local(2025, 3, 4, 15),
        csat=2,
    )
    make_ticket(
        authority,
        opened_at=local(**day, hour=11),
        kind=TicketKind.COMPLAINT,
        state=TicketState.OPEN,
        due_at=noon,
    )
    make_ticket(authority, opened_at=local(2025, 3, 4, 9), state=TicketState.OPEN, due_at=FAR)
    make_ticket(authority, opened_at=local(2025, 3, 4, 9), channel="email")
    return {"hotline": hotline, "calls": calls, "ids": [authority.pk]}


def value(key: str, ids) -> Decimal:
    return get_metric(key).compute(ids, START, END)


@pytest.mark.django_db
def test_hotline_figures_from_known_calls(scenario):
    ids = scenario["ids"]
    assert value("consultation.hotline_answer_rate", ids) == Decimal("55.56")  # 5 answered ÷ 9 offered
    assert value("consultation.hotline_abandon_rate", ids) == Decimal("22.22")  # 2 ÷ 9
    assert value("consultation.hotline_service_level", ids) == Decimal("80.00")  # waits 10, 20, 5, 0 ≤ 20 s
    assert value("consultation.hotline_asa_seconds", ids) == Decimal("13.0")  # (10+30+20+5+0) ÷ 5
    assert value("consultation.hotline_aht_seconds", ids) == Decimal("112.0")  # (150+210+60+40+100) ÷ 5
    # Resolved on the call (1, 9), follow-up resolved (2), follow-up merged into a closed ticket (4).
    assert value("consultation.hotline_completion_rate", ids) == Decimal("80.00")
    assert value("consultation.satisfaction_rate", ids) == Decimal("66.67")  # scores 5, 3, 4 → 2 of 3


@pytest.mark.django_db
def test_short_abandons_leave_the_offered_calls_when_configured(scenario, settings):
    ids = scenario["ids"]
    settings.CONSULTATION_SHORT_ABANDON_SECONDS = 5  # call 5 hung up after 3 s
    assert value("consultation.hotline_answer_rate", ids) == Decimal("62.50")  # 5 ÷ 8
    assert value("consultation.hotline_abandon_rate", ids) == Decimal("12.50")  # 1 ÷ 8
    figures = metrics.call_figures(ids, START, END)
    assert (figures.offered, figures.short_abandoned) == (8, 1)
    settings.CONSULTATION_SHORT_ABANDON_SECONDS = 41  # both abandons (3 s and 40 s) are now "short"
    assert value("consultation.hotline_abandon_rate", ids) == Decimal("0.00")
    settings.CONSULTATION_SHORT_ABANDON_SECONDS = -1
    with pytest.raises(ImproperlyConfigured, match="CONSULTATION_SHORT_ABANDON_SECONDS"):
        value("consultation.hotline_answer_rate", ids)


@pytest.mark.django_db
def test_completion_follows_the_follow_up_ticket_to_its_end(scenario):
    ids = scenario["ids"]
    open_ticket = scenario["calls"][3].follow_up_ticket
    open_ticket.state = TicketState.CLOSED
    open_ticket.save(update_fields=["state"])
    assert value("consultation.hotline_completion_rate", ids) == Decimal("100.00")
    open_ticket.state = TicketState.OPEN  # reopened: no longer complete
    open_ticket.save(update_fields=["state"])
    assert value("consultation.hotline_completion_rate", ids) == Decimal("80.00")


@pytest.mark.django_db
def test_business_volume_and_ticket_figures(scenario):
    ids = scenario["ids"]
    # 5 answered calls + 6 tickets (follow-ups of calls and the merged duplicate are not counted again).
    assert value("consultation.business_volume", ids) == Decimal(11)
    # Judged: 3 complaints (past due), the closed survivor and the resolved follow-up; on time: 3 of 5.
    assert value("consultation.tickets_resolved_within_sla_rate", ids) == Decimal("60.00")
    assert value("consultation.complaints_closed_on_time_rate", ids) == Decimal("33.33")
    assert value("consultation.online_satisfaction_rate", ids) == Decimal("50.00")


@pytest.mark.django_db
def test_other_authorities_and_empty_periods(scenario, other_authority):
    assert value("consultation.hotline_answer_rate", [other_authority.pk]) == Decimal("0.00")
    assert metrics.call_figures([other_authority.pk], START, END).blocked == 1
    empty = get_metric("consultation.hotline_answer_rate").compute(
        scenario["ids"], dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    )
    assert empty == Decimal(0)
    assert get_metric("consultation.hotline_asa_seconds").compute([], START, END) == Decimal(0)


@pytest.mark.django_db
def test_one_query_per_figure_set_inside_a_shared_computation(scenario, django_assert_num_queries):
    ids = scenario["ids"]
    call_keys = [
        "consultation.hotline_answer_rate",
        "consultation.hotline_completion_rate",
        "consultation.satisfaction_rate",
        "consultation.hotline_abandon_rate",
        "consultation.hotline_service_level",
        "consultation.hotline_asa_seconds",
        "consultation.hotline_aht_seconds",
    ]
    ticket_keys = [
        "consultation.tickets_resolved_within_sla_rate",
        "consultation.complaints_closed_on_time_rate",
        "consultation.online_satisfaction_rate",
        "consultation.business_volume",
    ]
    with django_assert_num_queries(2), shared_computation():
        for key in call_keys + ticket_keys:
            value(key, ids)


def test_every_key_the_performance_catalog_uses_is_registered_and_defined_in_chinese():
    from bizreg.performance.catalog import SEED_INDICATORS

    used = {i.metric_key for i in SEED_INDICATORS if i.metric_key.startswith("consultation.")}
    used |= {
        i.auto[0]
        for i in SEED_INDICATORS
        if getattr(i, "auto", None) and i.auto[0].startswith("consultation.")
    }
    expected = used | {
        "consultation.business_volume",
        "consultation.hotline_abandon_rate",
        "consultation.hotline_service_level",
        "consultation.hotline_asa_seconds",
        "consultation.hotline_aht_seconds",
        "consultation.tickets_resolved_within_sla_rate",
        "consultation.complaints_closed_on_time_rate",
    }
    assert {"consultation.hotline_answer_rate", "consultation.hotline_completion_rate"} <= used
    for key in expected:
        metric = get_metric(key)
        assert metric.label and metric.unit and len(metric.definition) > 30
        assert metric.records_url is not None


@pytest.mark.django_db
def test_drill_down_urls_point_at_the_call_and_ticket_lists():
    calls = reverse("consultation:call_list")
    tickets = reverse("consultation:ticket_list")
    url = get_metric("consultation.hotline_abandon_rate").drill_down_url([1], START, END)
    assert url.startswith(calls) and "date_from=2025-03-03" in url and "date_to=2025-03-04" in url
    assert "outcome=abandoned" in url
    url = get_metric("consultation.complaints_closed_on_time_rate").drill_down_url([1], START, END)
    assert url.startswith(tickets) and "kind=complaint" in url
