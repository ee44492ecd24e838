"""Detection on a downscaled copy, recognition on full-resolution crops: boxes land on the drawn lines."""

import io

import numpy as np
import pytest
from PIL import Image

from bizreg.archives.imaging.intake import PageImage
from bizreg.archives.imaging.ocr import (
    _ink_area,
    _widen,
    character_error_rate,
    recognize,
    recognize_crops,
    to_rgb,
)
from bizreg.archives.imaging.process import process_page
from bizreg.archives.imaging.samples import generate_page


@pytest.fixture(scope="module")
def clean_page():
    return generate_page(11, "clean")


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Intersection over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller


def test_sample_page_line_boxes_match_its_lines(clean_page):
    lines = clean_page.text.splitlines()
    assert len(clean_page.line_boxes) == len(lines)
    width, height = clean_page.image.size
    for x0, y0, x1, y1 in clean_page.line_boxes:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    # Lines are listed top to bottom.
    tops = [box[1] for box in clean_page.line_boxes]
    assert tops == sorted(tops)


@pytest.mark.parametrize("detect_side", [960, 1536])
def test_boxes_are_in_pixels_of_the_given_image(clean_page, detect_side):
    # A 2480×3508 page detected on a copy 960 or 1536 px long: each drawn line must be covered by an OCR
    # box, which fails if the boxes were left in the copy's pixels or scaled the wrong way.
    result = recognize(clean_page.image, detect_side=detect_side)
    assert character_error_rate(result.text, clean_page.text) < 0.02
    for truth in clean_page.line_boxes:
        assert max(_overlap(truth, line.box) for line in result.lines) > 0.8


def test_recognition_on_true_line_boxes_reads_the_page(clean_page):
    quads = np.asarray(
        [
            [[x0 - 6, y0 - 6], [x1 + 6, y0 - 6], [x1 + 6, y1 + 6], [x0 - 6, y1 + 6]]
            for x0, y0, x1, y1 in clean_page.line_boxes
        ],
        np.float32,
    )
    lines = recognize_crops(to_rgb(clean_page.image), quads)
    assert [line.text.replace(" ", "") for line in lines][0] == clean_page.title
    assert character_error_rate("".join(line.text for line in lines), clean_page.text) < 0.02


def test_no_boxes_means_no_lines(clean_page):
    assert recognize_crops(to_rgb(clean_page.image), np.zeros((0, 4, 2), np.float32)) == []


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_an_rgba_or_grey_array_is_read_like_the_rgb_page(clean_page, mode):
    x0, y0, x1, y1 = clean_page.line_boxes[0]
    line = clean_page.image.crop((x0 - 20, y0 - 20, x1 + 20, y1 + 20)).convert(mode)
    assert recognize(np.asarray(line)).text.replace(" ", "") == clean_page.title


def test_small_image_is_not_enlarged_for_detection(clean_page):
    # The title line alone, far under the detection size: boxes stay inside the crop.
    x0, y0, x1, y1 = clean_page.line_boxes[0]
    crop = np.asarray(clean_page.image)[y0 - 20 : y1 + 20, x0 - 20 : x1 + 20]
    result = recognize(crop)
    assert result.text.replace(" ", "") == clean_page.title
    height, width = crop.shape[:2]
    assert all(
        0 <= line.box[0] < line.box[2] <= width and 0 <= line.box[1] < line.box[3] <= height
        for line in result.lines
    )


def test_boxes_are_lengthened_at_both_ends_by_a_quarter_of_their_height_inside_the_image():
    level = [[100, 50], [500, 50], [500, 90], [100, 90]]
    at_edge = [[5, 200], [795, 200], [795, 240], [5, 240]]
    # Turned by about 10°: it grows along its own direction, not along the x axis.
    tilted = [[100, 300], [494, 369], [487, 409], [93, 340]]
    out = _widen(np.asarray([level, at_edge, tilted], np.float32), 800, 600)
    assert out[0].tolist() == [[90, 50], [510, 50], [510, 90], [90, 90]]
    assert out[1][:, 0].tolist() == [0, 799, 799, 0]
    top = out[2][1] - out[2][0]
    grown = np.linalg.norm(top) - np.linalg.norm(np.subtract(tilted[1], tilted[0]))
    assert grown == pytest.approx(0.5 * np.linalg.norm(np.subtract(tilted[3], tilted[0])), abs=0.05)
    assert top[1] / top[0] == pytest.approx(69 / 394, abs=1e-3)
    assert _widen(np.zeros((0, 4, 2), np.float32), 800, 600).shape == (0, 4, 2)


def test_full_width_punctuation_at_a_line_end_is_read_full_width():
    # A poor scan as the pipeline reads it (processed, stored as JPEG 85, read back). The detector's box
    # ends at the last glyph's ink; cut there, this page's two "：" at line ends were read as ":".
    page = generate_page(20261204, "poor")
    processed = process_page(PageImage(np.asarray(page.image), page.dpi, 0, "png"), for_ocr=True)
    stored = io.BytesIO()
    Image.fromarray(processed.image).save(stored, "JPEG", quality=85)
    text = recognize(Image.open(stored)).text
    assert not set(":;()") & set(text)
    assert text.count("：") == page.text.count("：") >= 2


def _paper(height: int = 1024, width: int = 736, level: int = 235) -> np.ndarray:
    return np.full((height, width, 3), level, np.uint8)


def test_detection_skips_the_blank_margins_and_keeps_faint_marks_but_not_grain():
    page = _paper()
    page[120:400, 80:650] = 30  # the body text
    x0, y0, x1, y1 = _ink_area(page, 32)
    assert (x0, y0) == (48, 88) and x1 >= 682 and y1 >= 432
    assert (x1 - x0) % 32 == 0 and (y1 - y0) % 32 == 0
    page[450:1020:9, 5:730:23] = 90  # grain: single dark pixels over the blank half and the margins
    page[451:1020:18, 16:730:46] = 90  # ... some of them two pixels
    assert _ink_area(page, 32) == (x0, y0, x1, y1)
    page[900:906, 300:340] = 235 - 30  # a faint footer, 30 levels under the paper
    assert _ink_area(page, 32)[3] >= 906 + 32 or _ink_area(page, 32)[3] == 1024


def test_a_blank_page_is_detected_whole():
    assert _ink_area(_paper(), 32) == (0, 0, 736, 1024)


def test_lines_far_apart_on_a_mostly_blank_page_are_all_read(clean_page):
    # The title at the top and a line pasted near the foot: the area detected spans both.
    image = np.asarray(clean_page.image).copy()
    x0, y0, x1, y1 = clean_page.line_boxes[0]
    height = y1 - y0
    image[3200 : 3200 + height + 40, x0 - 20 : x1 + 20] = image[y0 - 20 : y1 + 20, x0 - 20 : x1 + 20]
    image[y1 + 40 : 3150] = 255
    result = recognize(image)
    assert [line.text.replace(" ", "") for line in result.lines] == [clean_page.title] * 2
    assert result.lines[1].box[1] > 3150
