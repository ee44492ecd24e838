"""The tracking figures against the hand-counted quarter (fixtures_reports), the report's own figures and
their drill-downs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from bizreg.core.metrics_registry import all_metrics, get_metric
from bizreg.tracking.tests.fixtures_reports import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_reports import MARCH, Q1

pytestmark = pytest.mark.django_db
KEYS = (
    "tracking.visits_done",
    "tracking.visits_completion_rate",
    "tracking.appeals_closed_on_time_rate",
    "tracking.appeal_satisfaction_rate",
    "tracking.net_migration",
)


def value(key: str, authority, period=Q1) -> Decimal:
    return get_metric(key).compute([authority.pk], *period)


def test_registered_with_definitions():
    registered = {m.key: m for m in all_metrics()}
    for key in KEYS:
        metric = registered[key]
        assert metric.label and metric.unit and metric.definition and metric.records_url


def test_quarter_values(authority, quarter):
    assert value("tracking.visits_done", authority) == Decimal(3)
    assert value("tracking.visits_completion_rate", authority) == Decimal("50.00")
    assert value("tracking.appeals_closed_on_time_rate", authority) == Decimal("75.00")
    assert value("tracking.appeal_satisfaction_rate", authority) == Decimal("66.67")
    assert value("tracking.net_migration", authority) == Decimal(1)


def test_month_values(authority, quarter):
    assert value("tracking.visits_done", authority, MARCH) == Decimal(1)
    assert value("tracking.visits_completion_rate", authority, MARCH) == Decimal("50.00")
    assert value("tracking.appeals_closed_on_time_rate", authority, MARCH) == Decimal("50.00")
    assert value("tracking.appeal_satisfaction_rate", authority, MARCH) == Decimal("50.00")
    assert value("tracking.net_migration", authority, MARCH) == Decimal(0)
    february = (dt.date(2023, 2, 1), dt.date(2023, 3, 1))
    assert value("tracking.net_migration", authority, february) == Decimal(0)
    december = (dt.date(2022, 12, 1), dt.date(2023, 1, 1))
    assert value("tracking.net_migration", authority, december) == Decimal(-1)


def test_other_authority_and_empty_periods(authority, other_authority, quarter):
    assert value("tracking.net_migration", other_authority) == Decimal(-1)
    for key in KEYS[:4]:
        assert value(key, other_authority) == Decimal(0)
    empty = (dt.date(2021, 1, 1), dt.date(2021, 2, 1))
    for key in KEYS:
        assert value(key, authority, empty) == Decimal(0)


def test_the_report_says_the_same(authority, officer, quarter):
    from bizreg.tracking.services.reports import report_generate

    figures = report_generate(
        authority=authority, period="quarter", period_start=Q1[0], actor=officer
    ).content["figures"]
    assert Decimal(figures["visits"]["done"]) == value("tracking.visits_done", authority)
    assert Decimal(figures["visits"]["completion_rate"]) == value(
        "tracking.visits_completion_rate", authority
    )
    assert Decimal(figures["appeals"]["on_time_rate"]) == value(
        "tracking.appeals_closed_on_time_rate", authority
    )
    assert Decimal(figures["appeals"]["satisfaction_rate"]) == value(
        "tracking.appeal_satisfaction_rate", authority
    )
    assert Decimal(figures["migration"]["net"]) == value("tracking.net_migration", authority)


@pytest.mark.parametrize(
    ("key", "url_name", "expected"),
    [
        ("tracking.visits_done", "tracking:visit_list", {"state": "submitted", "visited_from": "2023-01-01"}),
        ("tracking.visits_completion_rate", "tracking:visit_list", {"visited_to": "2023-03-31"}),
        (
            "tracking.appeals_closed_on_time_rate",
            "tracking:appeal_list",
            {"state": "closed", "closed_to": "2023-03-31"},
        ),
        ("tracking.appeal_satisfaction_rate", "tracking:appeal_list", {"closed_from": "2023-01-01"}),
        ("tracking.net_migration", "tracking:migration_list", {"period": "range", "date_from": "2023-01-01"}),
    ],
)
def test_drill_down_urls(key, url_name, expected, authority):
    url = get_metric(key).drill_down_url([authority.pk], *Q1)
    parts = urlsplit(url)
    assert parts.path == reverse(url_name)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert expected.items() <= query.items()


def test_drill_downs_list_the_records_behind_the_figures(client_for, authority, officer, quarter):
    client = client_for(officer)
    page = client.get(get_metric("tracking.visits_done").drill_down_url([authority.pk], *Q1)).content.decode()
    for name in ("V1", "V2", "V3"):
        assert quarter[name].number in page
    for name in ("V4", "V5"):
        assert quarter[name].number not in page
    page = client.get(
        get_metric("tracking.appeals_closed_on_time_rate").drill_down_url([authority.pk], *Q1)
    ).content.decode()
    for name in ("A1", "A2", "A3", "A5"):
        assert quarter[name].number in page
    for name in ("A4", "A6", "A7"):
        assert quarter[name].number not in page
    response = client.get(get_metric("tracking.net_migration").drill_down_url([authority.pk], *Q1))
    assert response.status_code == 200
    assert response.content.decode().count("迁移测试") == 5
