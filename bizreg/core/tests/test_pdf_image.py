"""core.pdf / core.docx: the Image block (a chart or any PNG) in both formats, reproducible; documents without
one are rendered as before."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from PIL import Image as PILImage
from PIL import ImageDraw
from pypdf import PdfReader

from bizreg.core import pdf
from bizreg.core.docx import render_docx

CREATED = dt.datetime(2026, 3, 2, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def png(width: int = 400, height: int = 200) -> bytes:
    image = PILImage.new("RGB", (width, height), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((20, 40, 120, 180), fill=(13, 110, 253))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def spec(*blocks) -> pdf.DocumentSpec:
    return pdf.DocumentSpec(
        title="图表测试",
        created_at=CREATED,
        number="测试〔2026〕1号",
        blocks=[pdf.Text("正文。"), *blocks],
        signature=pdf.Signature("测试机关", "二〇二六年三月二日"),
    )


def test_image_in_pdf_and_docx_with_caption():
    document = spec(pdf.Image(png(), 120, "图1 测试图表"), pdf.Image(png(300, 300), 500))
    data = pdf.render_pdf(document)
    reader = PdfReader(io.BytesIO(data))
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 2
    assert "图1测试图表" in "".join(p.extract_text() for p in reader.pages).replace(" ", "")
    docx = render_docx(document)
    word = Document(io.BytesIO(docx))
    shapes = word.inline_shapes
    assert len(shapes) == 2
    assert round(shapes[0].width.mm) == 120
    assert round(shapes[1].width.mm) == 210 - 26 - 26  # capped at the text width, like the PDF
    assert "图1 测试图表" in [p.text for p in word.paragraphs]
    media = [n for n in zipfile.ZipFile(io.BytesIO(docx)).namelist() if n.startswith("word/media/")]
    assert len(media) == 2


def test_image_documents_are_reproducible():
    document = spec(pdf.Image(png(), 150, "图"))
    assert pdf.render_pdf(document) == pdf.render_pdf(spec(pdf.Image(png(), 150, "图")))
    assert render_docx(document) == render_docx(spec(pdf.Image(png(), 150, "图")))


def test_a_document_without_images_has_no_image():
    data = pdf.render_pdf(spec())
    assert not [image for page in PdfReader(io.BytesIO(data)).pages for image in page.images]
    assert not Document(io.BytesIO(render_docx(spec()))).inline_shapes


def test_image_size_reads_the_picture():
    assert pdf.image_size_px(png(640, 320)) == (640, 320)
    with pytest.raises(OSError):
        pdf.image_size_px(b"not a picture")
