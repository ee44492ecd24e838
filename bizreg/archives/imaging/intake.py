"""Checks on an uploaded scan or PDF before anything decodes it, and the split into page images.

The file type is sniffed from its magic bytes (the name's extension proves nothing). Pixel counts are read
from the header before any pixel is decoded, so a small file declaring a gigantic image (a decompression
bomb) is refused without allocating it. PDFs are refused when they carry anything a viewer could execute
or drop on disk: JavaScript, additional actions, launch actions, embedded files or attachment annotations,
rich media. Every refusal is a `ScanRejected` with a stable reason code and a Chinese message for the user.

Pages come out as numpy uint8 arrays, shape (h, w, 3) RGB for colour scans or (h, w) for greyscale and
bilevel ones (bilevel pages become 0/255 greyscale); colour is kept because DA/T 31 requires it for red
headers and seals.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

MAX_PAGE_PIXELS = 60_000_000  # about A3 at 600 dpi, the largest a scanner of record produces
MAX_TOTAL_PIXELS = 1_500_000_000
MAX_PAGES = 1000

# Pillow's own guard, at our page limit: it raises DecompressionBombError at twice this.
Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS

_DANGEROUS_KEYS = {
    "/JS": "JavaScript 脚本",
    "/JavaScript": "JavaScript 脚本",
    "/AA": "自动执行动作（/AA）",
    "/Launch": "启动外部程序的动作（/Launch）",
    "/EmbeddedFiles": "嵌入文件",
    "/EmbeddedFile": "嵌入文件",
    "/RichMedia": "富媒体内容",
}
_DANGEROUS_VALUES = {
    "/JavaScript": "JavaScript 脚本",
    "/Launch": "启动外部程序的动作（/Launch）",
    "/FileAttachment": "文件附件注释",
    "/RichMedia": "富媒体内容",
    "/EmbeddedFile": "嵌入文件",
    "/ImportData": "导入数据的动作",
}
# Spelled-out names also searched in the raw bytes, for objects the xref does not reach; long enough that
# compressed image data cannot contain them by chance.
_RAW_MARKERS = (b"/JavaScript", b"/EmbeddedFile", b"/Launch", b"/RichMedia", b"/FileAttachment")


class ScanRejected(Exception):
    """An upload refused at intake; `reason_code` is stable for logs and tests, `message_zh` is for users."""

    def __init__(self, reason_code: str, message_zh: str):
        super().__init__(f"{reason_code}: {message_zh}")
        self.reason_code = reason_code
        self.message_zh = message_zh


@dataclass
class PageImage:
    image: np.ndarray  # uint8, (h, w, 3) RGB or (h, w) greyscale
    dpi: int | None  # from the file's metadata; None when the file does not say
    page_index: int  # 0-based position in the uploaded file
    source_format: str  # "jpeg", "png", "tiff", "pdf"


@dataclass
class PdfCheck:
    pages: int
    text: str
    page_texts: list[str]


def sniff(data: bytes) -> str | None:
    """The format from the magic bytes: "jpeg", "png", "tiff", "pdf" or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    # The PDF header may follow a little junk; readers accept it within the first KiB.
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return None


def _check_pixels(width: int, height: int, page: int, total: int) -> int:
    if width <= 0 or height <= 0:
        raise ScanRejected("corrupt", f"第 {page} 页图像尺寸无效。")
    pixels = width * height
    if pixels > MAX_PAGE_PIXELS:
        raise ScanRejected(
            "too_large",
            f"第 {page} 页图像为 {width}×{height} 像素，"
            f"超过单页上限 {MAX_PAGE_PIXELS // 1_000_000} 百万像素，"
            "可能是压缩炸弹，已拒收。",
        )
    total += pixels
    if total > MAX_TOTAL_PIXELS:
        raise ScanRejected("too_large", "文件的图像总像素超过上限，请分批上传。")
    return total


def _to_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        scale = 257 if image.mode != "I" or np.asarray(image).max() > 255 else 1
        return (np.asarray(image, dtype=np.uint32) // scale).clip(0, 255).astype(np.uint8)
    if image.mode in ("L", "RGB"):
        return np.asarray(image)  # convert() would copy the whole page first, for nothing
    if image.mode in ("1", "LA"):
        return np.asarray(image.convert("L"))
    if image.mode == "P" and image.palette is not None and image.palette.mode == "L":
        return np.asarray(image.convert("L"))
    return np.asarray(image.convert("RGB"))


def _dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        value = round(float(dpi[0]))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value > 1 else None


def _split_raster(data: bytes, fmt: str) -> list[PageImage]:
    pages: list[PageImage] = []
    total = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_PAGES:
                raise ScanRejected("too_many_pages", f"文件有 {frames} 页，超过上限 {MAX_PAGES} 页。")
            for index in range(frames):
                image.seek(index)
                # Only the header has been read so far: refuse before decoding a single pixel.
                total = _check_pixels(image.width, image.height, index + 1, total)
                image.load()
                pages.append(PageImage(_to_array(image), _dpi(image), index, fmt))
    except ScanRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ScanRejected("too_large", "图像像素数超过上限，可能是压缩炸弹，已拒收。") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
        raise ScanRejected("corrupt", "图像文件已损坏或不完整，无法读取。") from exc
    return pages


def _scan_objects(root) -> None:
    """Walk every object reachable from the trailer and refuse the first dangerous key or action type."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            try:
                item = item.get_object()
            except Exception:  # noqa: BLE001 - a dangling reference is not executable content
                continue
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in _DANGEROUS_KEYS:
                    raise ScanRejected(
                        "pdf_active_content", f"PDF 含{_DANGEROUS_KEYS[key]}，出于安全原因拒收。"
                    )
                typed = key in ("/S", "/Subtype", "/Type") and isinstance(value, NameObject)
                if typed and value in _DANGEROUS_VALUES:
                    raise ScanRejected(
                        "pdf_active_content", f"PDF 含{_DANGEROUS_VALUES[value]}，出于安全原因拒收。"
                    )
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _open_pdf(data: bytes) -> PdfReader:
    """Open and vet a PDF: readable, not encrypted, no active content or embedded files."""
    for marker in _RAW_MARKERS:
        if marker in data:
            label = _DANGEROUS_KEYS.get(marker.decode()) or _DANGEROUS_VALUES.get(marker.decode(), "活动内容")
            raise ScanRejected("pdf_active_content", f"PDF 含{label}，出于安全原因拒收。")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ScanRejected("pdf_encrypted", "PDF 已加密或设有打开密码，请上传未加密的文件。")
        _scan_objects(reader.trailer)
        count = len(reader.pages)
    except ScanRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for a broken file
        raise ScanRejected("corrupt", "PDF 文件已损坏或不完整，无法读取。") from exc
    if count == 0:
        raise ScanRejected("empty", "PDF 没有页面。")
    if count > MAX_PAGES:
        raise ScanRejected("too_many_pages", f"PDF 有 {count} 页，超过上限 {MAX_PAGES} 页。")
    return reader


def check_pdf_document(data: bytes) -> PdfCheck:
    """Vet a born-digital PDF or public-notice upload and return its page count and extracted text."""
    if not data:
        raise ScanRejected("empty", "文件为空（0 字节）。")
    if sniff(data) != "pdf":
        raise ScanRejected("not_pdf", "文件不是 PDF 格式。")
    reader = _open_pdf(data)
    texts = []
    try:
        for page in reader.pages:
            texts.append(page.extract_text() or "")
    except Exception as exc:  # noqa: BLE001
        raise ScanRejected("corrupt", "PDF 文件已损坏，无法读取文字内容。") from exc
    return PdfCheck(pages=len(texts), text="\n".join(texts), page_texts=texts)


def _page_scan_image(page, number: int, total: int) -> tuple[Image.Image, int]:
    """The largest image XObject drawn on the page, its pixel-count checked before decoding."""
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    best = None
    if isinstance(xobjects, DictionaryObject):
        for name, ref in xobjects.items():
            xobj = ref.get_object()
            if xobj.get("/Subtype") != "/Image":
                continue
            width, height = int(xobj.get("/Width", 0)), int(xobj.get("/Height", 0))
            total = _check_pixels(width, height, number, total)
            if best is None or width * height > best[1]:
                best = (name, width * height)
    if best is None:
        raise ScanRejected("pdf_page_not_scan", f"第 {number} 页不是扫描图像。")
    return page.images[best[0]].image, total


def _split_pdf(data: bytes) -> list[PageImage]:
    reader = _open_pdf(data)
    pages: list[PageImage] = []
    total = 0
    for index, page in enumerate(reader.pages):
        try:
            image, total = _page_scan_image(page, index + 1, total)
            image.load()
        except ScanRejected:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ScanRejected("corrupt", f"第 {index + 1} 页图像已损坏，无法读取。") from exc
        width_pt = float(page.mediabox.width)
        dpi = round(image.width / (width_pt / 72)) if width_pt > 0 else None
        pages.append(PageImage(_to_array(image), dpi, index, "pdf"))
    return pages


def check_and_split(data: bytes, filename: str) -> list[PageImage]:
    """Vet an uploaded scan and split it into page images; raises ScanRejected with the reason.

    `filename` is only used in messages: the format is decided by the content.
    """
    if not data:
        raise ScanRejected("empty", f"文件“{filename}”为空（0 字节）。")
    fmt = sniff(data)
    if fmt is None:
        raise ScanRejected(
            "unsupported_format", f"文件“{filename}”不是可接收的扫描格式（TIFF、JPEG、PNG 或扫描件 PDF）。"
        )
    if fmt == "pdf":
        return _split_pdf(data)
    return _split_raster(data, fmt)
