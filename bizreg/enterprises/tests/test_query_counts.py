"""Pinned query counts: the list page and the API cost the same number of queries for 3 rows or 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bizreg.enterprises import services
from bizreg.testing.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

# Session (read + save), user, permissions (1), the user's authorities and their districts, the capped
# count, the page rows (street and lock flag in the same query), the filter form's streets, the layout's
# navigation; the API adds the former names (one prefetch). A search adds one former-name lookup per word.
LIST_PAGE_QUERIES = 13
API_LIST_QUERIES = 11
DETAIL_QUERIES = 16  # + person-roles and rescissions (one query each)


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def populated(authority, investigator):
    def fill(n):
        rows = EnterpriseFactory.create_batch(n, authority=authority)
        services.enterprise_lock(enterprise=rows[0], actor=investigator, reason="x")
        return rows

    return fill


@pytest.mark.parametrize(
    "url, params, pinned",
    [
        ("/enterprises/", {}, LIST_PAGE_QUERIES),
        ("/enterprises/", {"q": "测试", "status": "active", "locked": "0"}, LIST_PAGE_QUERIES + 1),
        ("/api/enterprises/", {}, API_LIST_QUERIES),
        ("/api/enterprises/", {"q": "gznscs"}, API_LIST_QUERIES + 1),
    ],
)
def test_list_query_count_does_not_grow_with_rows(client_for, clerk, populated, url, params, pinned):
    if connection.vendor == "postgresql" and url == "/enterprises/" and not params:
        pinned += 1  # the planner's row estimate that replaces COUNT(*) on an unfiltered list
    client = client_for(clerk)
    populated(3)
    few = count_queries(client, url, params)
    populated(50)
    many = count_queries(client, url, params)
    assert few == many <= pinned


def test_detail_query_count_does_not_grow_with_history(
    client_for, clerk, create, django_assert_max_num_queries
):
    enterprise = create()
    client = client_for(clerk)
    first = count_queries(client, f"/enterprises/{enterprise.pk}/")
    for i in range(10):
        enterprise = services.enterprise_update(enterprise=enterprise, actor=clerk, name=f"改名{i}有限公司")
    assert count_queries(client, f"/enterprises/{enterprise.pk}/") == first <= DETAIL_QUERIES
