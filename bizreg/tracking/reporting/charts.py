"""Bar charts of the tracking report as PNG bytes, drawn with Pillow in the embedded CJK font.

The same figures always give the same bytes: nothing depends on the clock or the machine's fonts (the
font is the one in bizreg/core/fonts, laid out with Pillow's basic engine so an installed libraqm cannot
change the glyph positions), the PNG carries no metadata chunk, and the encoder settings are fixed. So a
report re-rendered from its stored figures keeps the SHA-256 recorded when it was generated.

Two shapes: `column_chart` (categories along the bottom: months) and `bar_chart` (categories down the left:
long names such as appeal categories, industries, reasons). Both group several series per category.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from bizreg.core.pdf import FONT_PATH

WIDTH = 1600
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (222, 226, 230)
# Bootstrap-like hues that stay apart in greyscale print as well.
PALETTE = ((13, 110, 253), (253, 126, 20), (25, 135, 84), (111, 66, 193), (220, 53, 69))
TITLE_SIZE = 40
LABEL_SIZE = 26
SMALL_SIZE = 22
MARGIN = 36


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size, layout_engine=ImageFont.Layout.BASIC)


def _text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    return draw.textlength(text, font=_font(size))


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: float) -> str:
    """The text cut to `width` pixels with "…" when it is longer."""
    if _text_width(draw, text, size) <= width:
        return text
    while text and _text_width(draw, text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: float, lines: int = 2) -> list[str]:
    """Up to `lines` lines of at most `width` pixels, broken between any two characters (CJK text)."""
    result: list[str] = []
    rest = text
    while rest and len(result) < lines:
        cut = len(rest)
        while cut > 1 and _text_width(draw, rest[:cut], size) > width:
            cut -= 1
        result.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        result[-1] = _fit(draw, result[-1] + rest, size, width)
    return result


def nice_scale(maximum: float, ticks: int = 5) -> tuple[float, float]:
    """(axis top, step): a 1–2–5 step giving about `ticks` gridlines above `maximum`; whole numbers for
    counts, and 0–5 when everything is zero."""
    if maximum <= 0:
        return 5.0, 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if maximum == int(maximum):
        step = max(1.0, float(step))
    return step * math.ceil(maximum / step), step


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _canvas(height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    return image, ImageDraw.Draw(image)


def _header(draw: ImageDraw.ImageDraw, title: str, series: Sequence[Series], unit: str) -> int:
    """Title on the left, legend on the right; returns the y below them."""
    draw.text((MARGIN, MARGIN), title, font=_font(TITLE_SIZE), fill=INK)
    x = WIDTH - MARGIN
    y = MARGIN + (TITLE_SIZE - LABEL_SIZE) // 2
    for index in reversed(range(len(series))):
        name = series[index].name
        x -= _text_width(draw, name, LABEL_SIZE)
        draw.text((x, y), name, font=_font(LABEL_SIZE), fill=INK)
        x -= LABEL_SIZE + 10
        draw.rectangle((x, y + 4, x + LABEL_SIZE - 4, y + LABEL_SIZE), fill=PALETTE[index % len(PALETTE)])
        x -= 28
    if unit:
        draw.text((MARGIN, MARGIN + TITLE_SIZE + 24), f"单位：{unit}", font=_font(SMALL_SIZE), fill=MUTED)
    return _header_height(unit)


def _header_height(unit: str) -> int:
    return MARGIN + TITLE_SIZE + 24 + (SMALL_SIZE + 12 if unit else 0)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _empty(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float]) -> None:
    left, top, right, bottom = box
    message = "本期无数据"
    width = _text_width(draw, message, LABEL_SIZE)
    draw.text(
        ((left + right - width) / 2, (top + bottom) / 2 - LABEL_SIZE),
        message,
        font=_font(LABEL_SIZE),
        fill=MUTED,
    )


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    if not series:
        raise ValueError("a chart needs at least one series")
    for item in series:
        if len(item.values) != len(categories):
            raise ValueError(
                f"series {item.name!r} has {len(item.values)} values for {len(categories)} categories"
            )
        if any(value < 0 for value in item.values):
            raise ValueError(f"series {item.name!r} has a negative value")


def column_chart(
    *, title: str, categories: Sequence[str], series: Sequence[Series], unit: str = "", height: int = 760
) -> bytes:
    """Vertical grouped columns: one group per category (e.g. a month), one column per series."""
    _check(categories, series)
    image, draw = _canvas(height)
    top = _header(draw, title, series, unit) + 10
    maximum = max((v for s in series for v in s.values), default=0)
    axis_top, step = nice_scale(maximum)
    label_lines = 2
    bottom = height - MARGIN - label_lines * (LABEL_SIZE + 6)
    left = MARGIN + max(_text_width(draw, _number(axis_top), SMALL_SIZE), 40) + 16
    right = WIDTH - MARGIN
    plot_height = bottom - top

    def y_of(value: float) -> float:
        return bottom - plot_height * value / axis_top

    for index in range(round(axis_top / step) + 1):
        tick = index * step
        y = y_of(tick)
        draw.line((left, y, right, y), fill=GRID, width=2)
        text = _number(tick)
        draw.text(
            (left - 12 - _text_width(draw, text, SMALL_SIZE), y - SMALL_SIZE / 2 - 2),
            text,
            font=_font(SMALL_SIZE),
            fill=MUTED,
        )
    draw.line((left, bottom, right, bottom), fill=INK, width=2)
    if not categories:
        _empty(draw, (left, top, right, bottom))
        return _png(image)
    group = (right - left) / len(categories)
    bar = min(group * 0.8 / len(series), 120)
    for index, category in enumerate(categories):
        start = left + group * index + (group - bar * len(series)) / 2
        for number, item in enumerate(series):
            value = item.values[index]
            x0 = start + bar * number
            if value > 0:
                # A value far below the axis top still shows as a 2-pixel column (and never inverts).
                draw.rectangle(
                    (x0, min(y_of(value), bottom - 3), x0 + bar - 3, bottom - 1),
                    fill=PALETTE[number % len(PALETTE)],
                )
            text = _number(value)
            if _text_width(draw, text, SMALL_SIZE) <= bar + 6:
                width = _text_width(draw, text, SMALL_SIZE)
                draw.text(
                    (x0 + (bar - 3 - width) / 2, y_of(value) - SMALL_SIZE - 8),
                    text,
                    font=_font(SMALL_SIZE),
                    fill=INK,
                )
        for line_no, line in enumerate(_wrap(draw, category, LABEL_SIZE, group - 8, label_lines)):
            width = _text_width(draw, line, LABEL_SIZE)
            draw.text(
                (left + group * index + (group - width) / 2, bottom + 8 + line_no * (LABEL_SIZE + 6)),
                line,
                font=_font(LABEL_SIZE),
                fill=INK,
            )
    return _png(image)


def bar_chart(*, title: str, categories: Sequence[str], series: Sequence[Series], unit: str = "") -> bytes:
    """Horizontal grouped bars: one band per category (names down the left), one bar per series; the
    height grows with the number of categories."""
    _check(categories, series)
    bar = 30 if len(series) > 1 else 36
    band = bar * len(series) + 22
    height = int(_header_height(unit) + 20 + max(len(categories), 2) * band + SMALL_SIZE + 2 * MARGIN)
    image, draw = _canvas(height)
    top = _header(draw, title, series, unit) + 20
    label_width = min(max((_text_width(draw, c, LABEL_SIZE) for c in categories), default=120), 460)
    left = MARGIN + label_width + 20
    right = WIDTH - MARGIN - 90  # room for the value after the longest bar
    bottom = top + max(len(categories), 2) * band
    maximum = max((v for s in series for v in s.values), default=0)
    axis_top, step = nice_scale(maximum)

    def x_of(value: float) -> float:
        return left + (right - left) * value / axis_top

    for index in range(round(axis_top / step) + 1):
        tick = index * step
        x = x_of(tick)
        draw.line((x, top, x, bottom), fill=GRID, width=2)
        text = _number(tick)
        draw.text(
            (x - _text_width(draw, text, SMALL_SIZE) / 2, bottom + 8),
            text,
            font=_font(SMALL_SIZE),
            fill=MUTED,
        )
    draw.line((left, top, left, bottom), fill=INK, width=2)
    if not categories:
        _empty(draw, (left, top, right, bottom))
        return _png(image)
    for index, category in enumerate(categories):
        y0 = top + band * index + 11
        name = _fit(draw, category, LABEL_SIZE, label_width)
        draw.text(
            (left - 16 - _text_width(draw, name, LABEL_SIZE), y0 + (band - 22 - LABEL_SIZE) / 2 - 2),
            name,
            font=_font(LABEL_SIZE),
            fill=INK,
        )
        for number, item in enumerate(series):
            value = item.values[index]
            y = y0 + bar * number
            if value > 0:
                draw.rectangle(
                    (left + 1, y, max(x_of(value), left + 3), y + bar - 4),
                    fill=PALETTE[number % len(PALETTE)],
                )
            draw.text(
                (x_of(value) + 8, y + (bar - 4 - SMALL_SIZE) / 2 - 2),
                _number(value),
                font=_font(SMALL_SIZE),
                fill=INK,
            )
    return _png(image)
