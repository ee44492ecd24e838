"""The web worker builds the answer indexes when it starts, so the first question does not wait for them."""

from __future__ import annotations

import pytest

from bizreg.consultation.answering import index as answer_index
from bizreg.consultation.tests.engine_kb import build_kb

pytestmark = pytest.mark.django_db


def test_warm_up_builds_both_audiences_of_each_authority_with_articles(authority, other_authority, make_user):
    build_kb(authority, make_user("manager"))
    answer_index.clear_index_cache()

    assert answer_index.warm_indexes() == 2

    cached = set(answer_index._cache)
    assert cached == {(authority.pk, "public"), (authority.pk, "internal")}
    # The request that follows reuses the built index instead of building its own.
    assert answer_index.index_for(authority.pk, "public") is answer_index._cache[(authority.pk, "public")][1]


def test_warm_up_with_no_articles_builds_nothing(authority):
    answer_index.clear_index_cache()
    assert answer_index.warm_indexes() == 0
    assert not answer_index._cache
