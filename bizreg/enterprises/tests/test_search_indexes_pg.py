"""The PostgreSQL search indexes exist and the planner uses them for the register's search."""

import json

import pytest
from django.db import connection

from bizreg.enterprises import selectors
from bizreg.enterprises.filters import _contains as name_contains
from bizreg.enterprises.models import EnterpriseFormerName
from bizreg.testing.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def test_search_indexes_exist_and_unused_ones_are_gone():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'enterprises_%%'")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "ent_name_upper_trgm",
        "ent_initials_trgm",
        "ent_former_name_upper_trgm",
        "ent_name_bigrams",
        "ent_initials_bigrams",
        "ent_former_name_bigrams",
    } <= names
    assert not {"ent_uscc_pattern", "ent_legal_rep_trgm"} & names


def test_name_bigrams_column_follows_the_name(create, clerk):
    from bizreg.enterprises import services

    enterprise = create(name="广州海港")
    services.enterprise_update(enterprise=enterprise, actor=clerk, name="南沙ab")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name_bigrams FROM enterprises_enterprise WHERE id = %s", [enterprise.pk])
        assert sorted(cursor.fetchone()[0]) == sorted(["南沙", "沙A", "AB"])


def plan_text(queryset) -> str:
    # Only bitmap scans allowed: the plan can then answer the search only through an index whose
    # condition is the search itself, which is what these tests prove (the planner's choice between
    # plans at scale is measured by bench/, not here).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
    return json.dumps(json.loads(queryset.explain(format="json")), ensure_ascii=False)


@pytest.mark.parametrize(
    "q, indexes",
    [
        ("海港科", {"ent_name_upper_trgm", "ent_former_name_upper_trgm"}),
        ("海港", {"ent_name_bigrams", "ent_former_name_bigrams"}),
        ("gznshg", {"ent_initials_trgm", "enterprises_enterprise_uscc_key"}),
        ("qq", {"ent_initials_bigrams", "ent_name_bigrams"}),
        ("91440115", {"enterprises_enterprise_uscc_key"}),
        ("李明", {"enterprises_enterprise_legal_rep_name"}),
    ],
)
def test_search_uses_the_indexes(make_user, authority, q, indexes):
    EnterpriseFactory.create_batch(5, authority=authority)
    superuser = make_user(is_superuser=True)  # no authority condition: only the search itself is planned
    plans = plan_text(selectors.enterprise_search(user=superuser, params={"q": q}).order_by().values("pk"))
    former_names = EnterpriseFormerName.objects.filter(name_contains(EnterpriseFormerName, "name", q))
    plans += plan_text(former_names.values("pk"))
    for index in indexes:
        assert index in plans, plans


def test_unfiltered_list_count_is_an_estimate_above_the_cap(clerk, authority, monkeypatch):
    EnterpriseFactory.create_batch(30, authority=authority)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enterprises_enterprise")
    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    listing = selectors.EnterprisePaginator(
        selectors.enterprise_search(user=clerk, params={}), 5, count_cap=10, allow_estimate=True
    )
    assert listing.count == 30 and listing.count_is_estimate
    assert listing.num_pages == 2


def test_two_character_search_finds_names_and_former_names(clerk, create):
    from bizreg.enterprises import services

    create(name="广州南沙海港科技有限公司")
    renamed = create(name="广州旧港物流有限公司")
    services.enterprise_update(enterprise=renamed, actor=clerk, name="广州新名物流有限公司")
    create(name="广州精工制造有限公司")
    found = selectors.enterprise_search(user=clerk, params={"q": "海港"})
    assert [e.name for e in found] == ["广州南沙海港科技有限公司"]
    assert [e.name for e in selectors.enterprise_search(user=clerk, params={"q": "旧港"})] == [
        "广州新名物流有限公司"
    ]
    assert len(selectors.enterprise_search(user=clerk, params={"q": "有限"})) == 3
