"""SQLite ranking of the result window from token text (selectors.search._scored_in_python): bm25's
shape with the idf estimated from the newest items, and hits counted exactly in the token text."""

from __future__ import annotations

import pytest
from django.db import connection

from bizreg.archives import search
from bizreg.archives.models import ArchiveItem
from bizreg.archives.selectors import search as selectors
from bizreg.archives.selectors.search import archive_search
from bizreg.archives.services.search_index import search_index_item

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL ranks with ts_rank"),
]


def _set(item: ArchiveItem, text: str) -> ArchiveItem:
    item.text = text
    item.save()
    search_index_item(item=item)
    return item


@pytest.mark.parametrize(
    ("tokens", "pattern", "expected"),
    [
        ("zzfa1 港口 物流 港口", " 港口 ", 2),  # the last token has no space after it
        ("zzfa1 港口 港口 港口 物流", " 港口 ", 3),  # repeats next to each other share their spaces
        ("zzfa1 物流 港口 港口", " 港口 ", 2),  # … also at the end
        ("zzfa1 港口物流 港口", " 港口 ", 1),  # a longer token holding the term is not a hit
        ("zzfa1 港 口 港口", " 港 口 ", 1),  # a phrase: its tokens adjacent
        ("zzfa1 a b a b a", " a b a ", 2),  # a phrase that overlaps itself
        ("zzfa1 物流", " 港口 ", 0),
    ],
)
def test_occurrences_in_token_text(tokens, pattern, expected):
    assert selectors._occurrences(tokens, pattern) == expected


def test_rare_term_outweighs_repeats_of_common_wording(archive, archivist):
    from bizreg.archives.services.records import item_add

    first, second, third = archive.items.order_by("item_number")
    # 港口 in every item (idf ≈ 0), 理货 in two: the item with more 理货 comes first although the other
    # repeats 港口 (equal weights would put it first: tf 5 + 1 against 1 + 2).
    many_ports = _set(first, "港口，港口，港口，港口，港口。理货。")
    more_tallying = _set(second, "港口。理货，理货。")
    _set(third, "港口。")
    for n in range(7):
        item = item_add(archive=archive, actor=archivist, doc_type="other", title=f"补充材料{n}")
        _set(item, "补充说明：港口。")
    page = archive_search(user=archivist, query="港口 理货", filters={}, page=1)
    assert [hit.item.pk for hit in page.hits] == [more_tallying.pk, many_ports.pk]
    assert page.hits[0].score > page.hits[1].score > 0


def test_sample_of_one_item_weighs_without_dividing_by_zero(archive, archivist, monkeypatch):
    # A term the sampled (newest) item lacks gets a high idf; one it holds, the floor FTS5 also uses.
    older, _middle, newest = archive.items.order_by("pk")
    _set(older, "理货。")
    _set(newest, "港口。")
    monkeypatch.setattr(selectors, "IDF_SAMPLE", 1)
    rare, common = selectors._clause_weights(search.parse_query("理货 港口").clauses)
    assert rare > 1 and common == 1e-6


def test_gaps_in_item_ids_do_not_count_as_items_without_the_term(archive, archivist):
    # Ids have gaps (deleted items, sequence values of rolled-back transactions): the sample is the
    # newest indexed rows, so a term all three indexed items hold still weighs the floor (counted over
    # the id range, the gap would pass for items without it).
    from bizreg.archives.models_search import ItemSearchDoc
    from bizreg.archives.services.records import item_add

    first, second = (_set(item, "港口。") for item in archive.items.order_by("pk")[:2])
    for n in range(20):
        item_add(archive=archive, actor=archivist, doc_type="other", title=f"补充材料{n}")
    last = _set(
        item_add(archive=archive, actor=archivist, doc_type="other", title="补充材料"), "港口。理货。"
    )
    ItemSearchDoc.objects.exclude(item_id__in=[first.pk, second.pk, last.pk]).delete()
    common, rare = selectors._clause_weights(search.parse_query("港口 理货").clauses)
    assert common == 1e-6 and rare > 0.1
