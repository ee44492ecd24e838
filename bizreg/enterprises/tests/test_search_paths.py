"""The search's fast paths return what the plain query returns: a USCC or USCC prefix through the code
index, and a page read by the ids the count collected (see selectors.EnterprisePaginator)."""

import datetime as dt
import re

import pytest

from bizreg.core.identifiers import build_uscc
from bizreg.enterprises import selectors
from bizreg.enterprises.filters import SORTS, is_uscc_shaped
from bizreg.testing.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return re.findall(
        r'data-testid="enterprise-link" href="/enterprises/\d+/">([^<]*)</a>', response.content.decode()
    )


@pytest.fixture
def coded(authority):
    """Five enterprises with codes 91440115 + 77700001…77700005, established one a year."""
    return [
        EnterpriseFactory(
            authority=authority,
            uscc=build_uscc("440115", f"7770000{n}"),
            name=f"广州代码{n}号贸易有限公司",
            established_on=dt.date(2010 + n, 3, 1),
        )
        for n in range(1, 6)
    ]


@pytest.mark.parametrize(
    "term, shaped",
    [
        ("91440115MA59C7R270", True),  # a full code
        ("91440115ma59c7r270", True),  # typed in lower case
        ("914401", True),  # the shortest prefix looked up as a code
        ("91440115MA", True),
        ("91440", False),  # five digits: may be part of a name
        ("9144011", True),
        ("9144011A", False),  # the first eight characters of every code are digits
        ("91440115MA59C7R2701", False),  # 19 characters
        ("91440115SA59C7R270", False),  # S is not in the USCC alphabet
        ("９１４４０１１５", False),  # full-width digits
        ("gznshg", False),
    ],
)
def test_which_words_are_looked_up_as_codes(term, shaped):
    assert is_uscc_shaped(term) is shaped


def test_full_code_finds_that_enterprise_only(client_for, clerk, coded):
    target = coded[2]
    for term in (target.uscc, target.uscc.lower()):
        response = client_for(clerk).get("/enterprises/", {"q": term})
        assert names(response) == [target.name]
        assert "共 1 条" in response.content.decode()


def test_code_prefix_lists_every_code_starting_with_it_newest_first(client_for, clerk, coded, authority):
    elsewhere = EnterpriseFactory(
        authority=authority, uscc=build_uscc("440106", "77700010"), established_on=dt.date(2000, 1, 1)
    )
    newest_first = [e.name for e in reversed(coded)]
    assert names(client_for(clerk).get("/enterprises/", {"q": coded[0].uscc[:14]})) == newest_first
    assert names(client_for(clerk).get("/enterprises/", {"q": "91440115"})) == newest_first
    assert names(client_for(clerk).get("/enterprises/", {"q": "914401"})) == [*newest_first, elsewhere.name]


def test_code_of_another_authority_is_not_found(client_for, clerk, other_authority):
    hidden = EnterpriseFactory(authority=other_authority, uscc=build_uscc("440106", "77700099"))
    for term in (hidden.uscc, hidden.uscc[:10]):
        assert names(client_for(clerk).get("/enterprises/", {"q": term})) == []


def test_short_digit_word_is_still_searched_in_names(client_for, clerk, authority, coded):
    EnterpriseFactory(authority=authority, name="广州12345科技有限公司")
    assert names(client_for(clerk).get("/enterprises/", {"q": "12345"})) == ["广州12345科技有限公司"]


def test_code_with_a_forbidden_letter_is_searched_as_a_word(client_for, clerk, authority, coded):
    # Not a code (S is never in one), so it is looked for in names and initials like any word.
    EnterpriseFactory(authority=authority, name="广州91440115SA贸易有限公司")
    assert names(client_for(clerk).get("/enterprises/", {"q": "91440115sa"})) == [
        "广州91440115SA贸易有限公司"
    ]


def test_code_search_through_the_api(client_for, clerk, coded):
    response = client_for(clerk).get("/api/enterprises/", {"q": coded[0].uscc[:12]})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5 and body["count_capped"] is False
    assert [row["name"] for row in body["results"]] == [e.name for e in reversed(coded)]


@pytest.fixture
def initials_register(authority):
    """57 enterprises whose initials contain "hgkj" (广州海港科技…), dates, capitals and names varied with
    ties, and 5 others."""
    rows = [
        EnterpriseFactory(
            authority=authority,
            name=f"广州海港科技{n:02d}有限公司",
            established_on=dt.date(2015 + n % 7, 1 + n % 12, 1),  # many share a date: the id breaks ties
            registered_capital=n % 4 * 100_000,
        )
        for n in range(57)
    ]
    for n in range(5):
        EnterpriseFactory(authority=authority, name=f"广州精工制造{n}有限公司")
    return rows


@pytest.mark.parametrize("sort", ["", *SORTS])
def test_initials_pages_match_the_plain_query_in_every_order(clerk, initials_register, sort):
    params = {"q": "hgkj", "sort": sort} if sort else {"q": "hgkj"}
    expected = list(selectors.enterprise_search(user=clerk, params=params).values_list("pk", flat=True))
    assert sorted(expected) == sorted(e.pk for e in initials_register)
    first = selectors.enterprise_page(user=clerk, params=params)
    second = selectors.enterprise_page(user=clerk, params={**params, "page": "2"})
    assert first.paginator.count == 57 and not first.paginator.count_is_capped
    assert first.paginator.matching_ids is not None  # read by ids, not by the search again
    assert [e.pk for e in first] + [e.pk for e in second] == expected
    assert len(first) == 50


def test_initials_list_newest_first_on_the_page(client_for, clerk, initials_register):
    shown = names(client_for(clerk).get("/enterprises/", {"q": "hgkj"}))
    by_date = sorted(initials_register, key=lambda e: (e.established_on, e.pk), reverse=True)
    assert shown == [e.name for e in by_date[:50]]
    shown = names(client_for(clerk).get("/enterprises/", {"q": "HGKJ", "page": 2}))
    assert shown == [e.name for e in by_date[50:]]


def test_past_the_cap_pages_come_from_the_search_itself(clerk, initials_register):
    search = selectors.enterprise_search(user=clerk, params={"q": "hgkj"})
    paginator = selectors.EnterprisePaginator(search, 10, count_cap=20)
    page = paginator.page(2)
    assert paginator.count == 20 and paginator.count_is_capped and paginator.matching_ids is None
    assert [e.pk for e in page] == list(search.values_list("pk", flat=True))[10:20]


def test_nothing_found_is_an_empty_first_page(clerk, initials_register):
    page = selectors.enterprise_page(user=clerk, params={"q": "不存在的名字"})
    assert page.paginator.count == 0 and list(page) == [] and page.number == 1


def test_ids_page_keeps_the_lock_flag_and_other_filters(clerk, investigator, initials_register):
    from bizreg.enterprises import services

    locked = initials_register[3]
    services.enterprise_lock(enterprise=locked, actor=investigator, reason="核查")
    page = selectors.enterprise_page(user=clerk, params={"q": "hgkj", "locked": "1"})
    assert [(e.pk, e.is_locked) for e in page] == [(locked.pk, True)]
    page = selectors.enterprise_page(user=clerk, params={"q": "hgkj"})
    assert {e.pk for e in page if e.is_locked} <= {locked.pk}
    assert all(e.street.name for e in page)


def test_other_authoritys_matches_are_neither_counted_nor_listed(clerk, other_authority, initials_register):
    EnterpriseFactory.create_batch(3, authority=other_authority, name="天河海港科技有限公司")
    page = selectors.enterprise_page(user=clerk, params={"q": "hgkj"})
    assert page.paginator.count == 57
    assert {e.authority_id for e in page} == {initials_register[0].authority_id}
