"""The report's charts draw any non-negative figures: a count far below the largest one still shows (the
demo year's 1 capital-increase visit next to thousands of new-enterprise visits once broke the drawing)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bizreg.tracking.reporting.charts import Series, bar_chart, column_chart


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_a_tiny_value_beside_a_huge_one_is_drawn(chart):
    png = chart(
        title="走访户次",
        categories=["新落户企业", "增资", "新设分支机构"],
        series=[Series("完成", (4321.0, 1.0, 0.0))],
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 1600
    # Same figures, same bytes.
    assert png == chart(
        title="走访户次",
        categories=["新落户企业", "增资", "新设分支机构"],
        series=[Series("完成", (4321.0, 1.0, 0.0))],
    )


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_a_negative_value_is_refused(chart):
    with pytest.raises(ValueError, match="negative"):
        chart(title="净迁入", categories=["1月"], series=[Series("净迁入", (-3.0,))])
