"""core.docx: one DocumentSpec gives a .docx that says what its PDF says, byte-identical on every render."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from zoneinfo import ZoneInfo

from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from bizreg.core import pdf
from bizreg.core.docx import render_docx

CREATED = dt.datetime(2026, 3, 2, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def spec(**overrides) -> pdf.DocumentSpec:
    data = {
        "title": "测试决定书",
        "number": "穗南政数〔2026〕冒调决字第7号",
        "addressee": "欧阳明轩",
        "created_at": CREATED,
        "blocks": [
            pdf.Heading("一、基本情况"),
            pdf.Text("第一行\n第二行"),
            pdf.NumberedList(("撤销法定代表人登记", "撤销住所登记")),
            pdf.KeyValues((("企业名称", "A&B<测试>有限公司"), ("决定日期", "2026年3月1日"))),
            pdf.TableBlock(
                (("姓名", "限制期限"), ("钱多多", "2026年3月1日至2029年3月1日")), col_widths_mm=(40, 118)
            ),
            pdf.Gap(4),
        ],
        "signature": pdf.Signature("广州市南沙区政务服务和数据管理局", "二〇二六年三月二日"),
        "qr": pdf.QrCode("https://zwfw.example.gov.cn/verify/ABCD", caption=("扫码核验真伪",)),
        "author": "广州市南沙区政务服务和数据管理局",
        "footer_note": "案件编号：DC1",
    }
    data.update(overrides)
    return pdf.DocumentSpec(**data)


def docx_parts(data: bytes) -> tuple[list[str], list[list[list[str]]], list[str]]:
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    footer = [p.text for p in document.sections[0].footer.paragraphs]
    return paragraphs, tables, footer


def test_every_block_reads_back_in_order():
    paragraphs, tables, footer = docx_parts(render_docx(spec()))
    assert paragraphs[:7] == [
        "测试决定书",
        "穗南政数〔2026〕冒调决字第7号",
        "欧阳明轩：",
        "一、基本情况",
        "第一行\n第二行",
        "1．撤销法定代表人登记",
        "2．撤销住所登记",
    ]
    key_values, ruled, closing = tables
    assert key_values == [["企业名称：", "A&B<测试>有限公司"], ["决定日期：", "2026年3月1日"]]
    assert ruled == [["姓名", "限制期限"], ["钱多多", "2026年3月1日至2029年3月1日"]]
    assert "扫码核验真伪" in closing[0][0]
    assert closing[0][1] == "广州市南沙区政务服务和数据管理局\n二〇二六年三月二日"
    assert footer[0] == "案件编号：DC1" and footer[1].startswith("第 ")


def test_same_text_as_the_pdf():
    document = spec()
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render_pdf(document))).pages)
    pdf_text = pdf_text.replace("\n", "").replace(" ", "")
    paragraphs, tables, _footer = docx_parts(render_docx(document))
    cells = [cell for table in tables for row in table for cell in row]
    for text in paragraphs + cells:
        for line in text.split("\n"):
            assert line.replace(" ", "") in pdf_text, line


def test_qr_code_is_an_image_and_fonts_are_cjk_aware():
    data = render_docx(spec())
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any(name.startswith("word/media/") and name.endswith(".png") for name in names)
    document = Document(io.BytesIO(data))
    assert document.paragraphs[0].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert round(document.sections[0].page_width.mm) == 210


def test_reproducible_bytes_and_fixed_dates():
    first = render_docx(spec())
    time.sleep(1.1)  # a later second: nothing of the wall clock may reach the file
    assert render_docx(spec()) == first
    package = zipfile.ZipFile(io.BytesIO(first))
    assert {info.date_time for info in package.infolist()} == {(2026, 3, 2, 10, 30, 0)}
    props = Document(io.BytesIO(first)).core_properties
    assert props.created == props.modified == CREATED.astimezone(dt.UTC)
    assert (props.author, props.revision) == ("广州市南沙区政务服务和数据管理局", 1)
    assert render_docx(spec(number="穗南政数〔2026〕冒调决字第8号")) != first


def test_without_number_qr_or_signature():
    paragraphs, tables, _footer = docx_parts(
        render_docx(spec(number="", addressee="", qr=None, signature=None))
    )
    assert paragraphs[:2] == ["测试决定书", "一、基本情况"]
    assert len(tables) == 2
