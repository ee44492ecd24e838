"""archive_search: terms, phrases, identifiers, filters, ranking window, visibility per role, snippets and
the page of the hit; bad queries answered with a message, never an error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bizreg.archives import search
from bizreg.archives.models import ArchiveItem, Classification, DigitizationBatch, OpenStatus, ScanPage
from bizreg.archives.selectors import search as selectors
from bizreg.archives.selectors.search import archive_search
from bizreg.archives.services.search_index import search_index_item, search_rebuild

pytestmark = pytest.mark.django_db

ARTICLES_TEXT = (
    "第一条 根据《中华人民共和国公司法》制定本章程。第二条 公司住所：广州市南沙区进港大道８号。"
    "第三条 经营范围：国际货物运输代理；港口理货。第四条 股东张伟认缴出资额五十万元。"
)


def _set(item: ArchiveItem, **fields) -> ArchiveItem:
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    search_index_item(item=item)
    return item


@pytest.fixture
def items(archive):
    """application (open), articles (open, with full text), identity proof (controlled)."""
    application, articles, identity = archive.items.order_by("item_number")
    _set(
        application,
        text="公司登记（备案）申请书。法定代表人：李娜。",
        doc_number="穗南市监内字〔2021〕第1234号",
    )
    _set(articles, text=ARTICLES_TEXT, keywords="章程 设立")
    _set(identity, text="股东身份证明：张伟 居民身份证。")
    return application, articles, identity


def _ids(page) -> list[int]:
    return [hit.item.pk for hit in page.hits]


def test_single_term_finds_the_item_with_snippet(items, archivist):
    page = archive_search(user=archivist, query="货物运输", filters={}, page=1)
    assert _ids(page) == [items[1].pk]
    snippet = page.hits[0].snippet
    assert "<mark>" in snippet and "货物运输" in snippet.replace("<mark>", "").replace("</mark>", "")


def test_all_terms_must_match(items, archivist):
    assert _ids(archive_search(user=archivist, query="张伟 港口", filters={}, page=1)) == [items[1].pk]
    assert set(_ids(archive_search(user=archivist, query="张伟", filters={}, page=1))) == {
        items[1].pk,
        items[2].pk,
    }
    assert _ids(archive_search(user=archivist, query="张伟 不存在的词语组合", filters={}, page=1)) == []


def test_full_width_query_matches_half_width_text(items, archivist):
    # The text says ８号 (full-width); the query types 8号.
    assert _ids(archive_search(user=archivist, query="进港大道8号", filters={}, page=1)) == [items[1].pk]


def test_phrase_needs_adjacent_terms(items, archivist):
    assert _ids(archive_search(user=archivist, query='"国际货物运输代理"', filters={}, page=1)) == [
        items[1].pk
    ]
    # Both words are in the text, but not next to each other.
    assert _ids(archive_search(user=archivist, query="港口 公司法", filters={}, page=1)) == [items[1].pk]
    assert _ids(archive_search(user=archivist, query='"港口公司法"', filters={}, page=1)) == []


def test_identifiers_whole_or_in_parts(items, archive, archivist):
    assert items[0].pk in _ids(archive_search(user=archivist, query=archive.uscc, filters={}, page=1))
    code = items[1].archival_code
    assert _ids(archive_search(user=archivist, query=code, filters={}, page=1)) == [items[1].pk]
    assert _ids(archive_search(user=archivist, query=code.lower(), filters={}, page=1)) == [items[1].pk]
    page = archive_search(user=archivist, query="穗南市监内字〔2021〕第1234号", filters={}, page=1)
    assert _ids(page) == [items[0].pk]


def test_title_hit_without_text_hit_snippets_the_title(items, archivist):
    page = archive_search(user=archivist, query="章程", filters={"doc_type": "articles"}, page=1)
    assert _ids(page) == [items[1].pk]
    assert "<mark>章程</mark>" in page.hits[0].snippet


def test_script_in_query_and_text_comes_back_as_text(items, archivist):
    _set(items[0], text="备注：<script>alert(1)</script> 申请人签字")
    page = archive_search(user=archivist, query="<script>alert(1)</script>", filters={}, page=1)
    assert _ids(page) == [items[0].pk]
    assert "<script>" not in page.hits[0].snippet
    assert "&lt;" in page.hits[0].snippet


@pytest.mark.parametrize("query", ["", "   ", "，", "!", "？", '""', "《》"])
def test_empty_or_punctuation_query_gives_a_message(items, archivist, query):
    page = archive_search(user=archivist, query=query, filters={}, page=1)
    assert page.message and page.hits == [] and page.total == 0


def test_very_long_query_is_cut_with_a_notice(items, archivist):
    page = archive_search(user=archivist, query="张伟" * 2500, filters={}, page=1)
    assert len("张伟" * 2500) == 5000
    assert page.notices and "截取" in page.notices[0]
    assert len(page.query.text) <= search.MAX_QUERY_CHARS
    assert _ids(page)  # 张伟 still found


def test_many_terms_are_capped(items, archivist):
    query = " ".join(f"词{n}" for n in range(40))
    page = archive_search(user=archivist, query=query, filters={}, page=1)
    assert len(page.query.clauses) <= search.MAX_QUERY_TERMS and page.notices


def test_facet_words_typed_by_a_user_are_ignored(items, department_viewer):
    items[2].classification = Classification.INTERNAL
    _set(items[2])
    page = archive_search(user=department_viewer, query="张伟 zzfclinternal", filters={}, page=1)
    assert items[2].pk not in _ids(page)


def test_filters(items, archive, archivist):
    assert _ids(archive_search(user=archivist, query="张伟", filters={"doc_type": "identity"}, page=1)) == [
        items[2].pk
    ]
    both = {items[1].pk, items[2].pk}
    years = {"year_from": 2020, "year_to": 2021}
    assert set(_ids(archive_search(user=archivist, query="张伟", filters=years, page=1))) == both
    later = {"year_from": 2022}
    assert _ids(archive_search(user=archivist, query="张伟", filters=later, page=1)) == []
    assert (
        set(_ids(archive_search(user=archivist, query="张伟", filters={"uscc": archive.uscc}, page=1)))
        == both
    )
    assert (
        _ids(archive_search(user=archivist, query="张伟", filters={"source": "born_digital"}, page=1)) == []
    )
    assert (
        _ids(archive_search(user=archivist, query="张伟", filters={"digitization": "digitized"}, page=1))
        == []
    )
    assert (
        set(_ids(archive_search(user=archivist, query="张伟", filters={"status": "pending"}, page=1))) == both
    )
    assert _ids(archive_search(user=archivist, query="张伟", filters={"status": "lent"}, page=1)) == []


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"doc_type": "nonsense"}, "doc_type"),
        ({"status": "gone"}, "status"),
        ({"source": "x"}, "source"),
        ({"digitization": "x"}, "digitization"),
        ({"year_from": "20x1"}, "year_from"),
        ({"year_from": 1800}, "year_from"),
        ({"year_from": 2022, "year_to": 2020}, "year_to"),
        ({"uscc": "123"}, "uscc"),
    ],
)
def test_bad_filters_are_refused_per_field(items, archivist, filters, field):
    with pytest.raises(ValidationError) as exc:
        archive_search(user=archivist, query="张伟", filters=filters, page=1)
    assert field in exc.value.message_dict


def test_controlled_items_need_the_permission(items, archivist, department_viewer, make_user):
    # A user who may search but not see controlled items: archives.view_archiveitem only.
    from django.contrib.auth.models import Permission

    plain = make_user(None)
    plain.user_permissions.add(Permission.objects.get(codename="view_archiveitem"))
    plain = type(plain).objects.get(pk=plain.pk)
    assert set(_ids(archive_search(user=plain, query="张伟", filters={}, page=1))) == {items[1].pk}
    assert items[2].pk in _ids(archive_search(user=department_viewer, query="张伟", filters={}, page=1))


def test_internal_items_never_for_department_viewer(items, archivist, manager, department_viewer):
    _set(items[2], classification=Classification.INTERNAL)
    assert items[2].pk in _ids(archive_search(user=archivist, query="张伟", filters={}, page=1))
    assert items[2].pk in _ids(archive_search(user=manager, query="张伟", filters={}, page=1))
    assert items[2].pk not in _ids(archive_search(user=department_viewer, query="张伟", filters={}, page=1))


def test_stale_index_never_shows_more_than_the_row_allows(items, department_viewer):
    # Classified internal without reindexing: the page check still drops it.
    ArchiveItem.objects.filter(pk=items[2].pk).update(classification=Classification.INTERNAL)
    assert items[2].pk not in _ids(archive_search(user=department_viewer, query="张伟", filters={}, page=1))


def test_other_authority_not_found(items, other_archive, other_archivist, archivist):
    item = other_archive.items.first()
    _set(item, text="股东张伟", open_status=OpenStatus.OPEN)
    assert item.pk not in _ids(archive_search(user=archivist, query="张伟", filters={}, page=1))
    assert _ids(archive_search(user=other_archivist, query="张伟", filters={}, page=1)) == [item.pk]


def test_user_without_authority_finds_nothing(items, make_user):
    nobody = make_user("archivist", authorities=[])
    nobody.authorities.clear()
    nobody = type(nobody).objects.get(pk=nobody.pk)
    assert archive_search(user=nobody, query="张伟", filters={}, page=1).hits == []


@pytest.mark.parametrize("role", ["digitizer", "clerk"])
def test_roles_without_search_are_refused(items, request, role):
    with pytest.raises(PermissionDenied):
        archive_search(user=request.getfixturevalue(role), query="张伟", filters={}, page=1)


def test_ranking_prefers_more_occurrences(archive, archivist):
    first, second, third = archive.items.order_by("item_number")
    _set(first, text="港口。" + "其他内容。" * 30)
    _set(second, text="港口港口港口，港口物流。")
    _set(third, text="无关。")
    page = archive_search(user=archivist, query="港口", filters={}, page=1)
    assert _ids(page) == [second.pk, first.pk]
    assert page.hits[0].score > page.hits[1].score


def test_pagination_and_window(archive, archivist, monkeypatch):
    from bizreg.archives.services.records import item_add

    for n in range(7):
        item = item_add(archive=archive, actor=archivist, doc_type="other", title=f"补充材料{n}")
        _set(item, text="补充说明：港口物流。")
    monkeypatch.setattr(selectors, "RESULT_WINDOW", 5)
    page1 = archive_search(user=archivist, query="港口", filters={}, page=1, page_size=2)
    assert page1.total == 5 and page1.capped and page1.num_pages == 3 and page1.notices
    page3 = archive_search(user=archivist, query="港口", filters={}, page=3, page_size=2)
    assert len(page3.hits) == 1
    beyond = archive_search(user=archivist, query="港口", filters={}, page=99, page_size=2)
    assert beyond.number == 3
    bad = archive_search(user=archivist, query="港口", filters={}, page="x", page_size=2)
    assert bad.number == 1
    seen = set(_ids(page1)) | set(
        _ids(archive_search(user=archivist, query="港口", filters={}, page=2, page_size=2))
    )
    assert len(seen | set(_ids(page3))) == 5


def test_hit_page_number_from_scan_pages(items, archivist, authority):
    articles = _set(items[1], text="第一页：公司章程。第二页：股东会决议。第三页：港口理货。")
    batch = DigitizationBatch.objects.create(authority=authority, number="B-1", created_by=archivist)
    # A blank sheet between pages 1 and 2 is scanned but left out of the PDF: page numbers skip it.
    scans = ["第一页：公司章程。", None, "第二页：股东会决议。", "第三页：港口理货。"]
    for sequence, text in enumerate(scans, start=1):
        ScanPage.objects.create(
            batch=batch,
            item=articles,
            sequence=sequence,
            original_name=f"{sequence}.tif",
            original_sha256="0" * 64,
            processed=f"archives/scans/processed/{sequence}.jpg",
            is_blank=text is None,
            ocr_text=text or "",
        )
    page = archive_search(user=archivist, query="港口理货", filters={}, page=1)
    assert page.hits[0].page_number == 3
    page = archive_search(user=archivist, query="股东会", filters={}, page=1)
    hit = next(h for h in page.hits if h.item.pk == articles.pk)
    assert hit.page_number == 2


def test_born_digital_item_has_no_page_number(items, archivist):
    _set(items[1], source="born_digital")
    page = archive_search(user=archivist, query="港口", filters={}, page=1)
    assert page.hits[0].page_number is None


def test_rebuild_then_search(items, archivist):
    from bizreg.archives.models import ItemSearchDoc

    ItemSearchDoc.objects.all().delete()
    assert archive_search(user=archivist, query="张伟", filters={}, page=1).hits == []
    search_rebuild()
    assert len(archive_search(user=archivist, query="张伟", filters={}, page=1).hits) == 2


def test_item_date_outside_range_and_undated(items, archivist):
    _set(items[2], doc_date=None)
    assert _ids(archive_search(user=archivist, query="张伟", filters={"year_to": 2030}, page=1)) == [
        items[1].pk
    ]
    _set(items[2], doc_date=dt.date(2019, 1, 1))
    assert _ids(archive_search(user=archivist, query="张伟", filters={"year_to": 2019}, page=1)) == [
        items[2].pk
    ]


def test_chinese_words_joined_by_punctuation_are_separate_terms(items, archivist):
    assert _ids(archive_search(user=archivist, query="港口，张伟", filters={}, page=1)) == [items[1].pk]


def test_hit_boxes_mark_the_lines_holding_a_word(items, archivist, authority):
    from bizreg.archives.selectors.search import item_url_maker, page_hit_boxes

    batch = DigitizationBatch.objects.create(authority=authority, number="B-2", created_by=archivist)
    page = ScanPage.objects.create(
        batch=batch,
        item=items[0],
        sequence=1,
        original_name="1.tif",
        original_sha256="0" * 64,
        width=2000,
        height=1000,
        ocr_boxes=[
            [100, 100, 1100, 150, "经营范围：港口理货；船舶修理", 0.98],
            [100, 200, 900, 250, "请于收到本通知书之日起领取营业执照", 0.97],
        ],
    )
    boxes = page_hit_boxes(page, ["港口理货"])
    assert boxes == [
        {"left": 5.0, "top": 10.0, "width": 50.0, "height": 5.0, "text": "经营范围：港口理货；船舶修理"}
    ]
    assert len(page_hit_boxes(page, ["港口理货", "营业执照"])) == 2
    assert page_hit_boxes(page, ["不存在的词"]) == []
    assert page_hit_boxes(page, []) == [] and page_hit_boxes(None, ["港口"]) == []
    url = item_url_maker(["港口理货", "营业执照"])(items[0].pk, 1)
    assert url.endswith(
        "?page=1&hl=%E6%B8%AF%E5%8F%A3%E7%90%86%E8%B4%A7&hl=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"
    )
    assert item_url_maker(["港口"])(items[0].pk, None) == f"/archives/items/{items[0].pk}/"
