"""Word (.docx) rendering of a core.pdf `DocumentSpec`, so a document's .docx and PDF say the same thing.

An app builds one `DocumentSpec` and gets both files: `core.pdf.render_pdf(spec)` and `render_docx(spec)`.
Every block of core.pdf has its Word form here (Heading, Text, NumberedList, KeyValues, TableBlock, Gap,
Image, Signature, QrCode) and the texts are written literally (list numbers included, no Word auto-numbering),
so the text read back from either file is the same.

Reproducible like the PDF: the same spec gives the same bytes. The package is rewritten with every zip
entry dated `spec.created_at` and the core properties (created, modified, author, revision) fixed from
the spec, so a stored document can be re-rendered and compared by its SHA-256.

Word cannot embed our TrueType font the way the PDF does; runs name a Western font and, through
w:rFonts/@w:eastAsia, the East-Asian font every Chinese Office install has (宋体), otherwise Word would
substitute an arbitrary font for the hanzi.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from django.utils import timezone
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from bizreg.core.pdf import (
    BODY_SIZE,
    TITLE_SIZE,
    Block,
    DocumentSpec,
    Gap,
    Heading,
    Image,
    KeyValues,
    NumberedList,
    QrCode,
    Signature,
    TableBlock,
    Text,
    qr_matrix,
)

EAST_ASIAN_FONT = "宋体"
WESTERN_FONT = "Times New Roman"
CELL_SIZE = 10.5
SMALL_SIZE = 9
# The PDF's page geometry (core.pdf.render_pdf), so both files paginate alike.
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"left": 26, "right": 26, "top": 28, "bottom": 26}
KEY_COLUMN_MM = 42

_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
}


# --- runs and paragraphs --------------------------------------------------------------------------------


def set_run_font(run, size: float | None = None, bold: bool | None = None) -> None:
    """Western and East-Asian fonts on the run: without w:eastAsia, Word falls back for the hanzi."""
    run.font.name = WESTERN_FONT
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, r_fonts)
    r_fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold


def _add_text(paragraph, text: str, *, size: float, bold: bool = False) -> None:
    """The text as runs, a line break for each newline (core.pdf prints "\\n" as <br/>)."""
    for index, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        set_run_font(run, size, bold)
        if index:
            run.add_break()
        run.add_text(line)


def add_paragraph(
    container,
    text: str,
    *,
    size: float = BODY_SIZE,
    bold: bool = False,
    align: str = "justify",
    first_line_chars: float = 2,
    left_chars: float = 0,
    space_before: float = 0,
    space_after: float = 0,
    line_spacing: float | None = 1.5,
):
    """A paragraph of `container` (document, cell, header or footer); indents are in characters."""
    paragraph = container.add_paragraph()
    paragraph.alignment = _ALIGN.get(align, WD_ALIGN_PARAGRAPH.JUSTIFY)
    fmt = paragraph.paragraph_format
    if left_chars:
        fmt.left_indent = Pt(size * left_chars)
    if first_line_chars:
        fmt.first_line_indent = Pt(size * first_line_chars)
    fmt.space_before = Pt(space_before)
    fmt.space_after = Pt(space_after)
    if line_spacing is not None:
        fmt.line_spacing = line_spacing
    _add_text(paragraph, text, size=size, bold=bold)
    return paragraph


def _cell_text(cell, text: str, *, size: float = CELL_SIZE, bold: bool = False, align: str = "left") -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = _ALIGN[align]
    paragraph.paragraph_format.space_after = Pt(0)
    _add_text(paragraph, text, size=size, bold=bold)


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._element.get_or_add_tcPr().append(shading)


def _repeat_as_header(row) -> None:
    """The header row repeats at the top of each page, like the PDF's repeatRows."""
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _set_widths(table, widths_mm) -> None:
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=False):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(width)


def _text_width_mm() -> float:
    return PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]


# --- blocks -----------------------------------------------------------------------------------------------


def add_table(document, block: TableBlock) -> None:
    table = document.add_table(rows=0, cols=len(block.rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for index, values in enumerate(block.rows):
        row = table.add_row()
        is_header = block.header and index == 0
        for cell, value in zip(row.cells, values, strict=True):
            _cell_text(cell, value, bold=is_header)
            if is_header:
                _shade(cell, "EBEBEB")
        if is_header:
            _repeat_as_header(row)
    if block.col_widths_mm:
        _set_widths(table, block.col_widths_mm)


def _add_key_values(document, block: KeyValues) -> None:
    """Label–value lines as a table without rules (the default table style has none), indented 2 chars."""
    table = document.add_table(rows=0, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.RIGHT
    for label, value in block.pairs:
        row = table.add_row()
        _cell_text(row.cells[0], f"{label}：")
        _cell_text(row.cells[1], value)
    indent_mm = 2 * BODY_SIZE * 25.4 / 72
    _set_widths(table, (KEY_COLUMN_MM, _text_width_mm() - indent_mm - KEY_COLUMN_MM))


def _add_image(document, block: Image) -> None:
    """The picture centred at its width (capped at the text width, as the PDF does), its caption below."""
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.add_run().add_picture(io.BytesIO(block.data), width=Mm(min(block.width_mm, _text_width_mm())))
    if block.caption:
        add_paragraph(
            document, block.caption, size=SMALL_SIZE, align="center", first_line_chars=0, space_after=6
        )


def _add_block(document, block: Block) -> None:
    if isinstance(block, Heading):
        add_paragraph(document, block.text, bold=True, space_before=6)
    elif isinstance(block, Text):
        add_paragraph(
            document,
            block.text,
            size=block.size,
            align=block.align,
            first_line_chars=2 if block.indent else 0,
        )
    elif isinstance(block, NumberedList):
        for number, item in enumerate(block.items, start=1):
            add_paragraph(document, f"{number}．{item}", left_chars=4, first_line_chars=-1.5)
    elif isinstance(block, KeyValues):
        _add_key_values(document, block)
    elif isinstance(block, TableBlock):
        add_table(document, block)
    elif isinstance(block, Gap):
        add_paragraph(document, "", space_after=block.height_mm * 72 / 25.4, line_spacing=None)
    elif isinstance(block, Image):
        _add_image(document, block)
    else:
        raise TypeError(f"unknown document block {block!r}")


def _qr_png(data: str, size_px: int = 300) -> bytes:
    """The QR code as a black-and-white PNG drawn from core.pdf's module matrix (the same code as the PDF)."""
    from PIL import Image, ImageDraw

    matrix = qr_matrix(data)
    count = len(matrix) + 8  # four modules of quiet zone on each side, as in the PDF
    module = max(1, size_px // count)
    image = Image.new("1", (module * count, module * count), 1)
    draw = ImageDraw.Draw(image)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                x, y = (col_index + 4) * module, (row_index + 4) * module
                draw.rectangle((x, y, x + module - 1, y + module - 1), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _add_signature(container, signature: Signature) -> None:
    add_paragraph(container, signature.issuer, align="right", first_line_chars=0)
    add_paragraph(container, signature.date_text, align="right", first_line_chars=0)


def _add_closing(document, spec: DocumentSpec) -> None:
    """The QR code (left) and the signature (right) in one borderless row, as the PDF lays them out."""
    if spec.qr is None:
        if spec.signature is not None:
            add_paragraph(document, "", line_spacing=None, space_after=12)
            _add_signature(document, spec.signature)
        return
    qr: QrCode = spec.qr
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    picture = left.paragraphs[0]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.add_run().add_picture(io.BytesIO(_qr_png(qr.data)), width=Mm(qr.size_mm))
    for line in qr.caption:
        add_paragraph(left, line, size=SMALL_SIZE, align="center", first_line_chars=0, line_spacing=None)
    if spec.signature is not None:
        # The cell's own first paragraph carries the issuer, so no empty line precedes it.
        first = right.paragraphs[0]
        first.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _add_text(first, spec.signature.issuer, size=BODY_SIZE)
        add_paragraph(right, spec.signature.date_text, align="right", first_line_chars=0)
    qr_width = max(qr.size_mm, 52)
    _set_widths(table, (qr_width, _text_width_mm() - qr_width))


def _field(paragraph, instruction: str, *, size: float) -> None:
    """A simple field (PAGE, NUMPAGES) that Word fills in when it lays the document out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    field.append(run)
    paragraph._p.append(field)
    # Style the field's placeholder run like its neighbours.
    from docx.text.run import Run

    set_run_font(Run(run, paragraph), size)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)


def _add_footer(section, footer_note: str) -> None:
    """第 n 页 共 N 页 (and the spec's footer note above it) on every page, as in the PDF."""
    footer = section.footer
    first = footer.paragraphs[0]
    if footer_note:
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _add_text(first, footer_note, size=SMALL_SIZE)
        pages = footer.add_paragraph()
    else:
        pages = first
    pages.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _add_text(pages, "第 ", size=SMALL_SIZE)
    _field(pages, "PAGE", size=SMALL_SIZE)
    _add_text(pages, " 页 共 ", size=SMALL_SIZE)
    _field(pages, "NUMPAGES", size=SMALL_SIZE)
    _add_text(pages, " 页", size=SMALL_SIZE)


# --- the package -----------------------------------------------------------------------------------------


def _wall_clock(value: dt.datetime) -> dt.datetime:
    """The bureau's local time without zone and microseconds (what core properties and zip entries hold)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value, timezone.get_default_timezone())
    return value.replace(tzinfo=None, microsecond=0)


def normalized_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite the package with every entry dated `when`, so the same document gives the same bytes."""
    when = _wall_clock(when)
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def new_document():
    """An empty A4 document with the PDF's margins and the CJK-aware Normal style."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    normal = document.styles["Normal"]
    normal.font.name = WESTERN_FONT
    normal.font.size = Pt(BODY_SIZE)
    r_pr = normal.element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    language = r_pr.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        r_pr.append(language)
    language.set(qn("w:eastAsia"), "zh-CN")
    return document


def save_reproducibly(document, *, created_at: dt.datetime, title: str, author: str = "", **props) -> bytes:
    """The document's bytes with fixed core properties and zip dates (see the module docstring)."""
    when = _wall_clock(created_at)
    core = document.core_properties
    # Core properties are W3CDTF in UTC (python-docx writes a naive value with a "Z").
    utc = (
        created_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
        if timezone.is_aware(created_at)
        else when
    )
    core.title = title
    core.author = author
    core.last_modified_by = author
    core.subject = props.get("subject", "")
    core.keywords = props.get("keywords", "")
    core.comments = ""
    core.created = core.modified = utc
    core.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return normalized_zip(buffer.getvalue(), when)


def render_docx(spec: DocumentSpec) -> bytes:
    """The document as .docx bytes, laid out like render_pdf(spec); the same spec gives the same bytes."""
    document = new_document()
    add_paragraph(
        document,
        spec.title,
        size=TITLE_SIZE,
        bold=True,
        align="center",
        first_line_chars=0,
        space_after=6 if spec.number else 18,
    )
    if spec.number:
        add_paragraph(document, spec.number, align="center", first_line_chars=0, space_after=18)
    if spec.addressee:
        add_paragraph(document, f"{spec.addressee}：", align="left", first_line_chars=0, space_before=6)
    for block in spec.blocks:
        _add_block(document, block)
    _add_closing(document, spec)
    _add_footer(document.sections[0], spec.footer_note)
    return save_reproducibly(
        document,
        created_at=spec.created_at,
        title=spec.title,
        author=spec.author,
        subject=spec.subject,
        keywords="，".join(k for k in spec.keywords if k),
    )
