"""Citizen-written HTML (e-mail bodies) made safe to keep and show.

`clean_html` keeps formatting a reader needs (paragraphs, lists, tables, links, emphasis) and drops
everything that can run or load: script, style, iframes, forms, event handlers, javascript: URLs and
remote images (a tracking pixel would tell the sender when an agent opened the mail). Templates still
escape everything else: only the output of clean_html is ever marked safe.

`html_to_text` turns an HTML-only e-mail into the plain text stored as the message body.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
    "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "li", "ol", "p", "pre", "q",
    "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
# Elements whose content is dropped with them, not kept as text.
CLEAN_CONTENT_TAGS = {"script", "style", "head", "title", "iframe", "object", "embed", "noscript", "template"}
MAX_HTML_CHARS = 500_000


def clean_html(html_text: str) -> str:
    """Sanitized HTML safe to render as-is; "" for empty input."""
    if not html_text:
        return ""
    return nh3.clean(
        html_text[:MAX_HTML_CHARS],
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        clean_content_tags=CLEAN_CONTENT_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr",
    "ul", "ol", "dl", "dt", "dd", "section", "article", "header", "footer",
}  # fmt: skip


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in CLEAN_CONTENT_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in CLEAN_CONTENT_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(html_text: str) -> str:
    """The readable text of an HTML document: scripts and styles dropped, blocks on their own lines."""
    if not html_text:
        return ""
    parser = _TextExtractor()
    parser.feed(html_text[:MAX_HTML_CHARS])
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
