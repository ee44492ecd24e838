"""The case list's search box for enterprise-name fragments of every length: two characters (answered by
the character-pair column on PostgreSQL) must match exactly what a longer fragment's `contains` matches —
anywhere in the name, case-insensitively, only adjacent characters — and stay ORed with the other keys."""

from __future__ import annotations

import pytest

from bizreg.registration.selectors import cases as selectors
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures

pytestmark = pytest.mark.django_db


def found(user, q: str, **params) -> set[str]:
    listing = selectors.case_listing(user=user, params={"q": q, **params})
    return {case.enterprise_name for case, _status in listing.rows}


@pytest.fixture
def names(intake):
    made = {}
    for name in (
        "广州麒港贸易有限公司",  # 麒港 at the start of the trade name
        "广州南沙新麒港科技有限公司",  # 麒港 in the middle
        "广州麒X港物流有限公司",  # 麒 and 港, not adjacent
        "广州Ab咨询有限公司",  # Latin letters, mixed case
        "广州港麒餐饮有限公司",  # the same characters in the other order
    ):
        made[name] = intake("establishment", enterprise_name=name)
    return made


def test_two_character_name_search_matches_adjacent_characters_anywhere(clerk, names):
    assert found(clerk, "麒港") == {"广州麒港贸易有限公司", "广州南沙新麒港科技有限公司"}
    assert found(clerk, "港麒") == {"广州港麒餐饮有限公司"}
    assert found(clerk, "X港") == {"广州麒X港物流有限公司"}


def test_two_character_name_search_ignores_case(clerk, names):
    for q in ("ab", "AB", "aB", " Ab "):
        assert found(clerk, q) == {"广州Ab咨询有限公司"}, q


def test_two_character_search_agrees_with_the_longer_fragments(clerk, names):
    assert found(clerk, "麒港贸") == {"广州麒港贸易有限公司"}
    assert found(clerk, "新麒港") == {"广州南沙新麒港科技有限公司"}
    assert found(clerk, "麒港") == found(clerk, "麒港贸") | found(clerk, "新麒港")


def test_two_character_search_finds_nothing_for_absent_pairs_and_combines_with_filters(clerk, names):
    assert found(clerk, "易科") == set()
    assert found(clerk, "麒港", case_type="change") == set()
    assert found(clerk, "麒港", state="received") == {"广州麒港贸易有限公司", "广州南沙新麒港科技有限公司"}


def test_two_character_search_still_matches_the_applicant(clerk, names, intake):
    case = intake("establishment", enterprise_name="广州其他名称有限公司", applicant_name="麒港")
    expected = {"广州麒港贸易有限公司", "广州南沙新麒港科技有限公司", case.enterprise_name}
    assert found(clerk, "麒港") == expected


def test_two_character_search_stays_within_the_clerks_authority(
    clerk, names, other_authority, make_user, intake_data
):
    from bizreg.registration.services import cases as services
    from bizreg.testing.factories import street_for_authority

    elsewhere = make_user("registration_clerk", authorities=[other_authority])
    data = intake_data("establishment", enterprise_name="广州天河麒港商行有限公司")
    data["requested_changes"]["street"] = street_for_authority(other_authority).pk
    services.case_intake(authority=other_authority, actor=elsewhere, data=data)
    assert "广州天河麒港商行有限公司" not in found(clerk, "麒港")
    assert found(elsewhere, "麒港") == {"广州天河麒港商行有限公司"}


def test_two_character_search_through_the_api(client_for, clerk, names):
    response = client_for(clerk).get("/api/registration-cases/", {"q": "麒港"})
    assert response.status_code == 200
    data = response.json()
    rows = data["results"] if isinstance(data, dict) else data
    assert {row["enterprise_name"] for row in rows} == {"广州麒港贸易有限公司", "广州南沙新麒港科技有限公司"}
