"""Deterministic registration-document page images with their ground truth, for tests, demo and bench.

`generate_page(seed, quality)` draws an A4 page (title, 文号, enterprise name, USCC, body paragraphs,
issuing authority, date, a red seal on notices) with the embedded CJK font and then degrades it the way
a scanner does for the quality level. The same seed and quality always give the same pixels, so the OCR
bench compares like with like across runs. `sample_file` writes the page as JPEG/TIFF/PNG/PDF with the
DPI in the file's metadata, the way a scanner's output arrives at intake.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bizreg.core.pdf import FONT_PATH

QUALITIES = ("clean", "scanned", "poor")
A4_MM = (210, 297)

# (doc_type value of bizreg.archives.models.DocType, title, has seal)
_DOC_KINDS = (
    ("notice_approval", "准予设立登记通知书", True),
    ("notice_other", "受理通知书", True),
    ("articles", "公司章程", False),
    ("resolution", "股东会决议", False),
    ("notice_change", "变更登记通知书", True),
)

_NAME_HEADS = ("广州南沙", "广州", "南沙")
_NAME_CORES = ("明珠湾", "蕉门河", "海港", "灵山岛", "金洲", "横沥", "万顷沙", "龙穴", "黄阁", "珠江")
_NAME_TRADES = ("科技", "贸易", "物流", "供应链", "餐饮管理", "信息技术", "建筑工程", "文化传媒", "船舶服务")
_NAME_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_PERSONS = ("陈伟", "李娜", "张敏", "王芳", "刘洋", "黄静", "周强", "吴磊", "郑丽", "梁杰")
_STREETS = ("港前大道", "进港大道", "海滨路", "凤凰大道", "环市大道南", "金隆路", "黄阁大道")
_SCOPES = (
    "软件开发；信息系统集成服务；技术服务、技术开发、技术咨询",
    "货物进出口；技术进出口；国内贸易代理；供应链管理服务",
    "普通货物仓储服务；国际货物运输代理；装卸搬运",
    "餐饮管理；食品销售；会议及展览服务",
    "船舶租赁；船舶修理；港口经营",
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass
class SamplePage:
    """A generated page. `text` is the ground truth as drawn, one printed line per text line."""

    image: Image.Image
    dpi: int
    text: str
    doc_type: str
    title: str
    enterprise_name: str
    uscc: str
    doc_number: str
    doc_date: str
    skew: float = 0.0
    quality: str = "clean"
    # Where each line of `text` was drawn (x0, y0, x1, y1, the ink's bounding box) in pixels of the page as
    # rendered, before degrade(): they fit `image` only when it was not rotated, i.e. skew == 0.
    line_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)


def make_uscc(rng: random.Random) -> str:
    """A valid USCC (GB 32100-2015 check digits) for a Nansha enterprise: 91 4401 15 <org code> <check>."""
    org = [rng.randrange(10) if i < 8 else 0 for i in range(9)]
    org_check = 11 - sum(w * d for w, d in zip(_ORG_WEIGHTS, org[:8], strict=True)) % 11
    org_chars = "".join(str(d) for d in org[:8]) + {10: "X", 11: "0"}.get(org_check, str(org_check))
    body = "91440115" + org_chars
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_ALPHABET[(31 - total % 31) % 31]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, indent: float) -> list[str]:
    lines: list[str] = []
    current = ""
    limit = width - indent
    for char in text:
        if font.getlength(current + char) > limit and current:
            lines.append(current)
            current = ""
            limit = width
        current += char
    if current:
        lines.append(current)
    return lines


def _content(rng: random.Random, kind: tuple[str, str, bool], name: str, uscc: str) -> dict:
    doc_type, title, _ = kind
    year = rng.choice((2019, 2020, 2021, 2022, 2023, 2024))
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    date_zh = f"{year}年{month}月{day}日"
    person = rng.choice(_PERSONS)
    address = f"广州市南沙区{rng.choice(_STREETS)}{rng.randint(1, 999)}号{rng.randint(101, 1808)}房"
    capital = rng.choice((10, 50, 100, 200, 500, 1000))
    scope = rng.choice(_SCOPES)
    serial = rng.randint(1, 99999)
    if doc_type in ("notice_approval", "notice_change"):
        number = f"穗南市监内设字〔{year}〕第{serial:05d}号"
    elif doc_type == "notice_other":
        number = f"（南沙）登字〔{year}〕第{serial}号"
    else:
        number = ""
    change_what = rng.choice(("住所", "经营范围", "法定代表人", "注册资本"))
    bodies = {
        "notice_approval": [
            f"{name}：",
            f"经审查，你单位提交的设立登记申请材料齐全，符合法定形式，我局决定准予设立登记。"
            f"统一社会信用代码：{uscc}。法定代表人：{person}。住所：{address}。",
            f"注册资本人民币{capital}万元。经营范围：{scope}。",
            "请于收到本通知书之日起领取营业执照，并依法开展经营活动。",
        ],
        "notice_other": [
            f"{name}：",
            f"你单位于{date_zh}提交的设立登记申请材料齐全，符合法定形式，我局决定予以受理。"
            f"统一社会信用代码：{uscc}。",
            "我局将在规定期限内作出是否准予登记的决定，请保持联系方式畅通。",
        ],
        "articles": [
            f"第一条 为规范{name}（以下简称公司）的组织和行为，根据《中华人民共和国公司法》制定本章程。",
            f"第二条 公司名称：{name}。统一社会信用代码：{uscc}。",
            f"第三条 公司住所：{address}。",
            f"第四条 公司注册资本为人民币{capital}万元，经营范围：{scope}。",
            f"第五条 公司法定代表人由执行董事{person}担任。",
        ],
        "resolution": [
            f"会议时间：{date_zh}。会议地点：{address}。",
            f"{name}（统一社会信用代码：{uscc}）股东会会议由执行董事{person}召集和主持，"
            "全体股东出席会议，所代表的表决权占公司全部表决权的百分之百。",
            f"经审议，全体股东一致同意：变更公司{change_what}，并相应修改公司章程。",
            "本决议经全体股东签字盖章后生效。",
        ],
        "notice_change": [
            f"{name}：",
            f"经审查，你单位提交的变更登记申请材料齐全，符合法定形式，我局决定准予变更登记。"
            f"统一社会信用代码：{uscc}。",
            f"变更事项：{change_what}。变更后住所：{address}。",
            "请于收到本通知书之日起换领营业执照。",
        ],
    }
    return {
        "title": title if doc_type != "articles" else f"{name}章程",
        "number": number,
        "body": bodies[doc_type],
        "signature": "广州市南沙区市场监督管理局" if number else f"股东签字：{person}",
        "date": date_zh,
    }


def _draw_seal(image: Image.Image, center: tuple[int, int], radius: int) -> None:
    """A red seal ring with a star, multiplied over the page like stamp ink (only its box is touched)."""
    x, y = center
    box = (x - radius - 2, y - radius - 2, x + radius + 3, y + radius + 3)
    size = (box[2] - box[0], box[3] - box[1])
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    cx, cy = x - box[0], y - box[1]
    ring = max(3, radius // 14)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=255, width=ring)
    star = []
    for i in range(10):
        r = radius * (0.32 if i % 2 == 0 else 0.13)
        angle = -np.pi / 2 + i * np.pi / 5
        star.append((cx + r * np.cos(angle), cy + r * np.sin(angle)))
    draw.polygon(star, fill=255)
    mask = np.asarray(layer, dtype=np.float32)[..., None] / 255.0 * 0.85
    pixels = np.asarray(image.crop(box), dtype=np.float32)
    red = np.array([210.0, 30.0, 35.0], dtype=np.float32)
    out = pixels * (1 - mask) + np.minimum(pixels, red) * mask
    image.paste(Image.fromarray(out.astype(np.uint8)), box[:2])


def _render(
    content: dict, dpi: int, with_seal: bool
) -> tuple[Image.Image, list[str], list[tuple[int, int, int, int]]]:
    px_per_mm = dpi / 25.4
    width, height = (round(v * px_per_mm) for v in A4_MM)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    pt = dpi / 72
    title_font, body_font = _font(round(22 * pt)), _font(round(14 * pt))
    left, right = round(28 * px_per_mm), width - round(26 * px_per_mm)
    y = round(37 * px_per_mm)
    lines: list[str] = []
    boxes: list[tuple[int, int, int, int]] = []

    def drawn(position: tuple[float, float], text: str, font: ImageFont.FreeTypeFont) -> None:
        draw.text(position, text, font=font, fill=(0, 0, 0))
        lines.append(text)
        x0, y0, x1, y1 = draw.textbbox(position, text, font=font)
        boxes.append((round(x0), round(y0), round(x1), round(y1)))

    title_w = title_font.getlength(content["title"])
    if title_w > right - left:
        title_font = _font(int(22 * pt * (right - left) / title_w))
        title_w = title_font.getlength(content["title"])
    drawn(((width - title_w) / 2, y), content["title"], title_font)
    y += round(22 * pt * 2.0)
    if content["number"]:
        number_w = body_font.getlength(content["number"])
        drawn(((width - number_w) / 2, y), content["number"], body_font)
        y += round(14 * pt * 2.4)

    leading = round(14 * pt * 1.75)
    indent = body_font.getlength("中中")
    for index, paragraph in enumerate(content["body"]):
        addressee = index == 0 and paragraph.endswith("：")
        for n, line in enumerate(_wrap(paragraph, body_font, right - left, 0 if addressee else indent)):
            x = left + (indent if n == 0 and not addressee else 0)
            drawn((x, y), line, body_font)
            y += leading
    y += leading * 2
    sig_x = right - body_font.getlength(content["signature"])
    drawn((sig_x, y), content["signature"], body_font)
    date_y = y + leading
    date_x = right - body_font.getlength(content["date"]) - indent
    drawn((date_x, date_y), content["date"], body_font)
    if with_seal:
        radius = round(21 * px_per_mm)
        # Official seals sit over the issuer and date ("骑年盖月"), as on the real notices.
        _draw_seal(image, (round(right - radius * 1.3), round(date_y - leading * 0.3)), radius)
    return image, lines, boxes


def _rotate(array: np.ndarray, angle: float, fill: tuple[int, ...]) -> np.ndarray:
    h, w = array.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(array, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


@cache
def _noise_tile(seed: int, sigma: float, size: int = 509) -> tuple[np.ndarray, np.ndarray]:
    noise = np.random.default_rng(seed).normal(0, sigma, (size, size))
    return np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)


def _add_grain(pixels: np.ndarray, sigma: float, rng: random.Random) -> np.ndarray:
    """Scanner grain from a tiled noise field (a full-page normal draw would take most of the time budget);
    added with saturating uint8 arithmetic as two non-negative parts."""
    plus, minus = _noise_tile(rng.randrange(4), sigma)
    h, w = pixels.shape[:2]
    reps = (h // plus.shape[0] + 2, w // plus.shape[1] + 2)
    oy, ox = rng.randrange(plus.shape[0]), rng.randrange(plus.shape[1])
    window = (slice(oy, oy + h), slice(ox, ox + w))
    plus, minus = np.tile(plus, reps)[window], np.tile(minus, reps)[window]
    plus3, minus3 = cv2.merge([plus] * 3), cv2.merge([minus] * 3)
    return cv2.subtract(cv2.add(pixels, plus3), minus3)


def degrade(
    image: Image.Image, quality: str, rng: random.Random, skew: float | None = None
) -> tuple[Image.Image, float]:
    """Apply the quality level's scanner defects; returns the image and the skew applied (degrees, CCW)."""
    if quality == "clean":
        angle = skew or 0.0
        if not angle:
            return image, 0.0
        return Image.fromarray(_rotate(np.asarray(image), angle, (255, 255, 255))), angle
    limit = 3.0 if quality == "scanned" else 5.0
    angle = skew if skew is not None else rng.choice((-1, 1)) * rng.uniform(0.5, limit)
    pixels = np.asarray(image)
    if quality == "poor":
        pixels = cv2.convertScaleAbs(pixels, alpha=140 / 255, beta=95)  # faded toner on grey paper
    paper = tuple(int(v) for v in pixels[5, 5])
    pixels = _rotate(pixels, angle, paper)
    pixels = cv2.GaussianBlur(pixels, (3, 3), 0.7 if quality == "scanned" else 1.1)
    out = _add_grain(pixels, 6.0 if quality == "scanned" else 14.0, rng)
    # Dust specks: isolated dots of a few pixels, what speck removal is meant to take out.
    h, w = out.shape[:2]
    np_rng = np.random.default_rng(rng.randrange(2**32))
    count = 150 if quality == "scanned" else 600
    ys, xs = np_rng.integers(2, h - 3, count), np_rng.integers(2, w - 3, count)
    sizes = np_rng.integers(1, 3, (count, 2))
    for y, x, (dy, dx) in zip(ys, xs, sizes, strict=True):
        out[y : y + dy, x : x + dx] = 40
    buffer = io.BytesIO()
    Image.fromarray(out).save(buffer, "JPEG", quality=70 if quality == "scanned" else 45)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), angle


def generate_page(
    seed: int,
    quality: str = "clean",
    *,
    enterprise_name: str | None = None,
    uscc: str | None = None,
    skew: float | None = None,
) -> SamplePage:
    """Draw one registration-document page; the same arguments always give the same pixels.

    `skew` overrides the random skew of the quality level (degrees, counter-clockwise).
    """
    if quality not in QUALITIES:
        raise ValueError(f"unknown quality {quality!r}")
    rng = random.Random(seed)
    kind = _DOC_KINDS[rng.randrange(len(_DOC_KINDS))]
    name = enterprise_name or (
        rng.choice(_NAME_HEADS) + rng.choice(_NAME_CORES) + rng.choice(_NAME_TRADES) + rng.choice(_NAME_FORMS)
    )
    code = uscc or make_uscc(rng)
    content = _content(rng, kind, name, code)
    dpi = 200 if quality == "poor" else 300
    image, lines, boxes = _render(content, dpi, with_seal=kind[2])
    image, angle = degrade(image, quality, random.Random(seed * 7919 + len(quality)), skew)
    return SamplePage(
        image=image,
        dpi=dpi,
        text="\n".join(lines),
        doc_type=kind[0],
        title=content["title"],
        enterprise_name=name,
        uscc=code,
        doc_number=content["number"],
        doc_date=content["date"],
        skew=angle,
        quality=quality,
        line_boxes=boxes,
    )


def sample_file(page: SamplePage, fmt: str = "jpeg") -> bytes:
    """The page as a scanner would deliver it, DPI recorded in the file (JFIF density, pHYs, TIFF tags)."""
    buffer = io.BytesIO()
    dpi = (page.dpi, page.dpi)
    if fmt == "jpeg":
        page.image.save(buffer, "JPEG", quality=88, dpi=dpi)
    elif fmt == "png":
        page.image.save(buffer, "PNG", dpi=dpi)
    elif fmt == "tiff":
        page.image.save(buffer, "TIFF", compression="tiff_lzw", dpi=dpi)
    elif fmt == "pdf":
        # Pillow writes a scan-style PDF: one JPEG image per page, page size from the resolution.
        page.image.save(buffer, "PDF", resolution=float(page.dpi))
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buffer.getvalue()
