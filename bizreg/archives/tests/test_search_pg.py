"""The PostgreSQL side of the search: the generated tsvector under its GIN index, phrases with <->,
ranking with ts_rank, the window collected over blocks of item ids, the same results as on SQLite.
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


def _item_with_id(archive, actor, item_id: int, text: str):
    from bizreg.archives.services.records import item_add

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('archives_archiveitem', 'id'), %s)", [item_id - 1]
        )
    item = item_add(archive=archive, actor=actor, doc_type="other", title=f"补充材料{item_id}")
    assert item.pk == item_id
    return _set(item, text=text)


def test_vector_holds_the_block_token_the_window_asks_for(items, archivist):
    import importlib

    from bizreg.archives import search

    migration = importlib.import_module("bizreg.archives.migrations.0005_search_id_blocks")
    assert migration.BLOCK_BITS == search.BLOCK_BITS
    item = _item_with_id(items[0].archive, archivist, (1 << 18) + (1 << 16) + 5, "港口。")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM archives_itemsearchdoc WHERE item_id = %s", [item.pk])
        vector = cursor.fetchone()[0]
    assert search.block_token(item.pk) == "zzfk20"
    assert "'zzfk20'" in vector


# Matches at block starts (a step's lower bound) and just below them, and rows that do not match beside
# them; blocks hold 2**14 ids.
_MATCHING_IDS = (16_383, 16_384, 65_536, 262_144, 1_048_576, 1_100_000)
_OTHER_IDS = (65_535, 262_143, 1_048_577)


@pytest.mark.parametrize("block_steps", [1_000, 0, 16], ids=["block-by-block", "rest-at-once", "default"])
def test_window_over_id_blocks_is_the_newest_matches(items, archivist, monkeypatch, block_steps):
    # The window itself (newest first, one more than shown) is compared, so a match counted twice at a
    # block edge or skipped shows; with the status filter too (its parameter sits between the match and
    # the bound). Block by block walks all 68 blocks; rest-at-once searches the ids below the first two
    # blocks in one step.
    from bizreg.archives.selectors import search as selectors

    archive = items[0].archive
    for item_id in sorted(_MATCHING_IDS + _OTHER_IDS):
        _item_with_id(archive, archivist, item_id, "港口。" if item_id in _MATCHING_IDS else "仓储。")
    harbour = sorted([items[1].pk, *_MATCHING_IDS], reverse=True)
    windows = []
    collect = selectors._window
    monkeypatch.setattr(selectors, "_window", lambda *args: windows.append(collect(*args)) or windows[-1])
    monkeypatch.setattr(selectors, "WINDOW_BLOCK_STEPS", block_steps)
    for size in range(1, len(harbour) + 1):
        monkeypatch.setattr(selectors, "RESULT_WINDOW", size)
        for filters in ({}, {"status": archive.status}):
            page = archive_search(user=archivist, query="港口", filters=filters, page=1)
            assert windows[-1] == harbour[: size + 1]
            assert page.capped == (size < len(harbour)) and page.total == size
            assert sorted(_ids(page), reverse=True) == harbour[:size]
