"""OCR of page images with RapidOCR (PP-OCR models bundled in the wheel; nothing is downloaded).

One engine per process, created on first use: loading the ONNX models takes seconds, so a worker pays it
once. RapidOCR loads its det/cls/rec models lazily behind its own locks and our calls never change its
parameters, so concurrent `recognize` calls from several threads are safe.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

_engine: Any = None
_engine_lock = threading.Lock()


@dataclass(frozen=True)
class OcrLine:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the recognised image
    text: str
    score: float


@dataclass
class OcrResult:
    text: str
    lines: list[OcrLine] = field(default_factory=list)
    confidence: float = 0.0


def get_engine():
    """The process-wide RapidOCR engine, created on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                from rapidocr import RapidOCR

                # Its default INFO logging prints every model load and call into the worker log.
                logging.getLogger("RapidOCR").setLevel(logging.WARNING)
                _engine = RapidOCR(params={"Global.log_level": "warning"})
    return _engine


def to_bgr(image) -> np.ndarray:
    """A PIL image or an RGB/L numpy array as the 3-channel BGR array the engine expects."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[..., None], 3, axis=2))
    return np.ascontiguousarray(image[..., 2::-1])


def _rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Group lines whose vertical extents overlap by half of the smaller height into rows, top to bottom."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda item: (item.box[1] + item.box[3]) / 2):
        y0, y1 = line.box[1], line.box[3]
        if rows:
            ry0 = min(item.box[1] for item in rows[-1])
            ry1 = max(item.box[3] for item in rows[-1])
            overlap = min(y1, ry1) - max(y0, ry0)
            if overlap > 0.5 * min(y1 - y0, ry1 - ry0):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda item: item.box[0]) for row in rows]


def order_lines(lines: list[OcrLine]) -> tuple[list[OcrLine], str]:
    """Reading order (rows top to bottom, left to right within a row) and the text, one row per line."""
    rows = _rows(lines)
    ordered = [line for row in rows for line in row]
    text = "\n".join(" ".join(line.text for line in row) for row in rows)
    return ordered, text


def recognize(image) -> OcrResult:
    """Recognise the text of a page image (PIL image or RGB/L numpy array)."""
    output = get_engine()(to_bgr(image))
    if output.boxes is None or output.txts is None or not len(output.txts):
        return OcrResult(text="", lines=[], confidence=0.0)
    lines = []
    for box, text, score in zip(output.boxes, output.txts, output.scores, strict=True):
        points = np.asarray(box, dtype=float)
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        lines.append(OcrLine((int(x0), int(y0), int(round(x1)), int(round(y1))), text.strip(), float(score)))
    lines = [line for line in lines if line.text]
    ordered, text = order_lines(lines)
    weight = sum(len(line.text) for line in ordered)
    confidence = sum(line.score * len(line.text) for line in ordered) / weight if weight else 0.0
    return OcrResult(text=text, lines=ordered, confidence=confidence)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (two-row dynamic programme)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def character_error_rate(recognised: str, truth: str) -> float:
    """CER = edit distance / length of the ground truth, whitespace ignored on both sides."""
    hyp = "".join(recognised.split())
    ref = "".join(truth.split())
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(hyp, ref) / len(ref)
