"""Intake checks on real bytes: every refusal reason, and the accepted formats split into pages."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject

from bizreg.archives.imaging.intake import ScanRejected, check_and_split, check_pdf_document, sniff
from bizreg.archives.imaging.ocr import OcrLine
from bizreg.archives.imaging.pdf import PdfPage, searchable_pdf
from bizreg.archives.imaging.samples import generate_page, sample_file


@pytest.fixture(scope="module")
def page():
    return generate_page(1, "clean")


def _rejected(data: bytes, name: str = "scan.jpg") -> ScanRejected:
    with pytest.raises(ScanRejected) as info:
        check_and_split(data, name)
    assert info.value.message_zh
    return info.value


def _pdf(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_empty_file_rejected():
    assert _rejected(b"").reason_code == "empty"


def test_text_file_named_jpg_rejected():
    assert _rejected("营业执照扫描件".encode(), "licence.jpg").reason_code == "unsupported_format"


def test_truncated_jpeg_rejected(page):
    data = sample_file(page, "jpeg")
    assert _rejected(data[: len(data) // 3]).reason_code == "corrupt"


def test_decompression_bomb_rejected_from_header():
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 10_000))
        + _png_chunk(b"IEND", b"")
    )
    assert len(bomb) < 1000
    assert _rejected(bomb, "bomb.png").reason_code == "too_large"


def test_page_over_limit_but_under_pillow_bomb_limit_rejected():
    # 70 MP: Pillow only warns here; our own header check must refuse it.
    header = struct.pack(">IIBBBBB", 10_000, 7_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")
    assert _rejected(data, "big.png").reason_code == "too_large"


def test_pdf_with_javascript_rejected():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_open_action(JavaScript("app.alert('x');"))
    data = _pdf(writer)
    assert _rejected(data, "a.pdf").reason_code == "pdf_active_content"
    with pytest.raises(ScanRejected) as info:
        check_pdf_document(data)
    assert "JavaScript" in info.value.message_zh


def test_pdf_with_attachment_rejected(page):
    writer = PdfWriter(clone_from=io.BytesIO(sample_file(page, "pdf")))
    writer.add_attachment("payload.exe", b"MZ")
    error = _rejected(_pdf(writer), "a.pdf")
    assert error.reason_code == "pdf_active_content"
    assert "嵌入文件" in error.message_zh


def test_pdf_with_additional_action_rejected(page):
    # /AA alone carries none of the long names the raw byte scan looks for: the object walk must find it.
    writer = PdfWriter(clone_from=io.BytesIO(sample_file(page, "pdf")))
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/Named"), NameObject("/N"): NameObject("/Print")}
    )
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})
    assert _rejected(_pdf(writer), "a.pdf").reason_code == "pdf_active_content"


@pytest.mark.parametrize("subtype", ["/RichMedia", "/FileAttachment"])
def test_pdf_rich_media_and_attachment_annotations_rejected(subtype):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    annotation = DictionaryObject(
        {NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject(subtype)}
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    with pytest.raises(ScanRejected) as info:
        check_pdf_document(_pdf(writer))
    assert info.value.reason_code == "pdf_active_content"


def test_pdf_launch_action_rejected():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    launch = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): NameObject("/calc")}
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(launch)
    assert _rejected(_pdf(writer), "a.pdf").reason_code == "pdf_active_content"


def test_encrypted_pdf_rejected():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("secret")
    with pytest.raises(ScanRejected) as info:
        check_pdf_document(_pdf(writer))
    assert info.value.reason_code == "pdf_encrypted"


def test_corrupt_pdf_rejected():
    with pytest.raises(ScanRejected) as info:
        check_pdf_document(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    assert info.value.reason_code == "corrupt"


def test_pdf_page_without_image_rejected(page):
    writer = PdfWriter(clone_from=io.BytesIO(sample_file(page, "pdf")))
    writer.add_blank_page(595, 842)
    error = _rejected(_pdf(writer), "mixed.pdf")
    assert error.reason_code == "pdf_page_not_scan"
    assert error.message_zh == "第 2 页不是扫描图像。"


def test_check_pdf_document_returns_pages_and_text():
    data = searchable_pdf(
        [PdfPage(np.full((300, 200), 255, np.uint8), 100, [OcrLine((10, 10, 150, 40), "公示材料", 1.0)])]
    )
    result = check_pdf_document(data)
    assert result.pages == 1
    assert "公示材料" in result.text
    with pytest.raises(ScanRejected):
        check_pdf_document(b"GIF89a")


@pytest.mark.parametrize("fmt", ["jpeg", "png", "tiff", "pdf"])
def test_accepted_formats_split_with_dpi(page, fmt):
    pages = check_and_split(sample_file(page, fmt), f"scan.{fmt}")
    assert len(pages) == 1
    assert pages[0].dpi == 300
    assert pages[0].image.shape == (3508, 2480, 3)
    assert pages[0].source_format == fmt
    assert sniff(sample_file(page, fmt)) == fmt


def test_multipage_tiff_and_unknown_dpi():
    frames = [
        Image.new("L", (400, 300), 255),
        Image.new("1", (400, 300), 1),
        Image.new("RGB", (300, 400), "white"),
    ]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    pages = check_and_split(buffer.getvalue(), "batch.tif")
    assert [p.page_index for p in pages] == [0, 1, 2]
    assert pages[0].image.shape == (300, 400)
    assert pages[1].image.dtype == np.uint8 and pages[1].image.max() == 255
    assert pages[2].image.shape == (400, 300, 3)
    assert all(p.dpi is None for p in pages)
