"""The PostgreSQL side of the search: the generated tsvector under its GIN index, phrases with <->,
ranking with ts_rank, the window collected over ranges of item ids, the same results as on SQLite.
Runs in the PostgreSQL pass only (DATABASE_URL=postgres://…)."""

from __future__ import annotations

import pytest
from django.db import connection

from bizreg.archives.models import Classification
from bizreg.archives.selectors.search import archive_search
from bizreg.archives.services.search_index import search_index_item, search_remove_item

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="tsvector and GIN need PostgreSQL"),
]


def _set(item, **fields):
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    search_index_item(item=item)
    return item


@pytest.fixture
def items(archive):
    application, articles, identity = archive.items.order_by("item_number")
    _set(application, text="法定代表人：李娜。", doc_number="穗南市监内字〔2021〕第1234号")
    _set(articles, text="经营范围：国际货物运输代理；港口理货。股东张伟认缴出资。港口港口。")
    _set(identity, text="股东身份证明：张伟。")
    return application, articles, identity


def _ids(page):
    return [hit.item.pk for hit in page.hits]


def test_generated_vector_and_gin_index_exist(items):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'archives_itemsearch_gin'",
        )
        assert "gin" in cursor.fetchone()[0].lower()
        cursor.execute(
            "SELECT search_vector::text FROM archives_itemsearchdoc WHERE item_id = %s", [items[1].pk]
        )
        vector = cursor.fetchone()[0]
    assert "'理货'" in vector and "'货物运输'" in vector


def test_terms_phrases_identifiers(items, archivist):
    assert _ids(archive_search(user=archivist, query="张伟 港口", filters={}, page=1)) == [items[1].pk]
    assert _ids(archive_search(user=archivist, query='"港口理货"', filters={}, page=1)) == [items[1].pk]
    assert _ids(archive_search(user=archivist, query='"理货港口"', filters={}, page=1)) == []
    page = archive_search(user=archivist, query="穗南市监内字〔2021〕第1234号", filters={}, page=1)
    assert _ids(page) == [items[0].pk]
    assert _ids(archive_search(user=archivist, query=items[2].archival_code, filters={}, page=1)) == [
        items[2].pk
    ]


def test_ranking_and_snippet(items, archivist):
    _set(items[2], text="港口。")
    page = archive_search(user=archivist, query="港口", filters={}, page=1)
    assert _ids(page) == [items[1].pk, items[2].pk]
    assert page.hits[0].score >= page.hits[1].score
    assert "<mark>港口</mark>" in page.hits[0].snippet


def test_visibility_and_filters(items, department_viewer, archivist):
    _set(items[2], classification=Classification.INTERNAL)
    assert items[2].pk not in _ids(archive_search(user=department_viewer, query="张伟", filters={}, page=1))
    assert items[2].pk in _ids(archive_search(user=archivist, query="张伟", filters={}, page=1))
    page = archive_search(
        user=archivist, query="张伟", filters={"doc_type": "articles", "status": "pending"}, page=1
    )
    assert _ids(page) == [items[1].pk]


def test_remove_from_index(items, archivist):
    search_remove_item(item_id=items[1].pk)
    assert items[1].pk not in _ids(archive_search(user=archivist, query="港口", filters={}, page=1))


def test_script_query_is_safe(items, archivist):
    page = archive_search(user=archivist, query="<script>alert('x')</script> & | ! <->", filters={}, page=1)
    assert page.hits == []


def test_window_collected_over_id_ranges_is_the_newest_matches(items, archivist, monkeypatch):
    # One id per range at first (every id a range boundary), so a boundary counted twice or skipped
    # shows; the status filter adds its parameter between the match and the range.
    from bizreg.archives.selectors import search as selectors
    from bizreg.archives.services.records import item_add

    archive = items[0].archive
    added = []
    for n in range(6):
        item = item_add(archive=archive, actor=archivist, doc_type="other", title=f"补充材料{n}")
        added.append(_set(item, text="港口。" if n % 2 else "仓储。"))
    harbour = sorted([items[1].pk, *(item.pk for item in added[1::2])], reverse=True)
    monkeypatch.setattr(selectors, "WINDOW_FIRST_SPAN", 1)
    monkeypatch.setattr(selectors, "WINDOW_SPAN_GROWTH", 2)
    monkeypatch.setattr(selectors, "RESULT_WINDOW", 3)
    for filters in ({}, {"status": archive.status}):
        page = archive_search(user=archivist, query="港口", filters=filters, page=1)
        assert page.capped and page.total == 3
        assert sorted(_ids(page), reverse=True) == harbour[:3]
    monkeypatch.setattr(selectors, "RESULT_WINDOW", 4)
    page = archive_search(user=archivist, query="港口", filters={}, page=1)
    assert not page.capped and sorted(_ids(page), reverse=True) == harbour
