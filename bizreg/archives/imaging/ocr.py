"""OCR of page images with RapidOCR (PP-OCR models bundled in the wheel; nothing is downloaded).

One engine per process, created on first use: loading the models takes seconds, so a worker pays it
once. The models run on OpenVINO (RapidOCR's `openvino` engine, same .onnx files): on this project's
pages it ran them about 1.6× as fast as onnxruntime with the same text (bench/RESULTS.md, ocr_pipeline
2026-12-03 night and 2026-12-06). BIZREG_OCR_ENGINE=onnxruntime switches back, for a CPU OpenVINO does
not support. An OpenVINO session holds one infer request, which is not thread-safe, so every model call
goes through `inference_lock`; a worker process runs one page at a time anyway.

`recognize` calls the detector and the recogniser itself instead of the engine's one-call path: detection
on a copy at most DETECT_SIDE px long, recognition on crops of the full-resolution image (cut with
RapidOCR's own perspective crop), one line per call. The detector's cost grows with the pixels it sees
and was most of a page's OCR time at RapidOCR's 2000 px; it finds the lines of a ~1000 px page as well,
once each box is lengthened a little at both ends (`_widen`). The sizes tried are in bench/RESULTS.md.
The angle classifier is not run: process_page has already turned the page upright (quarter turns and
the same classifier's vote on its longest lines).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

_engine: Any = None
_engine_lock = threading.Lock()
# Held around every call of a model (detector, recogniser, direction classifier): see the module doc.
inference_lock = threading.Lock()

SUPPORTED_ENGINES = ("openvino", "onnxruntime")
OCR_ENGINE = os.environ.get("BIZREG_OCR_ENGINE", "openvino")

# Longest side of the copy the text detector sees (RapidOCR's default is 2000 for detection and recognition).
DETECT_SIDE = int(os.environ.get("BIZREG_OCR_DETECT_SIDE", "1024"))
OCR_THREADS = int(os.environ.get("BIZREG_OCR_THREADS", "1"))
# Ink for `_ink_area`: this many grey levels under the paper, in marks of at least INK_MIN_AREA px; and
# the margin kept around it (px of the detector's copy, about two lines of body text at 1024 px).
INK_CONTRAST = 25
INK_MIN_AREA = 6
INK_MARGIN = 32
# How far a detected line's box is lengthened at each end, as a fraction of its height.
WIDEN = 0.25


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


def engine_params() -> dict[str, Any]:
    """RapidOCR's settings for this project (its defaults otherwise).

    - The inference engine: OCR_ENGINE (env BIZREG_OCR_ENGINE: openvino, the default, or onnxruntime).
    - Inference threads: OCR_THREADS per process (env BIZREG_OCR_THREADS, default 1). OCR workers run one
      process per core; more threads per process only make them compete for the same cores.
    - The detector gets the copy `_detect` made as it is (`max` limit above any page): its default
      enlarges an image until its short side is 736 px, which made a 1024 px copy 1040 px and a
      one-line crop several times its size.
    - One line per recognition call: a batch pads every crop to the widest one in it, which costs time
      and changed how full-width punctuation at a line's end was read.
    """
    from rapidocr import EngineType

    if OCR_ENGINE not in SUPPORTED_ENGINES:
        raise ValueError(f"BIZREG_OCR_ENGINE={OCR_ENGINE!r}: use one of {', '.join(SUPPORTED_ENGINES)}")
    engine = EngineType(OCR_ENGINE)
    threads = {
        EngineType.OPENVINO: "EngineConfig.openvino.inference_num_threads",
        EngineType.ONNXRUNTIME: "EngineConfig.onnxruntime.intra_op_num_threads",
    }[engine]
    params = {
        "Global.log_level": "warning",
        "Det.engine_type": engine,
        "Cls.engine_type": engine,
        "Rec.engine_type": engine,
        threads: OCR_THREADS,
        "Det.limit_type": "max",
        "Det.limit_side_len": 100_000,
        "Rec.rec_batch_num": 1,
    }
    if engine is EngineType.OPENVINO:
        # OpenVINO pins its threads to cores counted from the first: two worker processes would both
        # run on core 0 and leave the other idle.
        params["EngineConfig.openvino.enable_cpu_pinning"] = False
    return params


def get_engine():
    """The process-wide RapidOCR engine, created on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                from rapidocr import RapidOCR

                # Its default INFO logging prints every model load and call into the worker log.
                logging.getLogger("RapidOCR").setLevel(logging.WARNING)
                engine = RapidOCR(params=engine_params())
                detector = engine._load_det_model()
                # The detector normalises the page with its mean and std as float64 lists, which makes
                # the whole input float64 before it is cast back: float32 gives the same input in a
                # quarter of the time.
                detector.mean = np.float32(detector.mean)
                detector.std = np.float32(detector.std)
                _engine = engine
    return _engine


def to_rgb(image) -> np.ndarray:
    """A PIL image or an RGB(A)/L numpy array as a 3-channel RGB array (an alpha channel is dropped)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode in ("L", "RGB") else image.convert("RGB"))
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return image[..., :3]


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


def _ink_area(small: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the part of `small` (RGB) that holds ink, grown by `margin` px and to sides
    that are multiples of 32 inside the image; the whole image when nothing reads as ink.

    Ink is anything clearly darker than the paper (its 90th percentile level), so faint toner counts;
    specks of grain (connected areas under INK_MIN_AREA px) do not, or a grainy page would keep all of
    its margins."""
    import cv2

    from .process import paper_level

    height, width = small.shape[:2]
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    ink = (gray < paper_level(gray) - INK_CONTRAST).astype(np.uint8)
    _count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    marks = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= INK_MIN_AREA]
    if not len(marks):
        return 0, 0, width, height
    left, top = marks[:, cv2.CC_STAT_LEFT], marks[:, cv2.CC_STAT_TOP]
    right, bottom = left + marks[:, cv2.CC_STAT_WIDTH], top + marks[:, cv2.CC_STAT_HEIGHT]

    def span(start: int, end: int, size: int) -> tuple[int, int]:
        start, end = max(0, start - margin), min(size, end + margin)
        length = min(size, -(-(end - start) // 32) * 32)
        start = max(0, min(start, size - length))
        return start, start + length

    (x0, x1), (y0, y1) = span(left.min(), right.max(), width), span(top.min(), bottom.max(), height)
    return int(x0), int(y0), int(x1), int(y1)


def _detect(engine: Any, rgb: np.ndarray, detect_side: int) -> np.ndarray:
    """Text-line quadrilaterals (N×4×2, float32, pixels of `rgb`), found on a copy at most `detect_side` long.

    The detector only has to find where the lines are, which it does on a ~1000 px page as well as at
    full size, and its cost grows with the pixels it sees; so it gets a small copy (sides rounded to
    32 px, as the network needs), cut to the part that holds ink (a letter's blank lower half and the
    margins are most of many pages), and the boxes are moved and scaled back.
    """
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, detect_side / max(height, width))
    small_w, small_h = (max(32, round(side * scale / 32) * 32) for side in (width, height))
    small = rgb
    # Halving by area averaging has a fast exact-2× path (a 300 dpi A4 page in 2 ms, against 17 ms for
    # one area step of 2.4×); the last step, under 2×, is bilinear.
    while small.shape[1] >= 2 * small_w and small.shape[0] >= 2 * small_h:
        small = cv2.resize(small, (small.shape[1] // 2, small.shape[0] // 2), interpolation=cv2.INTER_AREA)
    small = cv2.resize(small, (small_w, small_h), interpolation=cv2.INTER_LINEAR)
    x0, y0, x1, y1 = _ink_area(small, INK_MARGIN)
    with inference_lock:
        detected = engine._load_det_model()(np.ascontiguousarray(small[y0:y1, x0:x1, ::-1]))
    if detected.boxes is None or not len(detected.boxes):
        return np.zeros((0, 4, 2), np.float32)
    boxes = (np.asarray(detected.boxes, np.float32) + np.float32([x0, y0])) * np.float32(
        [width / small_w, height / small_h]
    )
    boxes[..., 0] = boxes[..., 0].clip(0, width - 1)
    boxes[..., 1] = boxes[..., 1].clip(0, height - 1)
    return boxes


def _widen(boxes: np.ndarray, width: int, height: int, fraction: float = WIDEN) -> np.ndarray:
    """Each quadrilateral (tl, tr, br, bl) lengthened at both ends by `fraction` of its height, in its own
    direction, inside the image: the detector's box ends tight on a line's last glyph, and a full-width
    mark (：（。) cut to its ink reads as its half-width form."""
    if not len(boxes):
        return boxes
    along = boxes[:, 1] - boxes[:, 0]
    along /= np.maximum(np.linalg.norm(along, axis=1, keepdims=True), 1.0)
    line_height = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1, keepdims=True)
    shift = along * line_height * fraction
    widened = boxes.copy()
    widened[:, (0, 3)] -= shift[:, None]
    widened[:, (1, 2)] += shift[:, None]
    widened[..., 0] = widened[..., 0].clip(0, width - 1)
    widened[..., 1] = widened[..., 1].clip(0, height - 1)
    return widened


def recognize_crops(rgb: np.ndarray, boxes: np.ndarray) -> list[OcrLine]:
    """Recognise the text inside each quadrilateral of `boxes`, cut from the full-resolution `rgb`
    (no angle classifier: the pages come upright from process.process_page's orientation step).
    Lines scoring under RapidOCR's `Global.text_score` or reading as nothing are dropped, as it does."""
    from rapidocr.ch_ppocr_rec import TextRecInput
    from rapidocr.utils.process_img import get_rotate_crop_image

    if not len(boxes):
        return []
    engine = get_engine()
    # The recogniser reads BGR, as OpenCV loads images; flipping each crop is cheaper than the page.
    crops = [np.ascontiguousarray(get_rotate_crop_image(rgb, box.copy())[..., ::-1]) for box in boxes]
    with inference_lock:
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
    rgb = to_rgb(image)
    height, width = rgb.shape[:2]
    lines = recognize_crops(rgb, _widen(_detect(get_engine(), rgb, detect_side), width, height))
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
