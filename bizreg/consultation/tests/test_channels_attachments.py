"""Files that arrive with a citizen's message: accepted, quarantined or refused, each with its reason."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.storage import default_storage

from bizreg.consultation.models import TicketAttachment, TicketChannel
from bizreg.consultation.services.attachments import (
    IncomingAttachment,
    attachment_is_servable,
    check_attachment,
    safe_file_name,
    store_attachments,
)
from bizreg.consultation.tests.tickets_fixtures import open_ticket

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _docx(with_macros: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        if with_macros:
            archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return buffer.getvalue()


@pytest.fixture
def message(authority):
    ticket = open_ticket(authority, channel=TicketChannel.EMAIL, external_id="a@example.com")
    return ticket.messages.get()


def test_an_accepted_file_is_stored_with_its_sha256(message):
    [row] = store_attachments(message, [IncomingAttachment("营业执照.pdf", "application/pdf", PDF)])
    row.refresh_from_db()
    assert not row.quarantined and row.quarantine_reason == ""
    assert row.sha256 == hashlib.sha256(PDF).hexdigest()
    assert row.size == len(PDF) and row.file_name == "营业执照.pdf"
    with default_storage.open(row.file.name) as stored:
        assert stored.read() == PDF
    # the stored name is generated, never the citizen's
    assert "营业执照" not in row.file.name
    assert attachment_is_servable(row)


@pytest.mark.parametrize(
    ("name", "data", "reason_part"),
    [
        ("setup.exe", b"MZ\x90\x00", ".exe"),
        ("invoice.js", b"alert(1)", ".js"),
        ("run.bat", b"del *.*", ".bat"),
        ("screensaver.scr", b"MZ", ".scr"),
        ("macro.vbs", b"MsgBox 1", ".vbs"),
        ("申请书.docm", _docx(True), "含宏"),
        ("报表.xlsm", _docx(True), "含宏"),
        ("说明.pdf", b"MZ\x90\x00\x03\x00", "Windows 可执行程序"),
        ("页面.html", b"<html><body><script>alert(1)</script></body></html>", "脚本"),
        ("图.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "脚本"),
        ("申请书.docx", _docx(True), "宏"),
    ],
)
def test_dangerous_files_are_refused_with_a_reason_on_the_message(message, name, data, reason_part):
    [row] = store_attachments(message, [IncomingAttachment(name, "application/octet-stream", data)])
    row.refresh_from_db()
    assert row.quarantined and row.quarantine_reason.startswith("已拒收：")
    assert reason_part in row.quarantine_reason
    assert not row.file  # never stored
    assert not attachment_is_servable(row)
    message.refresh_from_db()
    assert f"【附件未接收】“{name}”" in message.body


def test_an_oversized_file_is_refused(message, settings):
    settings.CONSULTATION_ATTACHMENT_MAX_BYTES = 1024
    [row] = store_attachments(
        message, [IncomingAttachment("大文件.pdf", "application/pdf", PDF + b"0" * 2048)]
    )
    assert row.quarantined and not row.file
    assert "文件过大" in row.quarantine_reason and "不得超过 1 KB" in row.quarantine_reason
    message.refresh_from_db()
    assert "文件过大" in message.body


def test_content_that_does_not_match_its_extension_is_quarantined(message):
    [row] = store_attachments(message, [IncomingAttachment("照片.jpg", "image/jpeg", PDF)])
    row.refresh_from_db()
    assert row.quarantined and row.file  # kept for inspection, never served
    assert row.quarantine_reason == "文件内容与扩展名 .jpg 不符（实际为PDF）"
    assert not attachment_is_servable(row)
    message.refresh_from_db()
    assert "附件未接收" not in message.body  # quarantine is not a refusal


@pytest.mark.parametrize(
    ("name", "reason"),
    [("数据.dat", "无法核对 .dat 类型的文件内容"), ("README", "文件没有扩展名，无法核对类型")],
)
def test_unverifiable_types_are_quarantined(message, name, reason):
    [row] = store_attachments(message, [IncomingAttachment(name, "", b"some bytes")])
    assert row.quarantined and row.quarantine_reason == reason


def test_ordinary_types_pass_and_keep_their_content_type(message):
    rows = store_attachments(
        message,
        [
            IncomingAttachment("图.png", "image/png", PNG),
            IncomingAttachment("章程.docx", "", _docx(False)),
            IncomingAttachment("说明.txt", "text/plain; charset=utf-8", "你好".encode("gb18030")),
            IncomingAttachment("表.csv", "text/csv", "名称,数量\n甲,1\n".encode()),
        ],
    )
    assert [row.quarantined for row in rows] == [False, False, False, False]
    assert [row.content_type for row in rows] == [
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
        "text/csv",
    ]


def test_path_tricks_in_names_are_removed():
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\x\\申请书.pdf") == "申请书.pdf"
    assert safe_file_name("a\x00b\r\n.pdf") == "ab.pdf"
    assert safe_file_name("") == "附件"
    assert len(safe_file_name("长" * 300 + ".pdf")) <= 255
    assert safe_file_name("长" * 300 + ".pdf").endswith(".pdf")


def test_more_files_than_the_limit_are_refused(message, settings):
    settings.CONSULTATION_ATTACHMENT_MAX_COUNT = 2
    rows = store_attachments(message, [IncomingAttachment(f"{i}.pdf", "", PDF) for i in range(3)])
    assert [row.quarantined for row in rows] == [False, False, True]
    assert "附件数量超过上限" in rows[2].quarantine_reason


def test_tickets_store_attachments_through_these_rules(authority):
    ticket = open_ticket(
        authority,
        channel=TicketChannel.EMAIL,
        external_id="b@example.com",
        attachments=[
            IncomingAttachment("材料.pdf", "application/pdf", PDF),
            IncomingAttachment("病毒.exe", "application/x-msdownload", b"MZ"),
        ],
    )
    rows = TicketAttachment.objects.filter(message__ticket=ticket).order_by("id")
    assert [(row.file_name, row.quarantined) for row in rows] == [("材料.pdf", False), ("病毒.exe", True)]
    assert "【附件未接收】“病毒.exe”" in ticket.messages.get().body


def test_check_is_pure_and_explains_itself():
    assert check_attachment(IncomingAttachment("a.pdf", "", PDF)).verdict == "accept"
    assert check_attachment(IncomingAttachment("a.pdf", "", b"")).reason == "空文件"
