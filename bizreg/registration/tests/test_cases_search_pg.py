"""PostgreSQL: the case list's two-character name search is answered by the character-pair column and its
GIN index (migration 0005), and the column follows the name."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from bizreg.registration.models import RegistrationCase
from bizreg.registration.selectors import cases as selectors
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures

pytestmark = pytest.mark.django_db


def pairs(case) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT enterprise_name_bigrams FROM registration_registrationcase WHERE id = %s", [case.pk]
        )
        return sorted(cursor.fetchone()[0])


def test_name_pairs_column_follows_the_name(intake):
    case = intake("establishment", enterprise_name="南沙ab")
    assert pairs(case) == sorted(["南沙", "沙A", "AB"])
    RegistrationCase.objects.filter(pk=case.pk).update(enterprise_name="麒港")
    assert pairs(case) == ["麒港"]


def plan_text(queryset) -> str:
    # Only bitmap scans allowed: the plan can then answer the search only through an index whose
    # condition is the search itself (the planner's choice at scale is measured by bench/case_list).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
    return json.dumps(json.loads(queryset.explain(format="json")), ensure_ascii=False)


@pytest.mark.parametrize(
    "q, index", [("麒港", "case_ent_name_bigrams"), ("麒港贸", "case_ent_name_upper_trgm")]
)
def test_name_search_uses_its_index(make_user, intake, q, index):
    for _ in range(3):
        intake("establishment")
    superuser = make_user(is_superuser=True)  # no authority condition: only the search itself is planned
    queryset = selectors.case_search(user=superuser, params={"q": q}).order_by().values("pk")
    assert index in plan_text(queryset)
