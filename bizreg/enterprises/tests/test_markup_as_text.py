"""Script or HTML typed into a name or address is shown as text everywhere (autoescape; API as data)."""

import pytest

from bizreg.enterprises import services

pytestmark = pytest.mark.django_db

NAME = '<script>alert("x")</script><b>粗体</b>有限公司'
ADDRESS = '南沙区<img src=x onerror="alert(1)">路 1 号'
ESCAPED_NAME = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;有限公司"


@pytest.fixture
def hostile(create, clerk):
    enterprise = create(name="原名有限公司", address=ADDRESS)
    return services.enterprise_update(enterprise=enterprise, actor=clerk, name=NAME)


def test_list_detail_and_history_escape_markup(client_for, clerk, hostile):
    client = client_for(clerk)
    for url in ("/enterprises/", f"/enterprises/{hostile.pk}/", f"/enterprises/{hostile.pk}/edit/"):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert '<img src=x onerror="alert(1)">' not in html, url
    detail = client.get(f"/enterprises/{hostile.pk}/").content.decode()
    assert ESCAPED_NAME in detail
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in detail


def test_htmx_partial_escapes_markup(client_for, clerk, hostile):
    html = client_for(clerk).get("/enterprises/", {"q": "粗体"}, HTTP_HX_REQUEST="true").content.decode()
    assert ESCAPED_NAME in html and "<script>" not in html


def test_api_returns_markup_as_plain_data(client_for, clerk, hostile):
    row = client_for(clerk).get(f"/api/enterprises/{hostile.pk}/").json()
    assert row["name"] == NAME and row["address"] == ADDRESS


def test_export_keeps_markup_as_text(client_for, clerk, hostile):
    import io

    from openpyxl import load_workbook

    response = client_for(clerk).get("/enterprises/export/")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    row = [c.value for c in list(sheet.iter_rows(min_row=2, max_row=2))[0]]
    assert NAME in row and ADDRESS in row
