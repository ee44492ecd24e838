"""Image processing of a scanned page per DA/T 31: border crop, orientation, deskew, speck removal, checks.

Measurements (borders, orientation, skew, blankness) run on a copy downscaled to about 1000 px, which both
keeps a 300-dpi A4 page well under a second and averages scanner grain away; the corrections are applied
to the full-resolution image. Speck removal takes out only tiny ink components with no other ink nearby,
so punctuation next to characters, seals, stains and punched holes (large components) stay as scanned.

Angles are in degrees, counter-clockwise positive (OpenCV's convention): `skew_before` is the skew of the
scan, `skew_after` the residual measured again on the result; `rotation` is the quarter turn applied
(0, 90, 180, 270, counter-clockwise) to bring the text upright.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .intake import PageImage

ANALYSIS_SIDE = 1000
MIN_DPI = 200
MIN_DPI_OCR = 300
MAX_RESIDUAL_SKEW = 3.0


@dataclass(frozen=True)
class Check:
    code: str
    message_zh: str
    severity: str  # "error" or "warning"


@dataclass
class ProcessedPage:
    image: np.ndarray  # same layout as the input: (h, w, 3) RGB or (h, w) greyscale, uint8
    dpi: int | None
    rotation: int
    skew_before: float
    skew_after: float
    is_blank: bool
    specks_removed: int = 0
    crop_box: tuple[int, int, int, int] = (0, 0, 0, 0)  # x0, y0, x1, y1 of the kept area in the scan
    checks: list[Check] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(check.severity == "error" for check in self.checks)


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _small(gray: np.ndarray) -> tuple[np.ndarray, float]:
    # An integer factor keeps INTER_AREA on its fast path (plain block averaging).
    factor = max(1, -(-max(gray.shape) // ANALYSIS_SIDE))
    if factor == 1:
        return gray, 1.0
    return cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA), 1 / factor


def paper_level(gray: np.ndarray) -> int:
    """The paper's grey level: the 90th percentile of a uint8 page (most of a page is paper)."""
    return int(np.searchsorted(np.cumsum(np.bincount(gray.ravel(), minlength=256)), 0.9 * gray.size))


def _levels(gray: np.ndarray) -> tuple[int, int]:
    """Paper level (90th percentile) and the ink cut: Otsu's split, but never within 45 levels of the paper,
    so grain on a blank page is not ink."""
    paper = paper_level(gray)
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return paper, int(min(otsu, paper - 45))


def _ink(gray: np.ndarray) -> np.ndarray:
    return gray < _levels(gray)[1]


def _border_box(small: np.ndarray) -> tuple[int, int, int, int]:
    """Trim rows/columns at the edges that are mostly dark: the scanner lid or background around the sheet."""
    dark = small < 70
    y0, y1, x0, x1 = 0, small.shape[0], 0, small.shape[1]
    for _ in range(2):
        rows = dark[y0:y1, x0:x1].mean(axis=1)
        while y1 - y0 > 10 and rows[0] > 0.6:
            y0, rows = y0 + 1, rows[1:]
        while y1 - y0 > 10 and rows[-1] > 0.6:
            y1, rows = y1 - 1, rows[:-1]
        cols = dark[y0:y1, x0:x1].mean(axis=0)
        while x1 - x0 > 10 and cols[0] > 0.6:
            x0, cols = x0 + 1, cols[1:]
        while x1 - x0 > 10 and cols[-1] > 0.6:
            x1, cols = x1 - 1, cols[:-1]
    return x0, y0, x1, y1


def _profile_score(ys: np.ndarray, xs: np.ndarray, angle: float, height: int) -> float:
    theta = np.deg2rad(angle)
    # Row of each ink pixel after rotating the page by `angle` (counter-clockwise) about the origin.
    rows = (ys * np.cos(theta) + xs * np.sin(theta)).astype(np.int64) + height
    counts = np.bincount(rows)
    return float(np.dot(counts, counts))


def measure_skew(gray_small: np.ndarray, limit: float = 10.0) -> float:
    """Skew in degrees (CCW positive) from the horizontal projection profile of ink pixels.

    Text lines give the sharpest profile (largest sum of squared row counts) when rotated level; a coarse
    0.5° search is refined to 0.05°.
    """
    ink = _ink(gray_small)
    h, w = ink.shape
    margin_y, margin_x = h // 30, w // 30
    ink[:margin_y], ink[h - margin_y :], ink[:, :margin_x], ink[:, w - margin_x :] = (
        False,
        False,
        False,
        False,
    )
    ys, xs = np.nonzero(ink)
    if len(ys) < 200:
        return 0.0
    if len(ys) > 60_000:
        pick = np.random.default_rng(0).choice(len(ys), 60_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys, xs = ys.astype(np.float64), xs.astype(np.float64) - w / 2
    best = max(np.arange(-limit, limit + 0.01, 0.5), key=lambda a: _profile_score(ys, xs, a, h + w))
    best = max(np.arange(best - 0.5, best + 0.51, 0.05), key=lambda a: _profile_score(ys, xs, a, h + w))
    return round(float(best), 2)


def _text_is_vertical(gray_small: np.ndarray) -> bool:
    """Horizontal lines of text make the row profile far more contrasted than the column profile."""
    ink = _ink(gray_small).astype(np.float32)
    if ink.sum() < 100:
        return False
    rows, cols = ink.mean(axis=1), ink.mean(axis=0)
    # Smooth over about a character so single strokes do not count as lines.
    k = max(3, gray_small.shape[0] // 150)
    rows = np.convolve(rows, np.ones(k) / k, mode="same")
    cols = np.convolve(cols, np.ones(k) / k, mode="same")
    return float(cols.std() / (cols.mean() + 1e-9)) > 1.3 * float(rows.std() / (rows.mean() + 1e-9))


def _line_crops(rgb: np.ndarray, gray: np.ndarray, max_lines: int = 6) -> list[np.ndarray]:
    """Crops of the widest text lines (ink smeared horizontally into blobs), as BGR images."""
    small, scale = _small(gray)
    ink = _ink(small).astype(np.uint8)
    blobs = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(blobs)
    candidates = [
        stats[i]
        for i in range(1, count)
        if stats[i][2] > 4 * stats[i][3] and stats[i][3] >= 4 and stats[i][2] > 40
    ]
    candidates.sort(key=lambda s: -s[2])
    crops = []
    for x, y, w, h, _ in candidates[:max_lines]:
        pad = 2
        x0, y0 = max(0, int((x - pad) / scale)), max(0, int((y - pad) / scale))
        x1, y1 = int((x + w + pad) / scale), int((y + h + pad) / scale)
        crop = rgb[y0:y1, x0:x1]
        if crop.size:
            crops.append(np.ascontiguousarray(crop[..., ::-1]) if crop.ndim == 3 else cv2.merge([crop] * 3))
    return crops


def _upside_down(image: np.ndarray, gray: np.ndarray) -> bool:
    """Majority vote of the PP-OCR direction classifier over the page's longest lines."""
    crops = _line_crops(image, gray)
    if not crops:
        return False
    from .ocr import get_engine, inference_lock

    classifier = get_engine()._load_cls_model()
    with inference_lock:
        result = classifier(crops)
    votes = [score for label, score in result.cls_res if label == "180" and score > 0.8]
    return len(votes) * 2 > len(crops)


def _rotate_quarter(image: np.ndarray, quarter: int) -> np.ndarray:
    codes = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}
    return image if quarter % 4 == 0 else cv2.rotate(image, codes[quarter % 4])


def _deskew(image: np.ndarray, skew: float, paper: int) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
    fill = paper if image.ndim == 2 else (paper, paper, paper)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def remove_specks(
    image: np.ndarray, dpi: int | None, gray: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Paint over isolated ink specks (under ~0.2 mm across, nothing else within ~1.5 mm); returns the count.

    "Nothing nearby" is judged on the downscaled page, where a speck of a few pixels averages away while
    characters, seals and stains remain ink.
    """
    gray = _gray(image) if gray is None else gray
    small, scale = _small(gray)
    paper, cut = _levels(small)
    ink = (gray < cut).astype(np.uint8)
    res = (dpi or 300) / 300
    max_area = max(2, int(12 * res * res))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small_comp = np.zeros(count, dtype=bool)
    small_comp[1:] = stats[1:, cv2.CC_STAT_AREA] <= max_area
    if not small_comp.any():
        return image, 0
    reach = max(3, int(18 * res * scale) * 2 + 1)
    near = cv2.dilate(
        (small < cut).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach))
    )
    cx = np.clip((centroids[:, 0] * scale).astype(int), 0, near.shape[1] - 1)
    cy = np.clip((centroids[:, 1] * scale).astype(int), 0, near.shape[0] - 1)
    isolated = small_comp & (near[cy, cx] == 0)
    isolated[0] = False
    removed = int(isolated.sum())
    if not removed:
        return image, 0
    out = image.copy()
    for i in np.flatnonzero(isolated):
        x, y, w, h, _ = stats[i]
        # One pixel more on each side so the speck's blurred rim goes too.
        out[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1] = paper
    return out, removed


def is_blank(gray_small: np.ndarray) -> bool:
    """Blank when ink covers under 0.05 % of the page inside a 5 % margin after specks are ignored."""
    h, w = gray_small.shape
    inner = gray_small[h // 20 : h - h // 20, w // 20 : w - w // 20]
    ink = _ink(inner).astype(np.uint8)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return int(ink.sum()) < 0.0005 * inner.size


def checks_for(dpi: int | None, skew_after: float, blank: bool, *, for_ocr: bool) -> list[Check]:
    """Quality checks per DA/T 31 (resolution) and the local QA rule on residual skew."""
    checks = []
    if dpi is None:
        checks.append(
            Check("dpi_unknown", "文件未记录扫描分辨率，请核实不低于 200 dpi（OCR 需 300 dpi）。", "warning")
        )
    elif dpi < MIN_DPI:
        checks.append(Check("dpi_low", f"扫描分辨率 {dpi} dpi 低于 {MIN_DPI} dpi 的最低要求。", "error"))
    elif for_ocr and dpi < MIN_DPI_OCR:
        checks.append(
            Check(
                "dpi_low_ocr",
                f"扫描分辨率 {dpi} dpi 低于 OCR 所需的 {MIN_DPI_OCR} dpi（≥300 dpi）。",
                "error",
            )
        )
    if abs(skew_after) > MAX_RESIDUAL_SKEW:
        checks.append(
            Check(
                "skew",
                f"纠偏后仍倾斜 {abs(skew_after):.1f}°，超过 {MAX_RESIDUAL_SKEW:.0f}° 的要求。",
                "error",
            )
        )
    if blank:
        checks.append(Check("blank_page", "疑似空白页，请核对是否漏扫或多扫。", "warning"))
    return checks


def process_page(page: PageImage, *, for_ocr: bool = True, fix_orientation: bool = True) -> ProcessedPage:
    """Crop, orient, deskew and clean one page image, and check it."""
    image = page.image
    gray = _gray(image)
    small, scale = _small(gray)
    x0, y0, x1, y1 = _border_box(small)
    box = (
        int(x0 / scale),
        int(y0 / scale),
        min(gray.shape[1], int(x1 / scale)),
        min(gray.shape[0], int(y1 / scale)),
    )
    if box != (0, 0, gray.shape[1], gray.shape[0]):
        image = image[box[1] : box[3], box[0] : box[2]]
        gray = gray[box[1] : box[3], box[0] : box[2]]
        small, scale = _small(gray)

    blank = is_blank(small)
    rotation = 0
    if fix_orientation and not blank:
        quarter = 1 if _text_is_vertical(small) else 0
        if quarter:
            image, gray = _rotate_quarter(image, quarter), _rotate_quarter(gray, quarter)
            small, scale = _small(gray)
        if _upside_down(image, gray):
            quarter += 2
            image, gray = _rotate_quarter(image, 2), _rotate_quarter(gray, 2)
            small, scale = _small(gray)
        rotation = (quarter % 4) * 90

    skew_before = 0.0 if blank else measure_skew(small)
    paper = _levels(small)[0]
    if abs(skew_before) >= 0.1:
        image = _deskew(image, skew_before, paper)
        gray = _gray(image)
        small, scale = _small(gray)
    skew_after = 0.0 if blank else measure_skew(small, limit=3.0)

    image, specks = remove_specks(image, page.dpi, gray)
    return ProcessedPage(
        image=image,
        dpi=page.dpi,
        rotation=rotation,
        skew_before=skew_before,
        skew_after=skew_after,
        is_blank=blank,
        specks_removed=specks,
        crop_box=box,
        checks=checks_for(page.dpi, skew_after, blank, for_ocr=for_ocr),
    )
