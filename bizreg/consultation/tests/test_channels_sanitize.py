"""Citizen HTML made safe: nothing that runs or loads survives; the text reads as the mail did."""

from __future__ import annotations

import pytest

from bizreg.consultation.services.sanitize import clean_html, html_to_text


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="http://evil.example"></iframe>',
        '<form action="http://evil.example"><input name="p"></form>',
        "<style>body{display:none}</style>",
        '<svg onload="alert(1)"></svg>',
        '<p style="background:url(http://tracker.example/p.png)">x</p>',
        "<object data='x.swf'></object>",
        "<!-- comment --><meta http-equiv='refresh' content='0;url=http://evil.example'>",
    ],
)
def test_nothing_that_runs_or_loads_survives(dangerous):
    cleaned = clean_html(f"<p>正文</p>{dangerous}")
    for marker in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<form",
        "<style",
        "<svg",
        "style=",
        "<object",
        "<meta",
        "<!--",
        "<img",
        "alert(1)",
    ):
        assert marker not in cleaned
    assert "<p>正文</p>" in cleaned


def test_formatting_and_safe_links_are_kept():
    cleaned = clean_html('<p><b>加粗</b><a href="https://www.gov.cn/x">链接</a></p><ul><li>一</li></ul>')
    assert "<b>加粗</b>" in cleaned and "<li>一</li>" in cleaned
    assert 'href="https://www.gov.cn/x"' in cleaned and 'rel="noopener noreferrer nofollow"' in cleaned


def test_html_to_text_keeps_lines_and_drops_scripts():
    text = html_to_text(
        "<html><head><title>t</title><style>p{}</style></head><body><p>第一段&nbsp;内容</p>"
        "<script>alert(1)</script><div>第二段<br>换行</div><table><tr><td>甲</td><td>乙</td></tr></table></body></html>"
    )
    assert text == "第一段 内容\n\n第二段\n换行\n\n甲 乙"


def test_empty_input():
    assert clean_html("") == "" and html_to_text("") == ""
