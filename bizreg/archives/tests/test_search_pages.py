"""The search page and its Excel export: who may use them, the log line per query, bad input answered on
the page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bizreg.archives.models import ArchiveAccessLog
from bizreg.archives.services.search_index import search_rebuild

pytestmark = pytest.mark.django_db

URL = "/archives/search/"
EXPORT = "/archives/search/export/"


@pytest.fixture
def indexed(archive):
    for item in archive.items.all():
        item.text = f"{item.title}：股东张伟，住所广州市南沙区进港大道8号。"
        item.save()
    search_rebuild()
    return archive


@pytest.mark.parametrize("role", ["archivist", "manager", "department_viewer"])
def test_staff_roles_may_search(indexed, client_for, request, role):
    response = client_for(request.getfixturevalue(role)).get(URL, {"q": "张伟"})
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="hit"') >= 2


@pytest.mark.parametrize("role", ["digitizer", "clerk"])
def test_other_roles_get_403(indexed, client_for, request, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get(URL, {"q": "张伟"}).status_code == 403
    assert client.get(EXPORT, {"q": "张伟"}).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL, {"q": "张伟"})
    assert response.status_code == 302 and "login" in response["Location"]


def test_first_visit_shows_the_form_only(client_for, archivist):
    response = client_for(archivist).get(URL)
    assert response.status_code == 200 and 'data-testid="search-form"' in response.content.decode()
    assert not ArchiveAccessLog.objects.exists()


def test_each_query_is_logged_once(indexed, client_for, archivist):
    client = client_for(archivist)
    client.get(URL, {"q": "张伟"})
    logs = list(ArchiveAccessLog.objects.all())
    assert len(logs) == 1
    assert logs[0].action == "search" and logs[0].detail == "张伟" and logs[0].user == archivist
    assert logs[0].authority_id == indexed.authority_id
    client.get(URL, {"q": "张伟", "page": 2})  # paging the same query is not a new search
    assert ArchiveAccessLog.objects.count() == 1


def test_log_detail_is_cut(indexed, client_for, archivist):
    client_for(archivist).get(URL, {"q": "张" * 5000})
    assert len(ArchiveAccessLog.objects.get().detail) == 300


def test_script_query_is_shown_as_text(indexed, client_for, archivist):
    response = client_for(archivist).get(URL, {"q": "<script>alert(1)</script>"})
    body = response.content.decode()
    assert response.status_code == 200 and "<script>alert(1)</script>" not in body


def test_empty_query_gives_a_message(indexed, client_for, archivist):
    response = client_for(archivist).get(URL, {"q": "，"})
    assert response.status_code == 200 and 'data-testid="message"' in response.content.decode()
    assert not ArchiveAccessLog.objects.exists()


def test_long_query_shows_a_notice(indexed, client_for, archivist):
    response = client_for(archivist).get(URL, {"q": "张伟" * 2500})
    assert response.status_code == 200 and 'data-testid="notice"' in response.content.decode()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"year_from": "abc"}, "year_from"),
        ({"year_from": "2022", "year_to": "2020"}, "year_to"),
        ({"doc_type": "bogus"}, "doc_type"),
        ({"uscc": "12345"}, "uscc"),
    ],
)
def test_bad_filters_are_form_errors(indexed, client_for, archivist, params, field):
    response = client_for(archivist).get(URL, {"q": "张伟", **params})
    assert response.status_code == 200
    assert f'data-testid="error-{field}"' in response.content.decode()


def test_filter_by_doc_type_on_the_page(indexed, client_for, archivist):
    response = client_for(archivist).get(URL, {"q": "张伟", "doc_type": "articles"})
    assert response.content.decode().count('data-testid="hit"') == 1


def test_export_lists_the_results(indexed, client_for, archivist):
    response = client_for(archivist).get(EXPORT, {"q": "张伟"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "档号" and len(rows) == 1 + 3
    assert all("<mark>" not in (row[-1] or "") for row in rows[1:])
    assert ArchiveAccessLog.objects.filter(action="search", detail__startswith="导出").count() == 1


def test_export_without_query_is_refused(indexed, client_for, archivist):
    assert client_for(archivist).get(EXPORT, {"q": ""}).status_code == 400
