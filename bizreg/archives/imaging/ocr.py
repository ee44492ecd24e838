"""OCR of page images with RapidOCR (PP-OCR models bundled in the wheel; nothing is downloaded).

One engine per process, created on first use: loading the ONNX models takes seconds, so a worker pays it
once. RapidOCR loads its det/cls/rec models lazily behind its own locks and our calls never change its
parameters, so concurrent `recognize` calls from several threads are safe.

`recognize` calls the detector and the recogniser itself instead of the engine's one-call path: detection
on a copy at most DETECT_SIDE px long, recognition on crops of the full-resolution image (cut with
RapidOCR's own perspective crop). The detector's cost grows with the pixels it sees and was most of a
page's OCR time at RapidOCR's 2000 px; see bench/RESULTS.md (ocr_pipeline, 2026-12-02 evening) for the
sizes tried: 1280 and 1536 misread full-width punctuation on more bench pages than 2000, 1664 did not.
The angle classifier is not run: process_page has already turned the page upright (quarter turns and
the same classifier's vote on its longest lines).
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

# Longest side of the copy the text detector sees (RapidOCR's default is 2000 for detection and recognition).
DETECT_SIDE = 1664


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


def _detect(engine: Any, bgr: np.ndarray, detect_side: int) -> np.ndarray:
    """Text-line quadrilaterals (N×4×2, float32, pixels of `bgr`), found on a copy at most `detect_side` long.

    The detector only has to find where the lines are, which it does as well on a ~1500 px page as at
    full size, and its cost grows with the pixels it sees; so it gets a small copy (rounded to 32 px as
    RapidOCR does) and the boxes are scaled back with RapidOCR's own mapping.
    """
    from rapidocr.utils.process_img import (
        apply_vertical_padding,
        map_boxes_to_original,
        resize_image_within_bounds,
    )

    cfg = engine.cfg.Global
    small, ratio_h, ratio_w = resize_image_within_bounds(bgr, cfg.min_side_len, detect_side)
    op_record: dict[str, Any] = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
    if cfg.use_vertical_padding:
        small, op_record = apply_vertical_padding(small, op_record, cfg.width_height_ratio, cfg.min_height)
    detected = engine._load_det_model()(small)
    if detected.boxes is None or not len(detected.boxes):
        return np.zeros((0, 4, 2), np.float32)
    height, width = bgr.shape[:2]
    boxes = map_boxes_to_original(np.asarray(detected.boxes, np.float32), op_record, height, width)
    return boxes.astype(np.float32)


def recognize_crops(bgr: np.ndarray, boxes: np.ndarray) -> list[OcrLine]:
    """Recognise the text inside each quadrilateral of `boxes`, cut from the full-resolution `bgr`
    (no angle classifier: the pages come upright from process.process_page's orientation step).
    Lines scoring under RapidOCR's `Global.text_score` or reading as nothing are dropped, as it does."""
    from rapidocr.ch_ppocr_rec import TextRecInput
    from rapidocr.utils.process_img import get_rotate_crop_image

    if not len(boxes):
        return []
    engine = get_engine()
    crops = [get_rotate_crop_image(bgr, box.copy()) for box in boxes]
    output = engine._load_rec_model()(TextRecInput(img=crops))
    if output.txts is None:
        return []
    min_score = engine.cfg.Global.text_score
    lines = []
    for box, text, score in zip(boxes, output.txts, output.scores, strict=True):
        if score < min_score or not text.strip():
            continue
        x0, y0 = box.min(axis=0)
        x1, y1 = box.max(axis=0)
        lines.append(OcrLine((int(x0), int(y0), int(round(x1)), int(round(y1))), text.strip(), float(score)))
    return lines


def recognize(image, *, detect_side: int = DETECT_SIDE) -> OcrResult:
    """Recognise the text of an upright page image (PIL image or RGB/L numpy array); boxes are in its pixels.

    Detection runs on a copy at most `detect_side` px long, recognition on crops of the full-resolution
    image: RapidOCR's one-call path shrinks the whole page to 2000 px for both, which made detection most
    of the cost and recognition read from a downscaled page."""
    bgr = to_bgr(image)
    lines = recognize_crops(bgr, _detect(get_engine(), bgr, detect_side))
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
