"""Searchable PDFs (page image + invisible OCR text layer), text read-back, and use-copy watermarks.

The text layer is drawn in text render mode 3 (invisible) with the embedded CJK font, one text object
per OCR line, scaled horizontally to the line's box, so a viewer's search highlights the right place and
copy/paste and pypdf's extract_text give the text in reading order. ReportLab runs in invariant mode, so
the same pages always give the same bytes.
"""

from __future__ import annotations

import io
import math
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from bizreg.core.pdf import FONT_PATH, register_cjk_font

from .ocr import OcrLine

JPEG_QUALITY = 80


class PdfPage(NamedTuple):
    image: object  # the stored file's bytes (a JPEG goes in as it is), a PIL image or a uint8 numpy array
    dpi: int | None
    lines: list[OcrLine]


class _JpegReader(ImageReader):
    """A JPEG embedded as it is (DCTDecode), named by its own bytes.

    ReportLab names every image by the MD5 of its decoded pixels, 26 MB for an A4 page at 300 dpi, to
    store an image drawn twice only once; the compressed bytes identify the image as well, at a
    fiftieth of the cost."""

    def getRGBData(self) -> bytes:
        self._dataA = None  # no alpha channel: drawImage reads it after the data
        return self.fp.getvalue()


def _pil(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    return Image.fromarray(np.asarray(image))


def _page_image(image) -> ImageReader:
    """The page image as ReportLab will embed it: a stored JPEG (greyscale or RGB) untouched, anything
    else encoded once as JPEG_QUALITY."""
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format == "JPEG" and probe.mode in ("RGB", "L"):
                return _JpegReader(io.BytesIO(data))
            probe.load()
            image = probe.copy()
    jpeg = io.BytesIO()
    _pil(image).save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return _JpegReader(jpeg)


def searchable_pdf(pages: list[PdfPage]) -> bytes:
    """A PDF with each page image (JPEG) and an invisible text layer over the OCR line boxes."""
    font = register_cjk_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1, pageCompression=1)
    for page in pages:
        image = _page_image(page.image)
        dpi = page.dpi or 300
        to_pt = 72 / dpi
        pixels_w, pixels_h = image.getSize()
        width, height = pixels_w * to_pt, pixels_h * to_pt
        canvas.setPageSize((width, height))
        canvas.drawImage(image, 0, 0, width=width, height=height)
        for line in page.lines:
            text = line.text.strip()
            if not text:
                continue
            x0, y0, x1, y1 = line.box
            box_w, box_h = (x1 - x0) * to_pt, (y1 - y0) * to_pt
            size = max(1.0, box_h * 0.85)
            natural = stringWidth(text, font, size)
            obj = canvas.beginText()
            obj.setTextRenderMode(3)
            obj.setFont(font, size)
            if natural > 0:
                obj.setHorizScale(100 * box_w / natural)
            # Baseline a little above the box bottom, where the glyphs' descenders end.
            obj.setTextOrigin(x0 * to_pt, height - y1 * to_pt + box_h * 0.18)
            obj.textOut(text)
            canvas.drawText(obj)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def pdf_text(data: bytes) -> list[str]:
    """The extractable text of each page."""
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


def _watermark_page(width: float, height: float, text: str) -> bytes:
    font = register_cjk_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    diagonal = math.hypot(width, height)
    size = max(8.0, min(36.0, diagonal * 0.8 / max(1.0, stringWidth(text, font, 1))))
    canvas.setFillColorRGB(0.75, 0.1, 0.1, alpha=0.22)
    canvas.setFont(font, size)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(math.degrees(math.atan2(height, width)))
    # Three rows so a crop of part of the page still carries the mark.
    for offset in (-diagonal / 4, 0, diagonal / 4):
        canvas.drawCentredString(0, offset - size / 3, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def watermark_pdf(data: bytes, text: str) -> bytes:
    """Every page with a visible, semi-transparent diagonal watermark (who used it and when)."""
    writer = PdfWriter(clone_from=io.BytesIO(data))
    stamps: dict[tuple[float, float], object] = {}
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        key = (round(width, 2), round(height, 2))
        if key not in stamps:
            stamps[key] = PdfReader(io.BytesIO(_watermark_page(width, height, text))).pages[0]
        page.merge_page(stamps[key])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def watermark_image(image_bytes: bytes, text: str) -> bytes:
    """A page-image view with the diagonal watermark drawn in; PNG stays PNG, anything else becomes JPEG."""
    source = Image.open(io.BytesIO(image_bytes))
    fmt = "PNG" if source.format == "PNG" else "JPEG"
    base = source.convert("RGBA")
    width, height = base.size
    diagonal = math.hypot(width, height)
    probe = ImageFont.truetype(str(FONT_PATH), 100)
    size = max(10, int(100 * diagonal * 0.5 / max(1.0, probe.getlength(text))))
    font = ImageFont.truetype(str(FONT_PATH), size)
    band = Image.new("RGBA", (int(diagonal), int(size * 1.6)), (0, 0, 0, 0))
    ImageDraw.Draw(band).text(
        (band.width / 2, band.height / 2), text, font=font, fill=(190, 25, 25, 70), anchor="mm"
    )
    band = band.rotate(math.degrees(math.atan2(height, width)), expand=True, resample=Image.BICUBIC)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    for shift in (-diagonal / 4, 0, diagonal / 4):
        dx = int(shift * height / diagonal)
        dy = int(shift * width / diagonal)
        layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
        # A plain paste copies the band's alpha as is; pasting with a mask would square it.
        layer.paste(band, ((width - band.width) // 2 + dx, (height - band.height) // 2 + dy))
        overlay = Image.alpha_composite(overlay, layer)
    result = Image.alpha_composite(base, overlay)
    out = io.BytesIO()
    if fmt == "PNG":
        result.save(out, "PNG")
    else:
        result.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()
