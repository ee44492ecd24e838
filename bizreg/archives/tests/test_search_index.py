"""The token text of an item and the index services (bizreg.archives.search, services/search_index)."""

from __future__ import annotations

import pytest
from django.db import connection

from bizreg.archives import search
from bizreg.archives.models import ItemSearchDoc
from bizreg.archives.services.search_index import (
    item_search_tokens,
    search_index_item,
    search_rebuild,
    search_remove_item,
)

pytestmark = pytest.mark.django_db


def _fts_ids(match: str) -> set[int]:
    """Items the database's own full-text index finds for one quoted term (FTS5 on SQLite, the tsvector
    column on PostgreSQL) — what the triggers / generated column keep in step with ItemSearchDoc."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            term = match.strip('"').replace("'", "''")
            cursor.execute(
                "SELECT item_id FROM archives_itemsearchdoc WHERE search_vector @@ to_tsquery('simple', %s)",
                [f"'{term}'"],
            )
        else:
            cursor.execute(
                "SELECT rowid FROM archives_itemsearch_fts WHERE archives_itemsearch_fts MATCH %s", [match]
            )
        return {row[0] for row in cursor.fetchall()}


def test_segment_normalises_full_width_and_case():
    assert search.segment("ＡＢＣ公司１２３") == search.segment("abc公司123")
    assert "营业执照" in search.segment("办理营业执照")
    assert {"营业", "执照"} <= set(search.segment("办理营业执照"))  # search-mode sub-words


def test_tokens_are_plain_words_only():
    tokens = search.segment("Q0101-SS·2021-Y-DJK-0001，<script>alert(1)</script> 穗市监〔2021〕第12号")
    assert tokens and all(t.isalnum() for t in tokens)
    assert "script" in tokens and "<script>" not in tokens


def test_identifiers_indexed_whole(archive):
    item = archive.items.first()
    tokens = item_search_tokens(item).split()
    assert search.compact(archive.uscc) in tokens
    assert search.compact(item.archival_code) in tokens
    assert search.compact(archive.archival_code) in tokens


def test_facets_describe_the_item(archive):
    item = archive.items.get(item_number=3)
    tokens = item_search_tokens(item).split()
    assert search.facet("a", archive.authority_id) in tokens
    assert search.facet("os", "controlled") in tokens
    assert search.facet("dt", item.doc_type) in tokens
    assert search.facet("y", 2021) in tokens


def test_facet_prefix_in_text_is_not_a_facet(archive):
    item = archive.items.first()
    item.text = "zzfosopen zzfclnone"
    tokens = item_search_tokens(item).split()
    assert tokens.count(search.facet("os", item.open_status)) == 1


def test_index_update_and_remove_keep_fts_in_step(archive):
    item = archive.items.first()
    item.text = "本公司经营范围：港口物流服务。"
    item.save()
    search_index_item(item=item)
    assert _fts_ids('"港口"') == {item.pk}
    item.text = "本公司经营范围：跨境电商。"
    item.save()
    search_index_item(item=item)
    assert _fts_ids('"港口"') == set()
    assert _fts_ids('"跨境"') == {item.pk}
    search_remove_item(item_id=item.pk)
    assert not ItemSearchDoc.objects.filter(item=item).exists()
    assert _fts_ids('"跨境"') == set()


def test_rebuild_indexes_every_item_and_drops_strays(archive, other_archive, authority):
    assert search_rebuild() == 4
    assert ItemSearchDoc.objects.count() == 4
    assert search_rebuild(authority=authority) == 3
    assert ItemSearchDoc.objects.count() == 4
    # Run again: same result, nothing doubled in the engine's index either.
    assert search_rebuild() == 4
    assert len(_fts_ids(f'"{search.compact(archive.uscc)}"')) == 3


def test_empty_text_item_is_found_by_description(archive):
    item = archive.items.get(item_number=2)
    search_index_item(item=item)
    assert item.pk in _fts_ids('"章程"')
