"""Files that arrive with a citizen's message (e-mail, WeChat, the signed webhook, the portal chat).

The rules, checked in this order for every file:
1. refused (never stored): more files than the per-message limit, too big (settings
   CONSULTATION_ATTACHMENT_MAX_BYTES, default 10 MB), a dangerous type by extension (programs, scripts,
   shortcuts, macro-enabled Office files), program content whatever the name says (MZ/ELF/Mach-O), HTML or
   SVG carrying script, an Office file with a VBA project inside.
2. quarantined (stored, flagged, never served to staff): content that does not match the extension
   (magic bytes), an extension we cannot check, no extension.
3. accepted: everything else.

Refused files still get a TicketAttachment row (no file, `quarantined=True`, reason "已拒收：…") and a line
on the message, so the agent sees what the citizen sent and why it is not there. Every stored file has its
SHA-256 and goes through the Django storage API under a generated name: the citizen's file name is kept
only as text, never as a path.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from bizreg.consultation.models import TicketAttachment, TicketMessage

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_COUNT = 10


@dataclass(frozen=True)
class IncomingAttachment:
    """A file as a channel delivered it: the name and type the sender claimed, and the bytes."""

    file_name: str
    content_type: str
    data: bytes


class Verdict(StrEnum):
    ACCEPT = "accept"
    QUARANTINE = "quarantine"
    REFUSE = "refuse"


@dataclass(frozen=True)
class AttachmentCheck:
    verdict: Verdict
    reason: str = ""


# Programs, scripts and shortcuts: Windows runs them on a double click, so they are never stored.
DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe", "dll", "com", "bat", "cmd", "scr", "pif", "cpl", "msi", "msp", "mst", "msc", "sys", "drv",
        "vbs", "vbe", "js", "jse", "mjs", "wsf", "wsh", "wsc", "ws", "ps1", "psm1", "psd1", "ps1xml",
        "hta", "lnk", "url", "inf", "reg", "scf", "jar", "jnlp", "sh", "bash", "csh", "py", "pyw", "pl",
        "rb", "php", "asp", "aspx", "jsp", "cgi", "apk", "app", "dmg", "pkg", "deb", "rpm", "iso", "img",
        "vhd", "vhdx", "gadget", "application", "appref-ms", "chm", "hlp", "settingcontent-ms",
    }
)  # fmt: skip
# Macro-enabled Office formats (their macros run with the user's rights).
MACRO_OFFICE_EXTENSIONS = frozenset(
    {"docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppsm", "ppam", "sldm"}
)
# Formats that are markup a browser would run scripts from.
MARKUP_EXTENSIONS = frozenset({"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "mht", "mhtml"})

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
# What the first bytes of each accepted extension must be. Text formats are checked separately.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "ofd": _ZIP,  # 版式文档 (GB/T 33190), a ZIP container
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "bmp": (b"BM",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "odt": _ZIP,
    "ods": _ZIP,
    "odp": _ZIP,
    "wps": _OLE,
    "et": _OLE,
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "rar": (b"Rar!\x1a\x07",),
    "7z": (b"7z\xbc\xaf\x27\x1c",),
    "gz": (b"\x1f\x8b",),
    "amr": (b"#!AMR",),  # WeChat voice messages
    "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
}
_RIFF = {"webp": b"WEBP", "wav": b"WAVE", "avi": b"AVI "}
_FTYP = frozenset({"mp4", "m4a", "mov", "heic"})
_TEXT_EXTENSIONS = frozenset({"txt", "csv", "md", "json", "log", "eml"} | MARKUP_EXTENSIONS)
# Names for the sniffed kinds, for the reason a staff member reads.
_KIND_LABELS = {
    "pdf": "PDF",
    "png": "PNG 图片",
    "jpg": "JPEG 图片",
    "gif": "GIF 图片",
    "zip": "ZIP 压缩包/Office 文档",
    "ole": "旧版 Office 文档",
    "rar": "RAR 压缩包",
    "7z": "7z 压缩包",
    "gz": "gzip 压缩包",
}
_PROGRAM_MAGIC = (
    (b"MZ", "Windows 可执行程序"),
    (b"\x7fELF", "Linux 可执行程序"),
    (b"\xcf\xfa\xed\xfe", "macOS 可执行程序"),
    (b"\xfe\xed\xfa\xcf", "macOS 可执行程序"),
    (b"\xca\xfe\xba\xbe", "macOS/Java 程序"),
)
_SCRIPT_IN_MARKUP = re.compile(
    rb"<\s*script\b|javascript\s*:|vbscript\s*:|\son[a-z]+\s*=|<\s*iframe\b|<\s*object\b|<\s*embed\b",
    re.IGNORECASE,
)


def max_attachment_bytes() -> int:
    return int(getattr(settings, "CONSULTATION_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_attachment_count() -> int:
    return int(getattr(settings, "CONSULTATION_ATTACHMENT_MAX_COUNT", DEFAULT_MAX_COUNT))


def safe_file_name(name: str) -> str:
    """The last path component, without control characters, at most 255 characters ("附件" if empty)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/")
    name = posixpath.basename(name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        return "附件"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def _extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


def _sniff(data: bytes) -> str:
    """A short name of what the bytes are, for the mismatch reason ("" when we cannot tell)."""
    for kind, prefixes in (
        ("pdf", _MAGIC["pdf"]),
        ("png", _MAGIC["png"]),
        ("jpg", _MAGIC["jpg"]),
        ("gif", _MAGIC["gif"]),
        ("zip", _ZIP),
        ("ole", _OLE),
        ("rar", _MAGIC["rar"]),
        ("7z", _MAGIC["7z"]),
        ("gz", _MAGIC["gz"]),
    ):
        if data.startswith(prefixes):
            return kind
    return ""


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    sample = data[:65536]
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError:
            # The sample may cut a multi-byte character in two at its end.
            try:
                sample[:-3].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False


def _matches_extension(ext: str, data: bytes) -> bool:
    if ext in _MAGIC:
        return data.startswith(_MAGIC[ext])
    if ext in _RIFF:
        return data[:4] == b"RIFF" and data[8:12] == _RIFF[ext]
    if ext in _FTYP:
        return data[4:8] == b"ftyp"
    if ext in _TEXT_EXTENSIONS:
        return _looks_like_text(data)
    return False


def _has_vba_project(data: bytes) -> bool:
    """An OOXML file that carries macros has a vbaProject.bin part, whatever its extension says."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.lower().endswith("vbaproject.bin") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def check_attachment(attachment: IncomingAttachment) -> AttachmentCheck:
    """Accept, quarantine or refuse one file, with the reason in Chinese (see the module's rules)."""
    name = safe_file_name(attachment.file_name)
    data = attachment.data or b""
    limit = max_attachment_bytes()
    if len(data) > limit:
        return AttachmentCheck(
            Verdict.REFUSE, f"文件过大（{_human_size(len(data))}），单个附件不得超过 {_human_size(limit)}"
        )
    ext = _extension(name)
    if ext in DANGEROUS_EXTENSIONS:
        return AttachmentCheck(Verdict.REFUSE, f"不接收 .{ext} 类型的文件（可执行程序或脚本）")
    if ext in MACRO_OFFICE_EXTENSIONS:
        return AttachmentCheck(Verdict.REFUSE, f"不接收含宏的 Office 文件（.{ext}），请另存为不含宏的格式")
    for magic, label in _PROGRAM_MAGIC:
        if data.startswith(magic):
            return AttachmentCheck(Verdict.REFUSE, f"文件内容是{label}，不予接收")
    if ext in MARKUP_EXTENSIONS and _SCRIPT_IN_MARKUP.search(data):
        return AttachmentCheck(Verdict.REFUSE, "网页/SVG 文件中含有脚本，不予接收")
    if data.startswith(_ZIP) and _has_vba_project(data):
        return AttachmentCheck(Verdict.REFUSE, "文件中含有宏（VBA），不予接收")
    if not data:
        return AttachmentCheck(Verdict.QUARANTINE, "空文件")
    if not ext:
        return AttachmentCheck(Verdict.QUARANTINE, "文件没有扩展名，无法核对类型")
    if ext not in _MAGIC and ext not in _RIFF and ext not in _FTYP and ext not in _TEXT_EXTENSIONS:
        return AttachmentCheck(Verdict.QUARANTINE, f"无法核对 .{ext} 类型的文件内容")
    if not _matches_extension(ext, data):
        sniffed = _KIND_LABELS.get(_sniff(data), "")
        what = f"（实际为{sniffed}）" if sniffed else ""
        return AttachmentCheck(Verdict.QUARANTINE, f"文件内容与扩展名 .{ext} 不符{what}")
    return AttachmentCheck(Verdict.ACCEPT)


def _content_type(attachment: IncomingAttachment, name: str) -> str:
    claimed = (attachment.content_type or "").split(";")[0].strip().lower()
    if claimed and re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", claimed):
        return claimed[:100]
    return (mimetypes.guess_type(name)[0] or "application/octet-stream")[:100]


def store_attachments(
    message: TicketMessage, attachments: Iterable[IncomingAttachment]
) -> list[TicketAttachment]:
    """Check and store the files of `message`. Returns one TicketAttachment per file given, refused ones
    included (they have no file); refusals are also written as a line at the end of the message body."""
    stored: list[TicketAttachment] = []
    refusals: list[str] = []
    max_count = max_attachment_count()
    with transaction.atomic():
        for index, attachment in enumerate(attachments):
            name = safe_file_name(attachment.file_name)
            data = attachment.data or b""
            check = (
                AttachmentCheck(Verdict.REFUSE, f"附件数量超过上限（每条消息最多 {max_count} 个）")
                if index >= max_count
                else check_attachment(attachment)
            )
            row = TicketAttachment(
                message=message,
                file_name=name,
                content_type=_content_type(attachment, name),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            if check.verdict is Verdict.REFUSE:
                row.quarantined = True
                row.quarantine_reason = f"已拒收：{check.reason}"[:200]
                refusals.append(f"“{name}”{check.reason}")
                row.save()
            else:
                row.quarantined = check.verdict is Verdict.QUARANTINE
                row.quarantine_reason = check.reason[:200]
                ext = _extension(name)
                # A generated name: the citizen's name could carry path tricks or clash with another file.
                storage_name = row.sha256[:24] + (f".{ext}" if ext and len(ext) <= 10 else "")
                row.file.save(storage_name, ContentFile(data), save=False)
                row.save()
            stored.append(row)
        if refusals:
            note = "\n".join(f"【附件未接收】{line}" for line in refusals)
            message.body = f"{message.body}\n\n{note}" if message.body else note
            message.save(update_fields=["body"])
    return stored


def attachment_is_servable(attachment: TicketAttachment) -> bool:
    """Staff may download only files that were accepted (never quarantined or refused ones)."""
    return bool(attachment.file) and not attachment.quarantined
