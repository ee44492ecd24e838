"""OCR accuracy on generated pages, the searchable PDF text layer and watermarks (one engine, 3 pages)."""

import io

import numpy as np
import pytest
from PIL import Image

from bizreg.archives.imaging.intake import PageImage
from bizreg.archives.imaging.ocr import (
    OcrLine,
    character_error_rate,
    edit_distance,
    get_engine,
    order_lines,
    recognize,
)
from bizreg.archives.imaging.pdf import PdfPage, pdf_text, searchable_pdf, watermark_image, watermark_pdf
from bizreg.archives.imaging.process import process_page
from bizreg.archives.imaging.samples import generate_page, sample_file

WATERMARK = "南沙区政数局 档案利用 张三 2026-12-02 14:03"


@pytest.fixture(scope="module")
def engine():
    return get_engine()


@pytest.fixture(scope="module")
def clean_ocr(engine):
    sample = generate_page(2, "clean")
    return sample, recognize(sample.image)


def test_edit_distance_and_cer():
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3
    assert character_error_rate("准予 设立", "准予设立\n") == 0.0
    assert character_error_rate("准予", "准予设立") == 0.5


def test_reading_order_joins_lines_on_one_row():
    lines = [
        OcrLine((600, 100, 900, 140), "右", 0.9),
        OcrLine((100, 300, 500, 340), "第二行", 0.9),
        OcrLine((100, 105, 500, 138), "左", 0.9),
    ]
    ordered, text = order_lines(lines)
    assert [line.text for line in ordered] == ["左", "右", "第二行"]
    assert text == "左 右\n第二行"


def test_engine_is_shared(engine):
    assert get_engine() is engine


def test_clean_page_cer_under_two_percent(clean_ocr):
    sample, result = clean_ocr
    assert character_error_rate(result.text, sample.text) < 0.02
    assert result.confidence > 0.9
    assert result.text.splitlines()[0].replace(" ", "") == sample.title
    assert all(0 <= line.box[0] < line.box[2] <= 2480 for line in result.lines)


def test_scanned_page_after_processing_reads_well(engine):
    sample = generate_page(3, "scanned")
    processed = process_page(PageImage(np.asarray(sample.image), sample.dpi, 0, "jpeg"))
    result = recognize(processed.image)
    assert character_error_rate(result.text, sample.text) < 0.05


def test_blank_image_has_no_text(engine):
    result = recognize(np.full((600, 400), 255, np.uint8))
    assert result.text == "" and result.lines == [] and result.confidence == 0.0


def test_searchable_pdf_text_layer(clean_ocr):
    sample, result = clean_ocr
    data = searchable_pdf([PdfPage(sample.image, sample.dpi, result.lines)])
    assert data == searchable_pdf([PdfPage(sample.image, sample.dpi, result.lines)])
    (text,) = pdf_text(data)
    compact = text.replace(" ", "")
    assert sample.enterprise_name in compact
    assert sample.uscc in compact
    assert compact.index(sample.title) < compact.index(sample.uscc)
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(data)).pages[0]
    assert round(float(page.mediabox.width)) == 595  # 2480 px at 300 dpi is A4
    assert b"3 Tr" in page.get_contents().get_data()


def test_watermark_pdf_on_every_page(clean_ocr):
    sample, result = clean_ocr
    data = searchable_pdf([PdfPage(sample.image, 300, result.lines), PdfPage(sample.image, 300, [])])
    marked = watermark_pdf(data, WATERMARK)
    texts = pdf_text(marked)
    assert len(texts) == 2
    assert all(WATERMARK in text for text in texts)
    assert b"/ca 0.22" in marked or b"/ca .22" in marked or b"/CA" in marked or b"ExtGState" in marked


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_watermark_image_changes_pixels(fmt):
    sample = generate_page(1, "clean")
    source = sample_file(sample, fmt)
    marked = watermark_image(source, WATERMARK)
    image = Image.open(io.BytesIO(marked))
    assert image.format == fmt.upper()
    assert image.size == sample.image.size
    before = np.asarray(Image.open(io.BytesIO(source)).convert("RGB")).astype(int)
    after = np.asarray(image.convert("RGB")).astype(int)
    reddish = (after[..., 0] - after[..., 2] > 20) & (before[..., 0] - before[..., 2] <= 20)
    assert reddish.sum() > 1000
