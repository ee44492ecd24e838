"""PDF documents with the embedded CJK font, laid out as Chinese official letters, reproducible.

Any app builds a `DocumentSpec` (title, number, addressee, blocks, signature, optional QR code) and gets
the bytes from `render_pdf`. The same spec always gives the same bytes: ReportLab runs in invariant
mode (no clock, no random document ID) with page compression, and the creation date written into the
file is the spec's own `created_at`, so a stored document can be re-rendered and compared by hash.

The font is 文泉驿微米黑 (bizreg/core/fonts, see its README), a TrueType font that ReportLab embeds as
a subset with a ToUnicode map, so the text can be searched and extracted from the PDF.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from django.utils import timezone
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus import Image as PlatypusImage
from reportlab.platypus import paragraph as rl_paragraph

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "WenQuanYiMicroHei-CJK.ttf"

BODY_SIZE = 12
BODY_LEADING = 22
TITLE_SIZE = 20
QR_DEFAULT_SIZE = 26 * mm

_ALIGN = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT, "justify": TA_JUSTIFY}
_HANZI_DIGITS = "〇一二三四五六七八九"


# Chinese punctuation that must not start a line. ReportLab's list (from Japanese typography) lacks the
# full-width comma, colon, semicolon and closing quotes, so its CJK wrapping would start lines with "，".
_CANNOT_START_LINE_ZH = "，；：！？”’》〉」』）】〕％·…"


@cache
def register_cjk_font() -> str:
    """Register the embedded CJK font with ReportLab once per process and return its name."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    for module in (rl_paragraph, rl_textsplit):
        missing = "".join(c for c in _CANNOT_START_LINE_ZH if c not in module.ALL_CANNOT_START)
        module.ALL_CANNOT_START += missing
    return FONT_NAME


# --- dates in Chinese form ---------------------------------------------------------------------------


def _hanzi_number(n: int) -> str:
    """1–31 as written in dates: 一, 十, 十一, 二十, 二十一, 三十一."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _HANZI_DIGITS[ones]
    text = ("" if tens == 1 else _HANZI_DIGITS[tens]) + "十"
    return text + (_HANZI_DIGITS[ones] if ones else "")


def _local(value: dt.datetime) -> dt.datetime:
    """The bureau's wall-clock time (settings.TIME_ZONE, whatever zone a request has activated)."""
    return timezone.localtime(value, timezone.get_default_timezone()) if timezone.is_aware(value) else value


def chinese_date(value: dt.date | dt.datetime, *, hanzi: bool = False) -> str:
    """2023年3月1日, or with hanzi=True 二〇二三年三月一日 (the form used under an issuer's seal)."""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    if not hanzi:
        return f"{value.year}年{value.month}月{value.day}日"
    year = "".join(_HANZI_DIGITS[int(d)] for d in str(value.year))
    return f"{year}年{_hanzi_number(value.month)}月{_hanzi_number(value.day)}日"


# --- blocks -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside the body (e.g. 一、补正事项)."""

    text: str


@dataclass(frozen=True)
class Text:
    """A paragraph; `indent` gives the first line the customary two-character indent."""

    text: str
    indent: bool = True
    align: str = "justify"
    size: float = BODY_SIZE


@dataclass(frozen=True)
class NumberedList:
    """Items numbered 1．2．3． (full-width point, as in official letters), with a hanging indent."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class KeyValues:
    """Label–value lines (业务编号：…) laid out as a two-column table without rules."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TableBlock:
    """A ruled table; the first row is the header when `header` is true."""

    rows: tuple[tuple[str, ...], ...]
    header: bool = True
    col_widths_mm: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Gap:
    height_mm: float = 4


@dataclass(frozen=True)
class QrCode:
    """A QR code of `data` with caption lines under it; also a link to `data` when it is a URL."""

    data: str
    caption: tuple[str, ...] = ()
    size_mm: float = 26


@dataclass(frozen=True)
class Signature:
    """The issuer and date, right-aligned at the foot of the letter (the place of the seal)."""

    issuer: str
    date_text: str


@dataclass(frozen=True)
class Image:
    """A picture (PNG bytes, e.g. a chart) centred at `width_mm`, its height from the picture's aspect ratio,
    with an optional caption under it. The bytes are embedded as they are, so a deterministic picture keeps
    the document reproducible."""

    data: bytes
    width_mm: float = 150
    caption: str = ""


Block = Heading | Text | NumberedList | KeyValues | TableBlock | Gap | Image


def image_size_px(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels of a PNG/JPEG picture."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as picture:
        return picture.size


@dataclass
class DocumentSpec:
    title: str
    created_at: dt.datetime
    number: str = ""
    addressee: str = ""
    blocks: list[Block] = field(default_factory=list)
    signature: Signature | None = None
    qr: QrCode | None = None
    author: str = ""
    subject: str = ""
    keywords: tuple[str, ...] = ()
    footer_note: str = ""


# --- QR codes -----------------------------------------------------------------------------------------


def qr_matrix(data: str) -> list[list[bool]]:
    """The module matrix of a QR code for `data` (True = dark), without the quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


class QrFlowable(Flowable):
    """Draws the QR modules as vector squares (crisp at any zoom, no image encoder involved)."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.data = data
        self.matrix = qr_matrix(data)
        count = len(self.matrix) + 8  # four modules of quiet zone on each side
        self.module = size / count
        self.width = self.height = self.module * count

    def wrap(self, availWidth, availHeight):  # noqa: N803 — ReportLab's signature
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        module = self.module
        canvas.saveState()
        canvas.setFillColor(colors.black)
        canvas.setStrokeColor(colors.black)
        for row_index, row in enumerate(self.matrix):
            y = self.height - (row_index + 5) * module
            for col_index, dark in enumerate(row):
                if dark:
                    canvas.rect((col_index + 4) * module, y, module, module, stroke=0, fill=1)
        canvas.restoreState()
        if self.data.startswith(("http://", "https://")):
            canvas.linkURL(self.data, (0, 0, self.width, self.height), relative=1, thickness=0)


# --- rendering ----------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    font = register_cjk_font()
    base = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=BODY_SIZE,
        leading=BODY_LEADING,
        wordWrap="CJK",
        alignment=TA_JUSTIFY,
    )
    return {
        "body": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=TITLE_SIZE, leading=TITLE_SIZE * 1.6, alignment=TA_CENTER
        ),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, spaceAfter=6 * mm),
        "addressee": ParagraphStyle("addressee", parent=base, spaceBefore=2 * mm),
        "heading": ParagraphStyle("heading", parent=base, spaceBefore=2 * mm, firstLineIndent=2 * BODY_SIZE),
        "item": ParagraphStyle(
            "item", parent=base, leftIndent=4 * BODY_SIZE, firstLineIndent=-1.5 * BODY_SIZE
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10.5, leading=15, alignment=TA_LEFT),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13, alignment=TA_CENTER),
        "signature": ParagraphStyle("signature", parent=base, alignment=TA_RIGHT),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    # Texts are data, never markup: names like "A&B<有限公司>" must print as typed.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _flow(block: Block, styles: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    if isinstance(block, Heading):
        return [_p(block.text, styles["heading"])]
    if isinstance(block, Text):
        style = ParagraphStyle(
            "text",
            parent=styles["body"],
            fontSize=block.size,
            leading=block.size * BODY_LEADING / BODY_SIZE,
            alignment=_ALIGN.get(block.align, TA_JUSTIFY),
            firstLineIndent=2 * block.size if block.indent else 0,
        )
        return [_p(block.text, style)]
    if isinstance(block, NumberedList):
        return [_p(f"{i}．{item}", styles["item"]) for i, item in enumerate(block.items, start=1)]
    if isinstance(block, KeyValues):
        rows = [[_p(f"{label}：", styles["cell"]), _p(value, styles["cell"])] for label, value in block.pairs]
        table = Table(rows, colWidths=[42 * mm, width - 2 * BODY_SIZE - 42 * mm], hAlign="RIGHT")
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        return [table]
    if isinstance(block, TableBlock):
        rows = [[_p(cell, styles["cell"]) for cell in row] for row in block.rows]
        widths = [w * mm for w in block.col_widths_mm] if block.col_widths_mm else None
        table = Table(rows, colWidths=widths, repeatRows=1 if block.header else 0)
        commands = [
            ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        if block.header:
            commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)))
        table.setStyle(TableStyle(commands))
        return [Spacer(1, 2 * mm), table, Spacer(1, 2 * mm)]
    if isinstance(block, Gap):
        return [Spacer(1, block.height_mm * mm)]
    if isinstance(block, Image):
        pixels_wide, pixels_high = image_size_px(block.data)
        picture_width = min(block.width_mm * mm, width)
        picture = PlatypusImage(
            io.BytesIO(block.data), width=picture_width, height=picture_width * pixels_high / pixels_wide
        )
        parts: list[Flowable] = [Spacer(1, 2 * mm), picture]
        if block.caption:
            parts.append(_p(block.caption, styles["small"]))
        return [KeepTogether(parts), Spacer(1, 2 * mm)]
    raise TypeError(f"unknown PDF block {block!r}")


def _closing(spec: DocumentSpec, styles: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    """The QR code (left) and the issuer's signature (right), kept together on one page."""
    signature = []
    if spec.signature is not None:
        signature = [
            _p(spec.signature.issuer, styles["signature"]),
            _p(spec.signature.date_text, styles["signature"]),
        ]
    if spec.qr is None:
        return [Spacer(1, 10 * mm), KeepTogether(signature)] if signature else []
    qr_cell = [QrFlowable(spec.qr.data, spec.qr.size_mm * mm)] + [
        _p(line, styles["small"]) for line in spec.qr.caption
    ]
    qr_width = max(spec.qr.size_mm * mm, 52 * mm)
    table = Table([[qr_cell, signature]], colWidths=[qr_width, width - qr_width])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
                ("VALIGN", (0, 0), (0, 0), "TOP"),
                ("VALIGN", (1, 0), (1, 0), "MIDDLE"),
                ("ALIGN", (0, 0), (0, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [Spacer(1, 8 * mm), table]


def _canvas_class(created_at: dt.datetime, footer_note: str):
    local = _local(created_at)
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    stamp = f"D:{local:%Y%m%d%H%M%S}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"

    class NumberedCanvas(Canvas):
        """Writes "第 n 页 共 N 页" on each page once the page count is known, and the fixed date."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_: stamp)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 — ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            width, _height = self._pagesize
            self.saveState()
            self.setFont(FONT_NAME, 9)
            self.setFillColor(colors.Color(0.35, 0.35, 0.35))
            self.drawCentredString(width / 2, 12 * mm, f"第 {number} 页 共 {total} 页")
            if footer_note:
                self.drawCentredString(width / 2, 17 * mm, footer_note)
            self.restoreState()

    return NumberedCanvas


def render_pdf(spec: DocumentSpec) -> bytes:
    """The document as PDF bytes; the same spec gives the same bytes."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=26 * mm,
        rightMargin=26 * mm,
        topMargin=28 * mm,
        bottomMargin=26 * mm,
        title=spec.title,
        author=spec.author,
        subject=spec.subject,
        keywords=list(spec.keywords),
        creator="bizreg",
        producer="bizreg (ReportLab)",
        invariant=1,
        pageCompression=1,
        lang="zh-CN",
        # Otherwise ReportLab adds a (non-embedded) Helvetica resource to every page.
        initialFontName=FONT_NAME,
        initialFontSize=BODY_SIZE,
    )
    width = doc.width
    story: list[Flowable] = [_p(spec.title, styles["title"])]
    if spec.number:
        story.append(_p(spec.number, styles["number"]))
    else:
        story.append(Spacer(1, 6 * mm))
    if spec.addressee:
        story.append(_p(f"{spec.addressee}：", styles["addressee"]))
    for block in spec.blocks:
        story.extend(_flow(block, styles, width))
    story.extend(_closing(spec, styles, width))
    doc.build(story, canvasmaker=_canvas_class(spec.created_at, spec.footer_note))
    return buffer.getvalue()
