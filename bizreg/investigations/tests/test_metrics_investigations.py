"""The investigations figures (indicators 5 and 9) on a small hand-counted set of cases made through the
services, with their drill-down to the case list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from bizreg.core.metrics_registry import get_metric
from bizreg.investigations.services import cases as services
from bizreg.investigations.services.survey import survey_answer
from bizreg.investigations.tests.services_fixtures import *  # noqa: F403 — fixtures
from bizreg.investigations.tests.services_fixtures import OTHER_VICTIM_ID, at
from bizreg.performance.catalog import SEED_INDICATORS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
D = dt.date
MARCH = (D(2026, 3, 1), D(2026, 4, 1))
KEYS = (
    "investigations.cases_handled",
    "investigations.closed_within_deadline_rate",
    "investigations.revocations",
    "investigations.victim_satisfaction_rate",
)


def decide(case, manager, outcome, **extra):
    kwargs = {"legal_basis": "《市场主体登记管理条例》第四十条", "reasoning": "经查。"}
    if outcome == "not_revoked":
        kwargs["non_revocation_ground"] = "confirmed"
    kwargs.update(extra)
    return services.case_decide(case=case, actor=manager, outcome=outcome, **kwargs).case


@pytest.fixture
def march(accepted, receive, enterprise, investigator, manager, clock, authority):
    """In March 2026 (the clock at 2 March unless moved):
    A revoked (all) and closed 3 March, within its deadline; survey answered 5
    B not revoked, closed 3 March, within; survey answered 2
    C not accepted 2 March, closed 9 March: late (acceptance was due 5 March); survey not answered
    D revoked (items) 3 March, still open (decided, not closed): a revocation, not handled
    E accepted, still investigating: nothing
    """
    a = accepted()
    b = accepted()
    c = services.case_not_accept(
        case=receive(reporter={"name": "李四", "id_number": OTHER_VICTIM_ID, "phone": ""}).case,
        actor=investigator,
        reason="不属冒用",
    )
    d = accepted()
    accepted()
    clock(at(D(2026, 3, 3)))
    a = services.case_close(case=decide(a, manager, "revoke_all"), actor=investigator)
    b = services.case_close(case=decide(b, manager, "not_revoked"), actor=investigator)
    decide(d, manager, "revoke_items", items=["legal_rep"])
    clock(at(D(2026, 3, 5)))
    survey_answer(token=a.survey.token, score=5)
    survey_answer(token=b.survey.token, score=2)
    clock(at(D(2026, 3, 9)))
    services.case_close(case=c, actor=investigator)
    return authority


def value(key: str, authority, period=MARCH) -> Decimal:
    return get_metric(key).compute([authority.pk], *period)


def test_keys_registered_as_the_catalog_names_them():
    for key in KEYS:
        assert get_metric(key).key == key
    referenced = {i.metric_key for i in SEED_INDICATORS} | {
        i.numeric_alternative[0] for i in SEED_INDICATORS if i.numeric_alternative
    }
    referenced = {key for key in referenced if key.startswith("investigations.")}
    assert referenced and referenced <= set(KEYS)
    assert referenced <= set(KEYS)


def test_figures(march):
    assert value("investigations.cases_handled", march) == Decimal(3)
    assert value("investigations.closed_within_deadline_rate", march) == Decimal("66.67")
    assert value("investigations.revocations", march) == Decimal(2)
    assert value("investigations.victim_satisfaction_rate", march) == Decimal("50.00")


def test_period_and_authority_bounds(march, other_authority):
    april = (D(2026, 4, 1), D(2026, 5, 1))
    for key in KEYS:
        assert value(key, march, april) == Decimal(0)
        assert get_metric(key).compute([other_authority.pk], *MARCH) == Decimal(0)
    first_days = (D(2026, 3, 1), D(2026, 3, 4))  # closed 3 March counts, 9 March does not
    assert value("investigations.cases_handled", march, first_days) == Decimal(2)
    assert value("investigations.closed_within_deadline_rate", march, first_days) == Decimal("100.00")


def test_drill_down_urls_list_the_records(march, investigator):
    base = reverse("investigations:case_list")
    from urllib.parse import parse_qsl, urlsplit

    from bizreg.investigations.selectors.cases import case_listing

    expected = {
        "investigations.cases_handled": 3,
        "investigations.closed_within_deadline_rate": 3,
        "investigations.revocations": 2,
        "investigations.victim_satisfaction_rate": 2,
    }
    for key, count in expected.items():
        url = get_metric(key).drill_down_url([march.pk], *MARCH)
        parts = urlsplit(url)
        assert parts.path == base
        params = dict(parse_qsl(parts.query))
        assert case_listing(user=investigator, params=params).count() == count, key
