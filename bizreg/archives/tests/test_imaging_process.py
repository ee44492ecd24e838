"""Page processing on generated pages: deskew, orientation, speck removal, blank pages, checks."""

import numpy as np
import pytest

from bizreg.archives.imaging.intake import PageImage
from bizreg.archives.imaging.process import checks_for, process_page, remove_specks
from bizreg.archives.imaging.samples import generate_page


def _page(sample, image=None) -> PageImage:
    return PageImage(np.asarray(sample.image if image is None else image), sample.dpi, 0, "png")


def _red_pixels(image: np.ndarray) -> int:
    rgb = image.astype(int)
    return int(((rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)).sum())


@pytest.mark.parametrize("angle", [4.0, -4.0])
def test_deskew_measures_and_levels_a_skewed_page(angle):
    sample = generate_page(2, "clean", skew=angle)
    result = process_page(_page(sample))
    assert abs(result.skew_before - angle) <= 0.5
    assert abs(result.skew_after) <= 0.5
    assert result.rotation == 0
    assert not any(c.code == "skew" for c in result.checks)


def test_scanned_page_deskewed_within_tolerance():
    sample = generate_page(3, "scanned")
    result = process_page(_page(sample))
    assert abs(result.skew_before - sample.skew) <= 0.5
    assert abs(result.skew_after) <= 0.5
    assert result.specks_removed > 50


@pytest.mark.parametrize("turns", [1, 3])
def test_rotated_page_turned_upright(turns):
    sample = generate_page(2, "clean")
    upright = np.asarray(sample.image)
    result = process_page(_page(sample, np.ascontiguousarray(np.rot90(upright, turns))))
    assert result.rotation == (4 - turns) % 4 * 90
    assert result.image.shape == upright.shape
    # The title band at the top of the upright page holds ink again.
    assert (result.image[400:700].min(axis=2) < 100).sum() > 1000


def test_upside_down_page_turned_upright():
    sample = generate_page(2, "clean")
    result = process_page(_page(sample, np.ascontiguousarray(np.rot90(np.asarray(sample.image), 2))))
    assert result.rotation == 180


def test_specks_removed_but_seal_kept():
    sample = generate_page(2, "clean")  # an approval notice: it carries a red seal
    assert sample.doc_type == "notice_approval"
    image = np.asarray(sample.image).copy()
    red_before = _red_pixels(image)
    assert red_before > 10_000
    rng = np.random.default_rng(5)
    # Dust in the empty band under the body text, far from any character.
    ys, xs = rng.integers(2050, 2250, 80), rng.integers(150, 2300, 80)
    for y, x in zip(ys, xs, strict=True):
        image[y : y + 2, x : x + 2] = 20
    # A punched hole: a large dark disc is the original's own mark and must stay.
    yy, xx = np.ogrid[: image.shape[0], : image.shape[1]]
    hole = (yy - 3300) ** 2 + (xx - 120) ** 2 < 40**2
    image[hole] = 30
    cleaned, removed = remove_specks(image, 300)
    assert removed >= 75
    assert (cleaned[2050:2260].min(axis=2) < 100).sum() == 0
    assert _red_pixels(cleaned) == red_before
    assert (cleaned[hole] == 30).all()


def test_blank_page_detected_even_with_grain():
    rng = np.random.default_rng(1)
    blank = np.clip(rng.normal(235, 8, (3508, 2480)), 0, 255).astype(np.uint8)
    result = process_page(PageImage(blank, 300, 0, "tiff"))
    assert result.is_blank
    assert [c.code for c in result.checks] == ["blank_page"]
    assert not process_page(_page(generate_page(1, "clean"))).is_blank


def test_dark_scanner_border_cropped():
    sample = generate_page(1, "clean")
    framed = np.full((3508 + 200, 2480 + 160, 3), 15, np.uint8)
    framed[100:-100, 80:-80] = np.asarray(sample.image)
    result = process_page(PageImage(framed, 300, 0, "png"))
    x0, y0, x1, y1 = result.crop_box
    assert abs(x0 - 80) <= 12 and abs(y0 - 100) <= 12
    assert abs((framed.shape[1] - x1) - 80) <= 12 and abs((framed.shape[0] - y1) - 100) <= 12


def test_checks_follow_dat31():
    assert [c.code for c in checks_for(150, 0.0, False, for_ocr=False)] == ["dpi_low"]
    assert [c.code for c in checks_for(240, 0.0, False, for_ocr=True)] == ["dpi_low_ocr"]
    assert checks_for(240, 0.0, False, for_ocr=False) == []
    assert [c.code for c in checks_for(300, 3.5, False, for_ocr=True)] == ["skew"]
    unknown = checks_for(None, 0.0, True, for_ocr=True)
    assert [(c.code, c.severity) for c in unknown] == [("dpi_unknown", "warning"), ("blank_page", "warning")]
    poor = process_page(_page(generate_page(4, "poor")))
    assert any(c.code == "dpi_low_ocr" and c.severity == "error" for c in poor.checks)
    assert poor.has_errors
